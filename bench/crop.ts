import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cropBox } from '../codec/geometry/reference-crop.ts';
import { trackingFrames } from './clip-frames.ts';
import { loadTracker, missingFaceModels } from '../codec/runners/shipped-node.ts';
import { BENCH_FPS } from './prepared-clip.ts';
import type { ClipEntry } from './manifest.ts';

/** A square region of the source frame, in source pixels, that becomes the 256x256 input. */
export interface CropBox {
  x: number;
  y: number;
  size: number;
}

export type CropDecision = { ok: true; box: CropBox } | { ok: false; reason: string };

/**
 * Where the face is. The bench uses one fixed box per clip so that every codec sees the same
 * steady input. A box may reach outside the frame (the codec's crop rule allows it): those
 * parts are filled by repeating the edge pixels (bench/prepared-clip.ts).
 */
export interface CropProvider {
  readonly name: string;
  /** One sentence that the report prints so readers know how the input was framed. */
  readonly rule: string;
  cropFor(clip: ClipEntry): Promise<CropDecision>;
}

const even = (v: number): number => 2 * Math.floor(v / 2);

/**
 * Talking-head projects publish their clips already cropped around the face as square frames
 * (FOMM/VoxCeleb style), so a square frame is taken whole. Non-square frames are wide or
 * portrait shots where the face can be anywhere: they wait for the tracker instead of getting
 * a guessed crop.
 */
export class SourceFramingCropProvider implements CropProvider {
  readonly name = 'source-framing';
  readonly rule =
    'square source frames are used whole (the publishing project\'s own face crop), scaled to 256x256; non-square clips are skipped until the face tracker exists';

  async cropFor(clip: ClipEntry): Promise<CropDecision> {
    if (clip.width !== clip.height) {
      return { ok: false, reason: `not square (${clip.width}x${clip.height}): needs the face tracker (or --crop centre)` };
    }
    return { ok: true, box: { x: 0, y: 0, size: even(clip.width) } };
  }
}

/** A guess that works for centred head-and-shoulders shots: centre square, nudged upward. */
export class CentreSquareCropProvider implements CropProvider {
  readonly name = 'centre';
  readonly rule =
    'centre square of side 0.8 x min(width, height), moved up by 10% of its side (faces sit above the frame centre), scaled to 256x256';

  async cropFor(clip: ClipEntry): Promise<CropDecision> {
    const size = even(0.8 * Math.min(clip.width, clip.height));
    const x = even((clip.width - size) / 2);
    const y = even(Math.max(0, (clip.height - size) / 2 - 0.1 * size));
    return { ok: true, box: { x, y, size } };
  }
}

// Bump when the tracker crop below changes, so cached boxes are not reused.
const TRACKER_CROP_VERSION = 1;
/** How far into a clip the tracker looks for the first face (frames at 25 fps). */
export const TRACKER_CROP_SEARCH_FRAMES = 250;

/**
 * The codec's own crop rule (codec/geometry/reference-crop.ts, the rule the decoder was trained
 * on): the tracker runs over the clip from its start at 25 fps (on the picture scaled to at most
 * 640 px, as bench/clip-frames.ts feeds it) until it finds a face; that first face frame's 468
 * landmarks give the box: side = 2 x the landmarks' larger extent, centred on their bounding
 * box. This is the box a kiloface sender fixes with its first reference, so the standard codecs
 * and kiloface code the same 256x256 picture. Boxes are cached (they cost a tracker run).
 */
export class TrackerCropProvider implements CropProvider {
  readonly name = 'tracker';
  readonly rule =
    'the codec\'s crop rule (codec/geometry/reference-crop.ts) on the tracker\'s landmarks of the first frame with a face: a square of 2 x the face\'s landmark extent around its centre, fixed for the clip, parts outside the frame edge-replicated, scaled to 256x256';

  constructor(
    private readonly dataDir: string,
    private readonly cacheDir: string,
  ) {}

  async cropFor(clip: ClipEntry): Promise<CropDecision> {
    const missing = missingFaceModels();
    if (missing.length > 0) return { ok: false, reason: `tracker crop needs ${missing.join(', ')} (or --crop source-framing)` };
    const file = join(this.dataDir, 'clips', clip.file);
    const source = await stat(file);
    const key = createHash('sha256')
      .update(JSON.stringify([TRACKER_CROP_VERSION, clip.file, clip.sha256, source.size, source.mtimeMs]))
      .digest('hex')
      .slice(0, 16);
    const cached = join(this.cacheDir, 'crops', `${key}.json`);
    try {
      return JSON.parse(await readFile(cached, 'utf8')) as CropDecision;
    } catch {
      // not cached yet
    }
    const decision = await this.track(file, clip);
    await mkdir(join(this.cacheDir, 'crops'), { recursive: true });
    const partial = `${cached}.partial-${process.pid}`;
    await writeFile(partial, JSON.stringify(decision));
    await rename(partial, cached);
    return decision;
  }

  private track(file: string, clip: ClipEntry): Promise<CropDecision> {
    return findFaceCrop(file, clip);
  }
}

/**
 * The codec's crop rule on a video file (see TrackerCropProvider): the box, in source pixels, of
 * the first frame in which the tracker finds a face, within the first TRACKER_CROP_SEARCH_FRAMES.
 */
export async function findFaceCrop(file: string, clip: Pick<ClipEntry, 'width' | 'height'>): Promise<CropDecision> {
  const tracker = await loadTracker();
  try {
    // First the first second, then (rarely needed) the whole search window; each stream is
    // read to its end so ffmpeg is never cut off mid-write.
    for (const frames of [BENCH_FPS, TRACKER_CROP_SEARCH_FRAMES]) {
      tracker.reset();
      const stream = trackingFrames(file, clip, frames);
      let box: CropBox | undefined;
      let seen = 0;
      for await (const rgb of stream.frames) {
        seen++;
        if (box) continue;
        const r = await tracker.track({ data: rgb, width: stream.width, height: stream.height, channels: 3 });
        // Back to source pixels, where the box lives.
        if (r.state === 'face') box = cropBox([r.landmarks.map((v) => v / stream.scale)]);
      }
      if (box) return { ok: true, box };
      if (seen < frames) return { ok: false, reason: `the tracker found no face in the ${seen} frames ffmpeg could read (${(seen / BENCH_FPS).toFixed(1)} s)` };
    }
    return { ok: false, reason: `the tracker found no face in the first ${TRACKER_CROP_SEARCH_FRAMES} frames (${TRACKER_CROP_SEARCH_FRAMES / BENCH_FPS} s)` };
  } finally {
    await tracker.close();
  }
}

export const CROP_RULES = ['tracker', 'source-framing', 'centre'] as const;

export function cropProviderByName(name: string, where: { dataDir: string; cacheDir: string }): CropProvider {
  if (name === 'tracker') return new TrackerCropProvider(where.dataDir, where.cacheDir);
  if (name === 'source-framing') return new SourceFramingCropProvider();
  if (name === 'centre' || name === 'center') return new CentreSquareCropProvider();
  throw new Error(`unknown crop rule "${name}" (${CROP_RULES.join(' | ')})`);
}
