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
 * steady input; the face tracker (when it lands) will implement this by smoothing its per-frame
 * boxes over the clip.
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

export function cropProviderByName(name: string): CropProvider {
  if (name === 'source-framing') return new SourceFramingCropProvider();
  if (name === 'centre' || name === 'center') return new CentreSquareCropProvider();
  throw new Error(`unknown crop rule "${name}" (source-framing | centre)`);
}
