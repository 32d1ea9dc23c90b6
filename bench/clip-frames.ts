// Frames of a shared-format clip as raw RGB, through ffmpeg, and which clips to evaluate.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { CropBox } from '../codec/geometry/reference-crop.ts';
import { CAMERA_FPS, CROP_SIZE } from '../codec/shipped.ts';
import { FFMPEG } from './ffmpeg-tools.ts';
import type { ClipEntry } from './manifest.ts';
import { edgePadding } from './prepared-clip.ts';

export const EVAL_FPS = CAMERA_FPS;

export interface FrameStream {
  width: number;
  height: number;
  frames: AsyncGenerator<Uint8Array>;
}

/**
 * Runs ffmpeg with a filter chain and yields RGB24 frames of width×height. When ffmpeg fails (not
 * a video, a damaged file) the frames end with an error naming the file and ffmpeg's reason, so a
 * file that cannot be read is never mistaken for one without a face.
 */
function rgbFrames(file: string, filter: string, width: number, height: number, maxFrames: number): FrameStream {
  const child = spawn(
    FFMPEG,
    ['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', file, '-vf', filter, '-frames:v', String(maxFrames), '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const stderr: Buffer[] = [];
  child.stderr.on('data', (d: Buffer) => stderr.push(d));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  const frameBytes = width * height * 3;
  async function* frames(): AsyncGenerator<Uint8Array> {
    let pending: Buffer = Buffer.alloc(0);
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= frameBytes) {
        yield new Uint8Array(pending.subarray(0, frameBytes));
        pending = pending.subarray(frameBytes);
      }
    }
    const code = await exited;
    if (code !== 0) {
      const reason = Buffer.concat(stderr).toString('utf8').trim().split('\n').filter(Boolean).slice(-2).join(' | ');
      throw new Error(`ffmpeg could not read ${file}: ${reason || `exit code ${code}`}`);
    }
  }
  return { width, height, frames: frames() };
}

/** The whole picture at 25 fps, scaled so its longer side is at most `maxSide` (for tracking). */
export function trackingFrames(file: string, clip: Pick<ClipEntry, 'width' | 'height'>, maxFrames: number, maxSide = 640): FrameStream & { scale: number } {
  const scale = Math.min(1, maxSide / Math.max(clip.width, clip.height));
  const width = Math.round((clip.width * scale) / 2) * 2;
  const height = Math.round((clip.height * scale) / 2) * 2;
  return { ...rgbFrames(file, `fps=${EVAL_FPS},scale=${width}:${height}:flags=area`, width, height, maxFrames), scale: width / clip.width };
}

/**
 * The crop box (source pixels) at 25 fps resampled to size×size, outside parts edge-replicated,
 * area interpolation: as models/train/data/prepare.py makes the training crops.
 */
export function croppedFrames(file: string, clip: ClipEntry, box: CropBox, maxFrames: number, size = CROP_SIZE): FrameStream {
  const { pad, filters } = edgePadding(box, clip.width, clip.height);
  const filter = [`fps=${EVAL_FPS}`, ...filters, `crop=${box.size}:${box.size}:${box.x + pad}:${box.y + pad}`, `scale=${size}:${size}:flags=area`].join(',');
  return rgbFrames(file, filter, size, size, maxFrames);
}

/** Validation people's clips when the split file describes this folder; otherwise every clip. */
export function evaluationClips(clips: ClipEntry[], splitFile: string): { clips: ClipEntry[]; note: string } {
  if (!existsSync(splitFile)) return { clips, note: 'no split file: every clip is evaluated' };
  const split = JSON.parse(readFileSync(splitFile, 'utf8')) as { val?: { people?: string[] } };
  const valPeople = new Set(split.val?.people ?? []);
  const val = clips.filter((c) => valPeople.has(c.personId));
  if (val.length === 0) return { clips, note: `none of these clips' people are in ${path.basename(splitFile)}: every clip is evaluated` };
  return { clips: val, note: `validation people of ${path.basename(splitFile)} (${valPeople.size} people, never trained on)` };
}

export function mean(values: number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
}
