import { describe, expect, it } from 'vitest';
import { BitModels, RangeDecoder, RangeEncoder } from '../../../codec/bitstream/range-coder.ts';
import { rng } from './random.ts';
import { decodeResidual, encodeResidual, PredictionMode, contextCount } from '../../../codec/bitstream/residual-coder.ts';

describe('RangeEncoder / RangeDecoder', () => {
  it('round-trips random bits over many contexts, mixed with direct bits', () => {
    const random = rng(1);
    for (let trial = 0; trial < 50; trial++) {
      const bits = Array.from({ length: Math.floor(random() * 400) }, () => ({ ctx: Math.floor(random() * 8), bit: random() < 0.2 + 0.1 * (trial % 7) ? 1 : 0, direct: random() < 0.1 ? Math.floor(random() * 1024) : -1 }));
      const encoder = new RangeEncoder();
      const em = new BitModels(8);
      for (const b of bits) b.direct >= 0 ? encoder.encodeDirect(b.direct, 10) : encoder.encodeBit(em, b.ctx, b.bit);
      const bytes = encoder.finish();
      const decoder = new RangeDecoder(bytes);
      const dm = new BitModels(8);
      const decoded = bits.map((b) => (b.direct >= 0 ? decoder.decodeDirect(10) : decoder.decodeBit(dm, b.ctx)));
      expect(decoded).toEqual(bits.map((b) => (b.direct >= 0 ? b.direct : b.bit)));
      expect(decoder.overrun).toBeLessThanOrEqual(4);
    }
  });

  it('codes a skewed source close to its entropy, and an empty stream in no bytes', () => {
    const random = rng(2);
    const p1 = 0.05;
    const n = 4000;
    const encoder = new RangeEncoder();
    const models = new BitModels(1);
    for (let i = 0; i < n; i++) encoder.encodeBit(models, 0, random() < p1 ? 1 : 0);
    const entropyBytes = (n * -(p1 * Math.log2(p1) + (1 - p1) * Math.log2(1 - p1))) / 8;
    const size = encoder.finish().length;
    expect(size).toBeGreaterThan(entropyBytes * 0.9);
    expect(size).toBeLessThan(entropyBytes * 1.12);
    expect(new RangeEncoder().finish().length).toBe(0);
  });

  it('handles carries: long runs of likely ones after likely zeros', () => {
    const encoder = new RangeEncoder();
    const em = new BitModels(2);
    const bits = [...Array(3000).fill(0), ...Array(3000).fill(1), 0, 1, 0];
    bits.forEach((b, i) => encoder.encodeBit(em, i % 2, b));
    const decoder = new RangeDecoder(encoder.finish());
    const dm = new BitModels(2);
    expect(bits.map((_, i) => decoder.decodeBit(dm, i % 2))).toEqual(bits);
  });
});

describe('residual coding', () => {
  it('round-trips signed values from zero to the escape range', () => {
    const values = [0, 1, -1, 2, -2, 8, 9, -9, 10, 100, -1000, 65535, -1_000_000, 3, 0, 0];
    const n = 4;
    const encoder = new RangeEncoder();
    const em = new BitModels(contextCount(n));
    values.forEach((v, i) => encodeResidual(encoder, em, PredictionMode.FromAnchor, i % n, n, v));
    const decoder = new RangeDecoder(encoder.finish());
    const dm = new BitModels(contextCount(n));
    expect(values.map((_, i) => decodeResidual(decoder, dm, PredictionMode.FromAnchor, i % n, n))).toEqual(values);
  });
});
