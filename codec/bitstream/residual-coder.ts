import type { BitModels, BitSink, RangeDecoder } from './range-coder.ts';

// Signed integers (quantised coefficient residuals) as adaptive binary decisions, with one set of
// contexts per coefficient and per prediction mode, since a coefficient's residuals depend on both:
//   zero?  -> sign -> magnitude-1 in unary over MAX_UNARY adaptive bins -> escape: Exp-Golomb.
// Small residuals, by far the most common, cost a fraction of a bit each.

/** How a value was predicted; each mode has its own statistics. */
export enum PredictionMode {
  /** No prediction: absolute quantised values (anchors). */
  Intra = 0,
  /** Predicted from the anchor (first frame of a packet). */
  FromAnchor = 1,
  /** Predicted from the previous frame in the same packet. */
  FromPrevious = 2,
}
export const PREDICTION_MODES = 3;

const MAX_UNARY = 8;
/** Contexts per coefficient: zero flag, sign, unary bins. */
export const CONTEXTS_PER_COEFFICIENT = 2 + MAX_UNARY;
/** Largest magnitude the escape code carries: quantised geometry never comes near it. */
export const MAX_MAGNITUDE = 2 ** 20;

export function contextCount(dimensions: number): number {
  return PREDICTION_MODES * dimensions * CONTEXTS_PER_COEFFICIENT;
}

/** Where a coefficient's contexts start in the model table. */
function base(mode: PredictionMode, index: number, dimensions: number): number {
  return (mode * dimensions + index) * CONTEXTS_PER_COEFFICIENT;
}

export class ResidualCodingError extends Error {}

export function encodeResidual(encoder: BitSink, models: BitModels, mode: PredictionMode, index: number, dimensions: number, value: number): void {
  const c = base(mode, index, dimensions);
  if (value === 0) return encoder.encodeBit(models, c, 0);
  encoder.encodeBit(models, c, 1);
  encoder.encodeBit(models, c + 1, value < 0 ? 1 : 0);
  const magnitude = Math.abs(value);
  if (magnitude > MAX_MAGNITUDE) throw new ResidualCodingError(`residual ${value} too large to code`);
  const rest = magnitude - 1;
  for (let bin = 0; bin < MAX_UNARY; bin++) {
    const more = rest > bin ? 1 : 0;
    encoder.encodeBit(models, c + 2 + bin, more);
    if (!more) return;
  }
  encodeExpGolomb(encoder, rest - MAX_UNARY);
}

export function decodeResidual(decoder: RangeDecoder, models: BitModels, mode: PredictionMode, index: number, dimensions: number): number {
  const c = base(mode, index, dimensions);
  if (decoder.decodeBit(models, c) === 0) return 0;
  const negative = decoder.decodeBit(models, c + 1) === 1;
  let rest = 0;
  while (rest < MAX_UNARY && decoder.decodeBit(models, c + 2 + rest) === 1) rest++;
  if (rest === MAX_UNARY) rest += decodeExpGolomb(decoder);
  const magnitude = rest + 1;
  return negative ? -magnitude : magnitude;
}

/** Order-0 Exp-Golomb with equiprobable bits: for values beyond the unary bins. */
function encodeExpGolomb(encoder: BitSink, value: number): void {
  const v = value + 1;
  const bits = Math.floor(Math.log2(v));
  encoder.encodeDirect(bits, 5); // bit count first: at most 20, so 5 bits
  encoder.encodeDirect(v - 2 ** bits, bits);
}

function decodeExpGolomb(decoder: RangeDecoder): number {
  const bits = decoder.decodeDirect(5);
  if (bits > 21) throw new ResidualCodingError('escape code out of range');
  return 2 ** bits + decoder.decodeDirect(bits) - 1;
}
