/** Camera and microphone, with stand-ins when either is missing so the call still works. */
export interface LocalMedia {
  stream: MediaStream;
  /** What could not be opened and why, for the notice and the self tile. */
  problems: MediaProblems;
}

/** Why a device could not be opened: the user (or a policy) said no, there is none, or it failed. */
export type MediaProblemKind = 'blocked' | 'missing' | 'busy' | 'failed';
export interface MediaProblem {
  kind: MediaProblemKind;
  /** The browser's own words, for the console and bug reports. */
  detail: string;
}
export interface MediaProblems {
  camera?: MediaProblem;
  microphone?: MediaProblem;
}

const VIDEO_CONSTRAINTS: MediaTrackConstraints = { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 25 } };
const AUDIO_CONSTRAINTS: MediaTrackConstraints = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

/** getUserMedia's DOMException names (Media Capture spec), as the user should read them. */
export function classifyMediaError(error: unknown): MediaProblem {
  const name = (error as { name?: unknown })?.name;
  const message = (error as { message?: unknown })?.message;
  const detail = [name, message].filter((s) => typeof s === 'string' && s).join(': ') || String(error);
  if (name === 'NotAllowedError' || name === 'SecurityError') return { kind: 'blocked', detail };
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return { kind: 'missing', detail };
  if (name === 'NotReadableError' || name === 'AbortError') return { kind: 'busy', detail };
  return { kind: 'failed', detail };
}

/** "Your camera is blocked", "No microphone was found", … (and for both devices at once). */
function problemPhrase(devices: string, kind: MediaProblemKind, plural: boolean): string {
  const be = plural ? 'are' : 'is';
  if (kind === 'missing') return `No ${devices.replace(' and ', ' or ')} was found`;
  if (kind === 'blocked') return `Your ${devices} ${be} blocked`;
  if (kind === 'busy') return `Your ${devices} ${be} in use by another app`;
  return `Your ${devices} did not start`;
}

/** The self tile's words in place of a picture: never a card the others could take for video. */
export function cameraLabel(problem: MediaProblem): string {
  return problem.kind === 'blocked' ? 'camera blocked' : problem.kind === 'missing' ? 'no camera' : problem.kind === 'busy' ? 'camera in use by another app' : 'camera did not start';
}

/**
 * The notice a user reads when the camera and/or microphone could not be opened: which one, what
 * the call does without it, and how to get it back. Undefined when both opened.
 */
export function describeMediaProblems(problems: MediaProblems): { title: string; consequence: string; help: string[] } | undefined {
  const devices = (['camera', 'microphone'] as const).filter((d) => problems[d]);
  if (devices.length === 0) return undefined;
  const sameKind = devices.length === 2 && problems.camera?.kind === problems.microphone?.kind;
  const phrases = devices.map((d) => problemPhrase(d, problems[d]!.kind, false));
  const title = sameKind
    ? problemPhrase('camera and microphone', problems.camera!.kind, true)
    : phrases.map((p, i) => (i === 0 ? p : p[0]!.toLowerCase() + p.slice(1))).join(' and ');
  const consequence = problems.camera && problems.microphone
    ? 'You are in the call listen-only: you see and hear the others, they cannot see or hear you.'
    : problems.camera
      ? 'You are in the call with audio only: the others hear you but cannot see you.'
      : 'You are in the call without sound from you: the others see you but cannot hear you (you show as muted).';
  const help: string[] = [];
  const blocked = devices.filter((d) => problems[d]!.kind === 'blocked');
  if (blocked.length > 0) {
    help.push(
      `To allow ${blocked.length > 1 ? 'them' : 'it'}, open this site's settings (the icon left of the address in the address bar), set ${blocked.join(' and ')} to "Allow", then reload the page. If it stays blocked, the operating system may block the browser (on macOS: System Settings → Privacy & Security; on Windows: Settings → Privacy → Camera / Microphone).`,
    );
  }
  if (devices.some((d) => problems[d]!.kind === 'missing')) help.push('Plug in a device (or pick one in the system settings), then reload the page.');
  if (devices.some((d) => problems[d]!.kind === 'busy')) help.push('Close the other app or tab that uses it, then reload the page.');
  if (devices.some((d) => problems[d]!.kind === 'failed')) help.push('Reload the page to try again.');
  return { title: `${title}.`, consequence, help };
}

export async function openLocalMedia(): Promise<LocalMedia> {
  const problems: MediaProblems = {};
  const tracks: MediaStreamTrack[] = [];
  const open = async (kind: 'audio' | 'video'): Promise<MediaStreamTrack | undefined> => {
    try {
      const stream = await navigator.mediaDevices.getUserMedia(kind === 'video' ? { video: VIDEO_CONSTRAINTS } : { audio: AUDIO_CONSTRAINTS });
      return stream.getTracks()[0];
    } catch (error) {
      const problem = classifyMediaError(error);
      problems[kind === 'video' ? 'camera' : 'microphone'] = problem;
      console.warn(`${kind === 'video' ? 'camera' : 'microphone'}: ${problem.detail}`);
      return undefined;
    }
  };
  // One request each, so a missing camera does not also cost the microphone.
  tracks.push((await open('audio')) ?? silentAudioTrack());
  tracks.push((await open('video')) ?? standInVideoTrack());
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

/**
 * Keeps the video m-line for someone with no camera. It is never sent: the call starts with the
 * camera off (no track on the sender), so the others see "camera off", not a card they could take
 * for a picture.
 */
function standInVideoTrack(): MediaStreamTrack {
  const canvas = document.createElement('canvas');
  canvas.width = 320;
  canvas.height = 240;
  const track = canvas.captureStream(0).getVideoTracks()[0];
  if (!track) throw new Error('could not create a stand-in video track');
  return track;
}
