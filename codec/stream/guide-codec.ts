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
