import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';

// A real talking head for the fake camera: the first 10 s of a validation clip (a person of
// split-v1 never trained on) at 640x360, 25 fps. The clip is not ours to ship: tests that need a
// face the tracker finds skip without ../shared/data.
export const FACE_CLIP = path.resolve('../shared/data/clips/Rudrabha_Wav2Lip__test.mov');
export const HAVE_FACE_CLIP = existsSync(FACE_CLIP);

/** Writes (once) and returns the y4m in `dir`. */
export function clipCameraY4m(dir: string): string {
  const file = path.join(dir, 'neural-camera-640x360-10s.y4m');
  mkdirSync(dir, { recursive: true });
  if (!existsSync(file)) {
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', FACE_CLIP, '-t', '10', '-vf', 'scale=640:360,fps=25', '-pix_fmt', 'yuv420p', '-f', 'yuv4mpegpipe', file]);
  }
  return file;
}
