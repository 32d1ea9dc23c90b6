import { BitModels, MAX_STRIPPED_BYTES, RangeDecoder, RangeEncoder, type BitSink } from '../bitstream/range-coder.ts';
import {
  contextCount,
  decodeResidual,
  encodeResidual,
  MAX_MAGNITUDE,
  PredictionMode,
  ResidualCodingError,
} from '../bitstream/residual-coder.ts';
import { fail, ok, PacketType, readPacket, writePacket, type PacketHeader, type Result } from '../bitstream/packet.ts';
import type { FaceGeometry } from './face-geometry.ts';

// Geometry vectors (head pose + expression coefficients) <-> packets.
//
// Quantisation: index k_i = round(v_i / step_i), step_i = baseStep_i * 2^(q/4) for quantiser q.
// Prediction works on the integer indices, so encoder and decoder agree exactly (no drift).
// An ANCHOR (sent reliably) carries absolute indices; a FRAMES packet (sent unreliably) carries
// 1-16 frames: the first predicted from the anchor, each next one from the frame before it, so
// every FRAMES packet decodes on its own once its anchor has arrived: a lost packet costs only
// its own frames.

export const QUANTIZER_LEVELS = 32;
export const MAX_FRAMES_PER_PACKET = 16;
/** Anchors the decoder keeps, so a FRAMES packet that overtakes a newer anchor still decodes. */
const ANCHORS_KEPT = 8;

export interface GeometryCodingConfig {
  /** Values per frame. */
  dimensions: number;
  /** Quantiser step of each value at quantiser 0, in that value's unit. */
  baseSteps: ArrayLike<number>;
  /** Starting probabilities of the adaptive models (see trainPriors); default even odds. */
  priors?: ArrayLike<number>;
}

/** The coding config of a face geometry: its values, the model's quantiser steps, even odds (no priors ship). */
export function geometryCodingConfig(geometry: FaceGeometry): GeometryCodingConfig {
  return { dimensions: geometry.dimensions, baseSteps: geometry.model.baseSteps };
}

export function quantizerScale(quantizer: number): number {
  return 2 ** (quantizer / 4);
}

function checkConfig(config: GeometryCodingConfig): void {
  if (!Number.isInteger(config.dimensions) || config.dimensions < 1 || config.dimensions > 255) throw new RangeError('dimensions must be 1..255');
  if (config.baseSteps.length !== config.dimensions) throw new RangeError('one base step per dimension');
  for (let i = 0; i < config.dimensions; i++) if (!(config.baseSteps[i]! > 0)) throw new RangeError('base steps must be positive');
  if (config.priors && config.priors.length !== contextCount(config.dimensions)) throw new RangeError(`priors must have ${contextCount(config.dimensions)} entries`);
}

function freshModels(config: GeometryCodingConfig): BitModels {
  return new BitModels(config.priors ?? contextCount(config.dimensions));
}

function dequantize(indices: Int32Array, config: GeometryCodingConfig, quantizer: number): Float32Array {
  const scale = quantizerScale(quantizer);
  return Float32Array.from(indices, (k, i) => k * config.baseSteps[i]! * scale);
}

interface Anchor {
  id: number;
  quantizer: number;
  indices: Int32Array;
}

/** Codes the residuals of a run of frames after their anchor; shared by the encoder and trainPriors. */
function codeFrames(sink: BitSink, models: BitModels, anchor: Int32Array, frames: Int32Array[]): void {
  const n = anchor.length;
  let previous = anchor;
  frames.forEach((frame, j) => {
    const mode = j === 0 ? PredictionMode.FromAnchor : PredictionMode.FromPrevious;
    for (let i = 0; i < n; i++) encodeResidual(sink, models, mode, i, n, frame[i]! - previous[i]!);
    previous = frame;
  });
}

function codeIntra(sink: BitSink, models: BitModels, indices: Int32Array): void {
  for (let i = 0; i < indices.length; i++) encodeResidual(sink, models, PredictionMode.Intra, i, indices.length, indices[i]!);
}

export class GeometryEncoder {
  private anchor: Anchor | undefined;
  private nextAnchorId = 0;
  quantizer = 8;

  constructor(private readonly config: GeometryCodingConfig) {
    checkConfig(config);
  }

  get currentAnchorId(): number | undefined {
    return this.anchor?.id;
  }

  quantize(values: ArrayLike<number>, quantizer = this.quantizer): Int32Array {
    if (values.length !== this.config.dimensions) throw new RangeError(`expected ${this.config.dimensions} values, got ${values.length}`);
    const scale = quantizerScale(quantizer);
    return Int32Array.from({ length: values.length }, (_, i) => {
      const v = values[i]!;
      if (!Number.isFinite(v)) throw new RangeError(`value ${i} is not finite`);
      return Math.max(-MAX_MAGNITUDE, Math.min(MAX_MAGNITUDE, Math.round(v / (this.config.baseSteps[i]! * scale))));
    });
  }

  /** The values as a decoder will get them back (quantised at the anchor's quantiser). */
  reconstruct(values: ArrayLike<number>): Float32Array {
    const quantizer = this.anchor?.quantizer ?? this.quantizer;
    return dequantize(this.quantize(values, quantizer), this.config, quantizer);
  }

  /** A new anchor from one frame's values, at the current quantiser. Send it reliably. */
  encodeAnchor(values: ArrayLike<number>, header: Omit<PacketHeader, 'type'>): { packet: Uint8Array; reconstruction: Float32Array } {
    const indices = this.quantize(values);
    const id = this.nextAnchorId;
    this.nextAnchorId = (this.nextAnchorId + 1) % 256;
    this.anchor = { id, quantizer: this.quantizer, indices };
    const encoder = new RangeEncoder();
    codeIntra(encoder, freshModels(this.config), indices);
    const coded = encoder.finish();
    const payload = new Uint8Array(3 + coded.length);
    payload.set([id, this.quantizer, this.config.dimensions]);
    payload.set(coded, 3);
    return { packet: writePacket({ ...header, type: PacketType.GeometryAnchor }, payload), reconstruction: dequantize(indices, this.config, this.quantizer) };
  }

  /** 1-16 frames, predicted from the current anchor. `header.timestampMs` is the first frame's. */
  encodeFrames(frames: ArrayLike<number>[], intervalMs: number, header: Omit<PacketHeader, 'type'>): { packet: Uint8Array; reconstructions: Float32Array[] } {
    const anchor = this.anchor;
    if (!anchor) throw new Error('encodeAnchor must come first');
    if (frames.length < 1 || frames.length > MAX_FRAMES_PER_PACKET) throw new RangeError(`1..${MAX_FRAMES_PER_PACKET} frames per packet`);
    if (!Number.isInteger(intervalMs) || intervalMs < 1 || intervalMs > 255) throw new RangeError('intervalMs must be 1..255');
    const indices = frames.map((f) => this.quantize(f, anchor.quantizer));
    const encoder = new RangeEncoder();
    codeFrames(encoder, freshModels(this.config), anchor.indices, indices);
    const coded = encoder.finish();
    const payload = new Uint8Array(3 + coded.length);
    payload.set([anchor.id, frames.length, intervalMs]);
    payload.set(coded, 3);
    return {
      packet: writePacket({ ...header, type: PacketType.GeometryFrames }, payload),
      reconstructions: indices.map((k) => dequantize(k, this.config, anchor.quantizer)),
    };
  }
}

export interface DecodedFrame {
  /** 16-bit wrapping milliseconds, as in the packet header. */
  timestampMs: number;
  referenceId: number;
  values: Float32Array;
}

export type DecodedGeometry =
  | { kind: 'anchor'; anchorId: number; sequence: number; frame: DecodedFrame }
  | { kind: 'frames'; anchorId: number; sequence: number; frames: DecodedFrame[] }
  | { kind: 'no-face'; sequence: number; timestampMs: number; referenceId: number };

/** Parses and decodes geometry packets. Returns typed errors; never throws on bad input. */
export class GeometryDecoder {
  private readonly anchors = new Map<number, Anchor>();

  constructor(private readonly config: GeometryCodingConfig) {
    checkConfig(config);
  }

  hasAnchor(id: number): boolean {
    return this.anchors.has(id);
  }

  decode(bytes: Uint8Array): Result<DecodedGeometry> {
    try {
      return this.decodeUnsafe(bytes);
    } catch (error) {
      // Range decoding of garbage can walk into any branch; whatever it throws is a corrupt payload.
      return fail('corrupt-payload', error instanceof Error ? error.message : String(error));
    }
  }

  private decodeUnsafe(bytes: Uint8Array): Result<DecodedGeometry> {
    const parsed = readPacket(bytes);
    if (!parsed.ok) return parsed;
    const { type, sequence, timestampMs, referenceId, payload } = parsed.value;
    const n = this.config.dimensions;
    switch (type) {
      case PacketType.NoFace:
        return ok({ kind: 'no-face', sequence, timestampMs, referenceId });
      case PacketType.ReferencePicture:
      case PacketType.ReferenceRequest:
        return fail('unknown-type', `packet type ${type} carries no geometry`);
      case PacketType.GeometryFramesGuided:
        return fail('unknown-type', 'guided frames: split off the guide pictures first (codec/stream/guide-packet.ts readGuidedFrames)');
      case PacketType.GeometryAnchor: {
        if (payload.length < 3) return fail('truncated', 'anchor payload shorter than 3 bytes');
        const [id, quantizer, dimensions] = [payload[0]!, payload[1]!, payload[2]!];
        if (quantizer >= QUANTIZER_LEVELS) return fail('bad-field', `quantiser ${quantizer}`);
        if (dimensions !== n) return fail('bad-field', `anchor has ${dimensions} values, this decoder's model has ${n}`);
        const decoder = new RangeDecoder(payload.subarray(3));
        const models = freshModels(this.config);
        const indices = new Int32Array(n);
        for (let i = 0; i < n; i++) indices[i] = decodeResidual(decoder, models, PredictionMode.Intra, i, n);
        const checked = this.checkDecoded(decoder, [indices]);
        if (checked) return checked;
        this.anchors.delete(id);
        this.anchors.set(id, { id, quantizer, indices });
        if (this.anchors.size > ANCHORS_KEPT) this.anchors.delete(this.anchors.keys().next().value!);
        return ok({ kind: 'anchor', anchorId: id, sequence, frame: { timestampMs, referenceId, values: dequantize(indices, this.config, quantizer) } });
      }
      case PacketType.GeometryFrames: {
        if (payload.length < 3) return fail('truncated', 'frames payload shorter than 3 bytes');
        const [anchorId, count, intervalMs] = [payload[0]!, payload[1]!, payload[2]!];
        if (count < 1 || count > MAX_FRAMES_PER_PACKET) return fail('bad-field', `frame count ${count}`);
        if (intervalMs < 1) return fail('bad-field', 'frame interval 0');
        const anchor = this.anchors.get(anchorId);
        if (!anchor) return fail('unknown-anchor', `anchor ${anchorId} has not arrived`);
        const decoder = new RangeDecoder(payload.subarray(3));
        const models = freshModels(this.config);
        const frames: Int32Array[] = [];
        let previous = anchor.indices;
        for (let j = 0; j < count; j++) {
          const mode = j === 0 ? PredictionMode.FromAnchor : PredictionMode.FromPrevious;
          const current = new Int32Array(n);
          for (let i = 0; i < n; i++) current[i] = previous[i]! + decodeResidual(decoder, models, mode, i, n);
          frames.push(current);
          previous = current;
        }
        const checked = this.checkDecoded(decoder, frames);
        if (checked) return checked;
        return ok({
          kind: 'frames',
          anchorId,
          sequence,
          frames: frames.map((indices, j) => ({
            timestampMs: (timestampMs + j * intervalMs) % 65536,
            referenceId,
            values: dequantize(indices, this.config, anchor.quantizer),
          })),
        });
      }
    }
  }

  /** A valid stream ends within the bytes sent (the encoder drops at most MAX_STRIPPED_BYTES zeros). */
  private checkDecoded(decoder: RangeDecoder, frames: Int32Array[]): Result<DecodedGeometry> | undefined {
    if (decoder.overrun > MAX_STRIPPED_BYTES) return fail('corrupt-payload', 'payload ended before its values');
    for (const frame of frames) for (const k of frame) if (Math.abs(k) > MAX_MAGNITUDE) return fail('corrupt-payload', 'value out of range');
    return undefined;
  }
}

/** Counts the bits each context codes: for learning priors from training sequences. */
class CountingSink implements BitSink {
  readonly zeros: Float64Array;
  readonly totals: Float64Array;
  constructor(contexts: number) {
    this.zeros = new Float64Array(contexts);
    this.totals = new Float64Array(contexts);
  }
  encodeBit(_models: BitModels, context: number, bit: number): void {
    this.totals[context]! += 1;
    if (bit === 0) this.zeros[context]! += 1;
  }
  encodeDirect(): void {}
}

/**
 * Starting probabilities for the adaptive models, learned from training sequences coded the way
 * the encoder would code them (anchor = first frame, packets of `framesPerPacket`).
 */
export function trainPriors(config: GeometryCodingConfig, sequences: ArrayLike<number>[][], quantizer: number, framesPerPacket: number): Uint16Array {
  const contexts = contextCount(config.dimensions);
  const sink = new CountingSink(contexts);
  const encoder = new GeometryEncoder({ ...config, priors: undefined });
  const models = new BitModels(contexts);
  for (const sequence of sequences) {
    if (sequence.length === 0) continue;
    const indices = sequence.map((v) => encoder.quantize(v, quantizer));
    codeIntra(sink, models, indices[0]!);
    for (let start = 1; start < indices.length; start += framesPerPacket) codeFrames(sink, models, indices[0]!, indices.slice(start, start + framesPerPacket));
  }
  // Laplace smoothing: a context never seen stays at even odds.
  return Uint16Array.from({ length: contexts }, (_, c) => Math.round((2048 * (sink.zeros[c]! + 1)) / (sink.totals[c]! + 2)));
}
