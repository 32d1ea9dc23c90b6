/** Camera and microphone, with stand-ins when either is missing so the call still works. */
export interface LocalMedia {
  stream: MediaStream;
  /** What could not be opened, for a notice to the user. */
  problems: string[];
}

const VIDEO_CONSTRAINTS: MediaTrackConstraints = { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 25 } };
const AUDIO_CONSTRAINTS: MediaTrackConstraints = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

export async function openLocalMedia(): Promise<LocalMedia> {
  const problems: string[] = [];
  const tracks: MediaStreamTrack[] = [];
  const open = async (kind: 'audio' | 'video'): Promise<MediaStreamTrack | undefined> => {
    try {
      const stream = await navigator.mediaDevices.getUserMedia(
        kind === 'video' ? { video: VIDEO_CONSTRAINTS } : { audio: AUDIO_CONSTRAINTS },
      );
      return stream.getTracks()[0];
    } catch (error) {
      problems.push(`${kind === 'video' ? 'camera' : 'microphone'}: ${(error as Error).message || (error as Error).name}`);
      return undefined;
    }
  };
  // One request each, so a missing camera does not also cost the microphone.
  tracks.push((await open('audio')) ?? silentAudioTrack());
  tracks.push((await open('video')) ?? placeholderVideoTrack('no camera'));
  return { stream: new MediaStream(tracks), problems };
}

/** Keeps the audio m-line (and the others' audio) working for someone with no microphone. */
function silentAudioTrack(): MediaStreamTrack {
  const context = new AudioContext();
  const destination = context.createMediaStreamDestination();
  const track = destination.stream.getAudioTracks()[0];
  if (!track) throw new Error('could not create a silent audio track');
  return track;
}

/** A card that says why there is no picture, sent at 1 fps instead of camera frames. */
function placeholderVideoTrack(text: string): MediaStreamTrack {
  const canvas = document.createElement('canvas');
  canvas.width = 320;
  canvas.height = 240;
  const ctx = canvas.getContext('2d');
  const draw = (): void => {
    if (!ctx) return;
    ctx.fillStyle = '#1d2430';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = '#c8d0dc';
    ctx.font = '20px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.fillText(text, canvas.width / 2, canvas.height / 2);
  };
  draw();
  setInterval(draw, 1000);
  const track = canvas.captureStream(1).getVideoTracks()[0];
  if (!track) throw new Error('could not create a placeholder video track');
  return track;
}
