// A tiny clip folder with a face in it, for the bench's tracker-based parts: the tracker tests'
// synthetic face (MediaPipe's detector and face mesh accept it), moving a little, written by
// ffmpeg as a y4m clip plus a MANIFEST.tsv row in the shared format (or as a video file alone).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_KILOFACE_MODEL } from '../../../bench/codecs/kiloface-codec.ts';
import { missingFaceModels } from '../../../codec/runners/shipped-node.ts';
import { DECODER_FILES } from '../../../codec/shipped.ts';
import { drawSyntheticFace } from '../../helpers/tracker/synthetic-face.ts';

export const hasFfmpeg = spawnSync('ffmpeg', ['-hide_banner', '-version']).status === 0;

/** What the whole kiloface path on a video file lacks here (ffmpeg, the decoder model folder, the face models), or null. */
export function kilofacePathMissing(): string | null {
  if (!hasFfmpeg) return 'ffmpeg is not installed';
  if (![DECODER_FILES.reference, DECODER_FILES.frame, 'model.json'].every((f) => existsSync(join(DEFAULT_KILOFACE_MODEL, f)))) {
    return 'models/kiloface-v1 is absent (reference.onnx, frame.onnx, model.json): train and export the decoder first';
  }
  const missingFaces = missingFaceModels(['detector', 'landmarks', 'canonical', 'basis']);
  return missingFaces.length > 0 ? `face models missing: ${missingFaces.join(', ')}` : null;
}

export interface FaceClipOptions {
  width: number;
  height: number;
  frames: number;
  /** Face centre at the first frame and its drawing size. */
  cx: number;
  cy: number;
  size: number;
}

export const FACE_CLIP_FILE = 'synthetic__moving_face.y4m';

/**
 * Writes the moving synthetic face as a video file: y4m (lossless) or, by the file's extension,
 * mp4 (H.264, near-lossless) as a camera recording would come.
 */
export function writeSyntheticFaceVideo(path: string, o: FaceClipOptions): void {
  const frames: Uint8Array[] = [];
  for (let i = 0; i < o.frames; i++) {
    // A slow nod and sway: enough motion for the geometry to change, small enough to track.
    const t = i / 25;
    const img = drawSyntheticFace({
      width: o.width, height: o.height, cx: o.cx + 4 * Math.sin(2 * Math.PI * 0.5 * t), cy: o.cy + 2 * Math.sin(2 * Math.PI * 0.7 * t),
      size: o.size, angle: 0.06 * Math.sin(2 * Math.PI * 0.4 * t), noise: 2, seed: 1 + i,
    });
    frames.push(img.data as Uint8Array);
  }
  const output = path.endsWith('.mp4') ? ['-c:v', 'libx264', '-crf', '12', '-pix_fmt', 'yuv420p', path] : ['-pix_fmt', 'yuv420p', '-f', 'yuv4mpegpipe', path];
  const made = spawnSync(
    'ffmpeg',
    ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${o.width}x${o.height}`, '-r', '25', '-i', '-', ...output],
    { input: Buffer.concat(frames) },
  );
  if (made.status !== 0) throw new Error(`ffmpeg could not make the synthetic face clip: ${made.stderr}`);
}

/** Writes clips/<FACE_CLIP_FILE> and MANIFEST.tsv into a new temp folder; returns the folder. */
export async function syntheticFaceDataDir(o: FaceClipOptions): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kf-bench-face-'));
  await mkdir(join(dir, 'clips'));
  writeSyntheticFaceVideo(join(dir, 'clips', FACE_CLIP_FILE), o);
  await writeFile(
    join(dir, 'MANIFEST.tsv'),
    [
      'file\tkind\twidth\theight\tfps\tframes\tduration_s\tsha256\tperson\trepo_license',
      `${FACE_CLIP_FILE}\ttalking-head\t${o.width}\t${o.height}\t25\t${o.frames}\t${o.frames / 25}\t\tT02 synthetic face\tnone`,
    ].join('\n'),
  );
  return dir;
}
