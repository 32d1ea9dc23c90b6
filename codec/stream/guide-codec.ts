import { CROP_SIZE } from '../shipped.ts';

// The guide layer of decoder v2 (issue 17): a small low-resolution picture of the 256 px crop,
// coded by a standard video codec that both ends have (WebCodecs in the browser's workers,
// ffmpeg in Node for the bench, the CLI and the tests), sent inside the kiloface stream at a
// picture rate the rate mode sets. The decoder's frame.onnx fuses it with the warped reference.
//
// The pictures must be made here exactly as models/train/data/guides.py makes the training
// guides, or the network sees artefacts it never learned:
//   256 crop -> area downscale to `side` -> codec (realtime, one keyframe, no look-ahead)
//   -> decode -> bicubic to GUIDE_INPUT_SIDE (64) -> the model's `guide` input (NCHW, u8 / 255).

/** The model's guide input is GUIDE_INPUT_SIDE x GUIDE_INPUT_SIDE RGB. */
export const GUIDE_INPUT_SIDE = 64;

export type GuideCodecName = 'av1' | 'vp9';

/** A rate mode's guide layer: one of the variants the shipped decoder was trained on (guides.py VARIANTS). */
export interface GuideLayer {
  codec: GuideCodecName;
  /** Coded picture side, px (square). */
  side: number;
  /** Guide pictures per second (the camera gives 25; every round(25/fps)-th slot, see guideSlotStride). */
  fps: number;
  /** Target payload bitrate of the guide codec, kbit/s. */
  kbps: number;
}

/** One coded guide picture. Delta pictures need every picture since the last keyframe. */
export interface GuideChunk {
  keyframe: boolean;
  data: Uint8Array;
}

/** Codes one stream of guide pictures, in order. */
export interface GuideEncoder {
  /** rgb: side x side x 3 bytes (areaDownscale of the crop). keyframe: force one (start, a receiver's request). */
  encode(rgb: Uint8Array, keyframe: boolean): Promise<GuideChunk>;
  close(): void;
}

/** Thrown by GuideDecoder.decode for a delta picture whose predecessor was lost: wait for a keyframe. */
export class GuideChainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GuideChainError';
  }
}

/** Decodes one stream of guide pictures, in order. */
export interface GuideDecoder {
  /** Returns the picture as side x side x 3 RGB bytes; GuideChainError if the chain is broken. */
  decode(chunk: GuideChunk): Promise<Uint8Array>;
  /** Forget the chain (after loss): the next chunk must be a keyframe. */
  reset(): void;
  close(): void;
}

/** Where the codec comes from: WebCodecs in the browser, ffmpeg in Node. */
export interface GuideCodecs {
  encoder(layer: GuideLayer): Promise<GuideEncoder>;
  decoder(layer: GuideLayer): Promise<GuideDecoder>;
}

/** Camera slots (25/s) between guide pictures: 10/s -> every 2.5 slots, so a fractional stride (guides.py source_frames). */
export function isGuideSlot(slotIndex: number, fps: number, slotsPerSecond = 25): boolean {
  // ffmpeg's fps filter keeps, for picture k at k/fps s, the frame nearest that time (half up):
  // slot i is a guide slot when some k has floor(k * 25 / fps + 0.5) = i.
  const k = Math.ceil(((slotIndex - 0.5) * fps) / slotsPerSecond);
  return Math.floor((k * slotsPerSecond) / fps + 0.5) === slotIndex;
}

/**
 * Area (box) downscale of an interleaved RGB(A) crop of CROP_SIZE px to side x side RGB, the
 * weights of ffmpeg's `scale=flags=area` for a downscale (each output pixel averages the input
 * area it covers, partial pixels weighted by their overlap).
 */
export function areaDownscale(rgb: ArrayLike<number>, side: number, channels: 3 | 4 = 3, size = CROP_SIZE): Uint8Array {
  const out = new Uint8Array(side * side * 3);
  const scale = size / side;
  const weights = (o: number): Array<[number, number]> => {
    const a = o * scale;
    const b = a + scale;
    const w: Array<[number, number]> = [];
    for (let i = Math.floor(a); i < Math.ceil(b) && i < size; i++) {
      const overlap = Math.min(b, i + 1) - Math.max(a, i);
      if (overlap > 1e-9) w.push([i, overlap / scale]);
    }
    return w;
  };
  const axis = Array.from({ length: side }, (_, o) => weights(o));
  for (let oy = 0; oy < side; oy++) {
    for (let ox = 0; ox < side; ox++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (const [y, wy] of axis[oy]!) for (const [x, wx] of axis[ox]!) s += wy * wx * rgb[(y * size + x) * channels + c]!;
        out[(oy * side + ox) * 3 + c] = Math.min(255, Math.max(0, Math.round(s)));
      }
    }
  }
  return out;
}

/** Stale guides the decoder was trained with: after a loss the last good picture serves this many more guide pictures, then guide_on 0. */
export const MAX_STALE_GUIDES = 4;

/**
 * A decoded side x side RGB guide picture → GUIDE_INPUT_SIDE² RGB, the model's guide input, as
 * guides.py's `scale=64:64:flags=bicubic` makes it: swscale's bicubic (B = 0, C = 0.6, i.e. Keys
 * with a = -0.6), pixel centres aligned, edge pixels repeated, weights normalised per output
 * pixel. (ffmpeg scales the decoder's YUV and converts after; this scales RGB, close to it.)
 * For side 64 it is the identity.
 */
export function guideTo64(rgb: ArrayLike<number>, side: number, out = GUIDE_INPUT_SIDE): Uint8Array {
  if (rgb.length !== side * side * 3) throw new RangeError(`expected ${side}x${side} RGB, got ${rgb.length} bytes`);
  if (side === out) return Uint8Array.from(rgb);
  const taps = bicubicTaps(side, out);
  const rows = new Float64Array(out * side * 3); // horizontal pass: out columns x side rows
  for (let y = 0; y < side; y++) {
    for (let ox = 0; ox < out; ox++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (const [x, w] of taps[ox]!) s += w * rgb[(y * side + x) * 3 + c]!;
        rows[(y * out + ox) * 3 + c] = s;
      }
    }
  }
  const result = new Uint8Array(out * out * 3);
  for (let oy = 0; oy < out; oy++) {
    for (let ox = 0; ox < out; ox++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (const [y, w] of taps[oy]!) s += w * rows[(y * out + ox) * 3 + c]!;
        result[(oy * out + ox) * 3 + c] = Math.min(255, Math.max(0, Math.round(s)));
      }
    }
  }
  return result;
}

function bicubicTaps(size: number, out: number): Array<Array<[number, number]>> {
  const kernel = (d: number): number => {
    const x = Math.abs(d);
    const a = -0.6;
    if (x < 1) return (a + 2) * x ** 3 - (a + 3) * x ** 2 + 1;
    if (x < 2) return a * x ** 3 - 5 * a * x ** 2 + 8 * a * x - 4 * a;
    return 0;
  };
  const scale = size / out;
  // Upscaling uses the kernel at the source's pixel spacing; a downscale stretches it (antialias).
  const stretch = Math.max(1, scale);
  return Array.from({ length: out }, (_, o) => {
    const centre = (o + 0.5) * scale - 0.5;
    const reach = 2 * stretch;
    const w: Array<[number, number]> = [];
    for (let i = Math.ceil(centre - reach); i <= Math.floor(centre + reach); i++) {
      const weight = kernel((i - centre) / stretch);
      if (weight !== 0) w.push([Math.min(size - 1, Math.max(0, i)), weight]);
    }
    const sum = w.reduce((t, [, v]) => t + v, 0);
    return w.map(([i, v]) => [i, v / sum] as [number, number]);
  });
}
