// Videos for Chromium's fake camera (`--use-file-for-fake-video-capture`), written under
// E2E_OUTPUT once and reused: a synthetic face (harness/y4m.ts) anywhere, and a real talking head
// cut from a shared clip where ../shared/data is there.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { writeSyntheticFaceY4m } from './y4m.ts';

/** Where the harness writes its inputs (camera videos, microphone wavs) and tests their outputs; ignored by git. */
export const E2E_OUTPUT = path.resolve('test-output/e2e');

/** The synthetic face, 320x240 at 25 fps for 5 s (Chromium loops it): written by syntheticCameraY4m. */
export const FAKE_CAMERA_Y4M = path.join(E2E_OUTPUT, 'synthetic-face-320x240.y4m');

/** Writes FAKE_CAMERA_Y4M unless it is there, and returns it. */
export async function syntheticCameraY4m(): Promise<string> {
  if (!existsSync(FAKE_CAMERA_Y4M)) {
    mkdirSync(E2E_OUTPUT, { recursive: true });
    await writeSyntheticFaceY4m(FAKE_CAMERA_Y4M, { width: 320, height: 240, fps: 25, frames: 125 });
  }
  return FAKE_CAMERA_Y4M;
}

// A real talking head for the fake camera: the first 10 s of a validation clip (a person of
// split-v1 never trained on) at 640x360, 25 fps. The clip is not ours to ship: tests that need a
// face the tracker finds skip without ../shared/data.
export const FACE_CLIP = path.resolve('../shared/data/clips/Rudrabha_Wav2Lip__test.mov');
export const HAVE_FACE_CLIP = existsSync(FACE_CLIP);

/** The talking head where the shared clip is there, else the synthetic face (for calls that check kiloface only with a real face). */
export async function faceCameraY4m(): Promise<string> {
  return HAVE_FACE_CLIP ? clipCameraY4m(E2E_OUTPUT) : syntheticCameraY4m();
}

/** Writes (once) and returns the y4m in `dir`. */
export function clipCameraY4m(dir: string): string {
  const file = path.join(dir, 'neural-camera-640x360-10s.y4m');
  mkdirSync(dir, { recursive: true });
  if (!existsSync(file)) {
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', FACE_CLIP, '-t', '10', '-vf', 'scale=640:360,fps=25', '-pix_fmt', 'yuv420p', '-f', 'yuv4mpegpipe', file]);
  }
  return file;
}
