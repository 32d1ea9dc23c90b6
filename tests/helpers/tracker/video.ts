// Test/tool side only (Node): decode a video into raw RGB frames with Debian's ffmpeg. The clips
// under ../shared/data are read in memory only, never written into the repository.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { parseManifest, type ClipEntry } from '../../../bench/manifest.ts';
import type { ImageLike } from '../../../codec/tracker/image.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const MODEL_DIR = path.join(ROOT, 'models/mediapipe');
export const FFMPEG = process.env.FFMPEG ?? '/usr/bin/ffmpeg';
export const DATA_DIR = path.resolve(process.env.KILOFACE_DATA ?? path.join(ROOT, '../shared/data'));

/** The shared MANIFEST.tsv rows (empty when the data folder is absent), read by the bench's parser. */
export function readManifest(dataDir = DATA_DIR): ClipEntry[] {
  const manifest = path.join(dataDir, 'MANIFEST.tsv');
  return existsSync(manifest) ? parseManifest(readFileSync(manifest, 'utf8')) : [];
}

export function clipPath(file: string, dataDir = DATA_DIR): string {
  return path.join(dataDir, 'clips', file);
}

/** Decodes the first `maxFrames` frames of a video to RGB24 (ffmpeg's default scaler, no resize). */
export function decodeFrames(video: string, width: number, height: number, maxFrames: number, startFrame = 0): ImageLike[] {
  const args = ['-v', 'error', '-nostdin', '-i', video];
  if (startFrame > 0) args.push('-vf', `select=gte(n\\,${startFrame})`, '-vsync', '0');
  args.push('-frames:v', String(maxFrames), '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1');
  const run = spawnSync(FFMPEG, args, { maxBuffer: width * height * 3 * maxFrames + 1024 });
  if (run.status !== 0) throw new Error(`ffmpeg failed on ${video}: ${run.stderr.toString()}`);
  const bytes = run.stdout;
  const frameBytes = width * height * 3;
  const frames: ImageLike[] = [];
  for (let off = 0; off + frameBytes <= bytes.length; off += frameBytes) {
    frames.push({ data: new Uint8Array(bytes.buffer, bytes.byteOffset + off, frameBytes), width, height, channels: 3 });
  }
  return frames;
}
