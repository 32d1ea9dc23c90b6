import { describe, expect, it } from 'vitest';

import { DEFAULT_SMOOTHING } from '../../../codec/tracker/face-tracker.ts';
import { OneEuroFilter, OneEuroVectorFilter, type OneEuroParams } from '../../../codec/tracker/one-euro.ts';

const FPS = 25;
const P: OneEuroParams = { minCutoff: 1, beta: 0.5, derivativeCutoff: 1 };

/** Seeded standard normal samples (LCG + Box-Muller). */
function noise(seed: number): () => number {
  let s = seed;
  const u = () => ((s = (s * 1664525 + 1013904223) >>> 0) + 0.5) / 4294967296;
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

const std = (xs: number[]): number => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length);
};

describe('One Euro filter', () => {
  it('constant input gives exactly constant output', () => {
    const f = new OneEuroFilter(P);
    for (let i = 0; i < 100; i++) expect(f.filter(42.5, i / FPS)).toBe(42.5);
  });

  it('a step converges monotonically to the new value, faster with a larger beta', () => {
    const settleFrames = (params: OneEuroParams): number => {
      const f = new OneEuroFilter(params);
      let prev = f.filter(0, 0);
      for (let i = 1; i < 500; i++) {
        const y = f.filter(10, i / FPS);
        expect(y).toBeGreaterThanOrEqual(prev); // no overshoot, no ringing
        expect(y).toBeLessThanOrEqual(10);
        prev = y;
        if (10 - y < 0.01) return i;
      }
      return Infinity;
    };
    const slow = settleFrames({ minCutoff: 1, beta: 0, derivativeCutoff: 1 });
    const fast = settleFrames({ minCutoff: 1, beta: 1, derivativeCutoff: 1 });
    expect(slow).toBeLessThan(500);
    // beta = 0 is a plain exponential smoother: alpha = 1 / (1 + 25 / (2 pi)) per frame
    const alpha = 1 / (1 + FPS / (2 * Math.PI));
    expect(slow).toBe(Math.ceil(Math.log(0.01 / 10) / Math.log(1 - alpha)));
    expect(fast).toBeLessThan(slow);
  });

  it('attenuates jitter on a still signal (tuned parameters: std halved, frame-to-frame steps / 5)', () => {
    const randn = noise(7);
    const f = new OneEuroFilter(DEFAULT_SMOOTHING);
    const raw: number[] = [];
    const out: number[] = [];
    for (let i = 0; i < 500; i++) {
      const x = 100 + 0.3 * randn(); // 0.3 px of noise on a 100 px face
      raw.push(x);
      out.push(f.filter(x, i / FPS, 1 / 100));
    }
    expect(std(out.slice(50)) * 2).toBeLessThan(std(raw.slice(50)));
    const steps = (xs: number[]) => std(xs.slice(51).map((x, i) => x - xs[50 + i]!));
    expect(steps(out) * 5).toBeLessThan(steps(raw));
  });

  it('follows a ramp with little lag (tuned parameters, 0.25 face sizes per second: < 1 frame)', () => {
    const f = new OneEuroFilter(DEFAULT_SMOOTHING);
    const v = 1; // px per frame on a 100 px face at 25 fps
    let y = 0;
    for (let i = 0; i < 100; i++) y = f.filter(v * i, i / FPS, 1 / 100);
    const lagFrames = (v * 99 - y) / v;
    expect(lagFrames).toBeGreaterThan(0);
    expect(lagFrames).toBeLessThan(1);
  });

  it('the first sample passes; a repeated timestamp returns the previous output; reset restarts', () => {
    const f = new OneEuroFilter(P);
    expect(f.filter(3, 1)).toBe(3);
    const y = f.filter(5, 1.04);
    expect(y).toBeGreaterThan(3);
    expect(y).toBeLessThan(5);
    expect(f.filter(100, 1.04)).toBe(y);
    f.reset();
    expect(f.filter(-7, 0)).toBe(-7);
  });

  it('the vector filter is one scalar filter per channel', () => {
    const randn = noise(3);
    const vec = new OneEuroVectorFilter(3, P);
    const scalars = [0, 1, 2].map(() => new OneEuroFilter(P));
    for (let i = 0; i < 50; i++) {
      const x = [randn(), 10 + i * 0.5 + randn(), -3];
      const t = i / 30;
      const got = vec.filter(x, t, 0.5);
      x.forEach((v, c) => expect(got[c]).toBeCloseTo(scalars[c]!.filter(v, t, 0.5), 5));
    }
  });

  it('refuses bad parameters and wrong sizes', () => {
    expect(() => new OneEuroFilter({ minCutoff: 0, beta: 0, derivativeCutoff: 1 })).toThrow(RangeError);
    expect(() => new OneEuroFilter({ minCutoff: 1, beta: -1, derivativeCutoff: 1 })).toThrow(RangeError);
    expect(() => new OneEuroVectorFilter(3, P).filter([1, 2], 0)).toThrow(RangeError);
  });
});
