import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CAMERA_FPS, CROP_SIZE } from '../codec/shipped.ts';
import type { CropBox } from './crop.ts';
import { FFMPEG, FFMPEG_QUIET } from './ffmpeg-tools.ts';
import type { ClipEntry } from './manifest.ts';
import { runProcess } from './process.ts';
import { parseY4m, type Yuv420Video } from './y4m.ts';

/** The common input of every codec (DESIGN.md section 5): the call's camera grid, CROP_SIZE square crops. */
export const BENCH_FPS = CAMERA_FPS;

export interface PreparedClip {
  /** Short stable id used in file names and reports. */
  id: string;
  entry: ClipEntry;
  crop: CropBox;
  y4mPath: string;
  frameCount: number;
}

// Bump when the preparation below changes, so stale cache entries are not reused.
const PREPARATION_VERSION = 2; // 2: an odd overhang no longer leaves black bars (edgePadding)

/** Raw elementary streams carry no timing (and raw YUV no size): take both from the manifest. */
function inputOptions(entry: ClipEntry): string[] {
  const ext = entry.file.toLowerCase().split('.').pop() ?? '';
  if (ext === 'yuv') {
    return ['-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-video_size', `${entry.width}x${entry.height}`, '-framerate', String(entry.fps)];
  }
  if (['264', 'h264', '265', 'hevc', 'ivf', 'obu'].includes(ext)) return ['-r', String(entry.fps)];
  return [];
}

/**
 * Short readable id for file names and tables: the clip's own path part of the shared naming
 * scheme (owner_repo__path), trimmed at word boundaries to 40 characters, with a hash of the
 * whole name added only where two files would otherwise get the same id.
 */
export function clipIds(entries: readonly ClipEntry[]): Map<string, string> {
  const tail = (file: string): string => {
    let stem = file.replace(/\.[^.]+$/, '');
    stem = stem.includes('__') ? stem.slice(stem.lastIndexOf('__') + 2) : stem;
    stem = stem.replace(/[^A-Za-z0-9_-]+/g, '_');
    while (stem.length > 40 && stem.includes('_')) stem = stem.slice(stem.indexOf('_') + 1);
    return stem.slice(-40);
  };
  const counts = new Map<string, number>();
  for (const e of entries) counts.set(tail(e.file), (counts.get(tail(e.file)) ?? 0) + 1);
  return new Map(
    entries.map((e) => {
      const t = tail(e.file);
      const unique = counts.get(t) === 1;
      return [e.file, unique ? t : `${t}-${createHash('sha256').update(e.file).digest('hex').slice(0, 6)}`];
    }),
  );
}

/**
 * ffmpeg filters that give a width x height picture `pad` more pixels on every side, made by
 * repeating its edge pixels (as models/train/data/prepare.py pads the training crops), for a crop
 * box that reaches outside the frame (the codec's crop rule allows it). The pad is even: on
 * 4:2:0 pictures ffmpeg's pad filter rounds an odd offset down, which left a column and a row of
 * black on the right and bottom that fillborders then smeared over the whole border.
 */
export function edgePadding(crop: CropBox, width: number, height: number): { pad: number; filters: string[] } {
  const overhang = Math.max(0, -crop.x, -crop.y, crop.x + crop.size - width, crop.y + crop.size - height);
  const pad = 2 * Math.ceil(overhang / 2);
  const filters = pad > 0 ? [`pad=iw+${2 * pad}:ih+${2 * pad}:${pad}:${pad}`, `fillborders=left=${pad}:right=${pad}:top=${pad}:bottom=${pad}:mode=smear`] : [];
  return { pad, filters };
}

/** ffmpeg filters that cut `crop` out of a width x height picture and scale it to CROP_SIZE square. */
export function cropFilters(crop: CropBox, width: number, height: number): string[] {
  const { pad, filters } = edgePadding(crop, width, height);
  return [...filters, `crop=${crop.size}:${crop.size}:${crop.x + pad}:${crop.y + pad}`, `scale=${CROP_SIZE}:${CROP_SIZE}:flags=lanczos`];
}

/** ffmpeg arguments that turn a source clip into the 256x256 25 fps yuv420p input. */
export function preparationArgs(sourcePath: string, entry: ClipEntry, crop: CropBox, maxFrames: number, outPath: string): string[] {
  const filters = [
    `fps=${BENCH_FPS}`, // time-based resampling: drops or repeats frames, never blends them
    ...cropFilters(crop, entry.width, entry.height),
    'format=yuv420p',
  ].join(',');
  return [...FFMPEG_QUIET, ...inputOptions(entry), '-i', sourcePath, '-an', '-vf', filters, '-frames:v', String(maxFrames), '-f', 'yuv4mpegpipe', outPath];
}

/** Make (or reuse from the cache) the prepared .y4m of one clip. */
export async function prepareClip(
  dataDir: string,
  id: string,
  entry: ClipEntry,
  crop: CropBox,
  maxFrames: number,
  cacheDir: string,
): Promise<PreparedClip> {
  const sourcePath = join(dataDir, 'clips', entry.file);
  const source = await stat(sourcePath);
  const key = createHash('sha256')
    .update(JSON.stringify([PREPARATION_VERSION, entry.file, entry.sha256, source.size, source.mtimeMs, crop, maxFrames]))
    .digest('hex')
    .slice(0, 16);
  await mkdir(cacheDir, { recursive: true });
  const y4mPath = join(cacheDir, `${id}-${key}.y4m`);
  try {
    await stat(y4mPath);
  } catch {
    const partial = `${y4mPath}.partial-${process.pid}`;
    await runProcess(FFMPEG, preparationArgs(sourcePath, entry, crop, maxFrames, partial), { nice: true });
    await rename(partial, y4mPath); // atomic: a killed run never leaves a half file under the real name
  }
  const video = await loadY4m(y4mPath);
  return { id, entry, crop, y4mPath, frameCount: video.frames.length };
}

export async function loadY4m(path: string): Promise<Yuv420Video> {
  return parseY4m(new Uint8Array(await readFile(path)));
}
