import { describe, expect, it } from 'vitest';
import { GeometryDecoder, GeometryEncoder, quantizerScale, trainPriors, type GeometryCodingConfig } from '../../../codec/geometry/geometry-coder.ts';
import { readPacket } from '../../../codec/bitstream/packet.ts';
import { rng } from './random.ts';

const DIMS = 22;
const config: GeometryCodingConfig = { dimensions: DIMS, baseSteps: Array.from({ length: DIMS }, (_, i) => 0.01 * (1 + (i % 3))) };

/** A smooth random trajectory: each value a sum of slow sines, like head pose and expression. */
function trajectory(seed: number, frames: number): Float32Array[] {
  const random = rng(seed);
  const params = Array.from({ length: DIMS }, () => ({ a: random() * 0.5 / (1 + 0.1 * DIMS), f: 0.2 + random() * 2, p: random() * 6 }));
  return Array.from({ length: frames }, (_, t) => Float32Array.from(params, ({ a, f, p }) => a * Math.sin((2 * Math.PI * f * t) / 25 + p)));
}

const header = (sequence: number, timestampMs: number) => ({ sequence, timestampMs, referenceId: 3 });

describe('GeometryEncoder / GeometryDecoder', () => {
  it('decodes exactly what the encoder reconstructs, within half a step of the input', () => {
    const encoder = new GeometryEncoder(config);
    const decoder = new GeometryDecoder(config);
    const frames = trajectory(1, 50);
    const anchor = encoder.encodeAnchor(frames[0]!, header(0, 0));
    const a = decoder.decode(anchor.packet);
    expect(a.ok && a.value.kind === 'anchor' && [...a.value.frame.values]).toEqual([...anchor.reconstruction]);
    for (let start = 1, seq = 1; start < frames.length; start += 5, seq++) {
      const batch = frames.slice(start, start + 5);
      const coded = encoder.encodeFrames(batch, 40, header(seq, start * 40));
      const result = decoder.decode(coded.packet);
      if (!result.ok || result.value.kind !== 'frames') throw new Error(`decode failed: ${JSON.stringify(result)}`);
      result.value.frames.forEach((frame, j) => {
        expect([...frame.values]).toEqual([...coded.reconstructions[j]!]);
        expect(frame.timestampMs).toBe((start + j) * 40);
        frame.values.forEach((v, i) => expect(Math.abs(v - batch[j]![i]!)).toBeLessThanOrEqual((config.baseSteps[i]! * quantizerScale(encoder.quantizer)) / 2 + 1e-7));
      });
    }
  });

  it('round-trips anchors of large values and long zero runs (escape codes, trailing zero bytes)', () => {
    const big: GeometryCodingConfig = { dimensions: 19, baseSteps: Array(19).fill(0.2) };
    const encoder = new GeometryEncoder(big);
    const decoder = new GeometryDecoder(big);
    for (const values of [
      [0.02, 0.06, -0.01, 127.2, 124, 29.6, 1.99, ...Array(12).fill(0)],
      [...Array(18).fill(0), 5000],
      Array(19).fill(0),
      Array.from({ length: 19 }, (_, i) => (i % 2 ? -1 : 1) * 2 ** i * 0.2),
    ]) {
      const anchor = encoder.encodeAnchor(values, header(0, 0));
      const result = decoder.decode(anchor.packet);
      expect(result.ok && result.value.kind === 'anchor' && [...result.value.frame.values]).toEqual([...anchor.reconstruction]);
    }
  });

  it('decodes any packet whose anchor arrived, whatever packets were lost', () => {
    const encoder = new GeometryEncoder(config);
    const decoder = new GeometryDecoder(config);
    const frames = trajectory(2, 40);
    decoder.decode(encoder.encodeAnchor(frames[0]!, header(0, 0)).packet);
    const packets = [1, 5, 9, 13, 17].map((s, k) => encoder.encodeFrames(frames.slice(s, s + 4), 40, header(k + 1, s * 40)));
    for (const k of [4, 2, 0]) expect(decoder.decode(packets[k]!.packet).ok).toBe(true); // out of order, with gaps
  });

  it('says which anchor is missing instead of guessing', () => {
    const encoder = new GeometryEncoder(config);
    const frames = trajectory(3, 5);
    encoder.encodeAnchor(frames[0]!, header(0, 0));
    const result = new GeometryDecoder(config).decode(encoder.encodeFrames(frames.slice(1), 40, header(1, 40)).packet);
    expect(result.ok ? 'ok' : result.error.code).toBe('unknown-anchor');
  });

  it('never throws and never yields NaN on corrupted or random packets', () => {
    const random = rng(4);
    const encoder = new GeometryEncoder(config);
    const frames = trajectory(5, 30);
    const anchor = encoder.encodeAnchor(frames[0]!, header(0, 0)).packet;
    const good = encoder.encodeFrames(frames.slice(1, 9), 40, header(1, 40)).packet;
    const codes = new Set<string>();
    for (let trial = 0; trial < 3000; trial++) {
      const decoder = new GeometryDecoder(config);
      decoder.decode(anchor);
      const source = trial % 3 === 0 ? anchor : good;
      let bytes: Uint8Array;
      if (trial % 4 === 0) bytes = Uint8Array.from({ length: Math.floor(random() * 40) }, () => Math.floor(random() * 256));
      else if (trial % 4 === 1) bytes = source.slice(0, Math.floor(random() * source.length));
      else {
        bytes = source.slice();
        bytes[Math.floor(random() * bytes.length)]! ^= 1 << Math.floor(random() * 8);
      }
      const result = decoder.decode(bytes);
      if (!result.ok) codes.add(result.error.code);
      else if (result.value.kind === 'frames') for (const f of result.value.frames) expect(f.values.every(Number.isFinite)).toBe(true);
      else if (result.value.kind === 'anchor') expect(result.value.frame.values.every(Number.isFinite)).toBe(true);
    }
    expect(codes.size).toBeGreaterThanOrEqual(3);
  });

  it('codes smooth motion compactly, and trained priors make it smaller', () => {
    const sizeOf = (cfg: GeometryCodingConfig, seeds: number[]): number => {
      let bytes = 0;
      for (const seed of seeds) {
        const encoder = new GeometryEncoder(cfg);
        const frames = trajectory(seed, 101);
        encoder.encodeAnchor(frames[0]!, header(0, 0));
        for (let s = 1; s < 101; s += 5) bytes += readPayloadBytes(encoder.encodeFrames(frames.slice(s, s + 5), 40, header(s, s * 40)).packet);
      }
      return bytes / seeds.length;
    };
    const plain = sizeOf(config, [10, 11, 12]);
    const priors = trainPriors(config, [20, 21, 22, 23, 24, 25].map((s) => trajectory(s, 101)), 8, 5);
    const trained = sizeOf({ ...config, priors }, [10, 11, 12]);
    console.log(`22 values x 100 frames in packets of 5: ${plain.toFixed(1)} payload bytes (even-odds start), ${trained.toFixed(1)} (trained priors)`);
    expect(trained).toBeLessThan(plain);
    // 100 frames of 22 values in well under a byte per value.
    expect(plain).toBeLessThan(100 * DIMS);
  });
});

function readPayloadBytes(packet: Uint8Array): number {
  const parsed = readPacket(packet);
  if (!parsed.ok) throw parsed.error;
  return parsed.value.payload.length;
}
