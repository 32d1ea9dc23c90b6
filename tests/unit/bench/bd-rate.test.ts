import { describe, expect, it } from 'vitest';
import { bdRate, paretoFront, type RdPoint } from '../../../bench/bd-rate.ts';
import { evaluatePchip, integratePchip, pchip } from '../../../bench/pchip.ts';

const curve = (rates: number[], qualities: number[]): RdPoint[] =>
  rates.map((kbps, i) => ({ kbps, quality: qualities[i]! }));

// The 4-point example used by many BD-rate tools; reference values from
// reference/bd_rate_reference.py (scipy PchipInterpolator.integrate, numpy polyfit).
const ANCHOR = curve([686.76, 309.58, 157.11, 85.95], [40.28, 37.18, 34.24, 31.42]);
const TEST = curve([893.34, 407.8, 204.93, 112.75], [40.39, 37.21, 34.17, 31.24]);

describe('BD-rate', () => {
  it('matches scipy on the worked example (piecewise cubic)', () => {
    const r = bdRate(ANCHOR, TEST, 'pchip');
    expect(r.ok && r.percent).toBeCloseTo(31.379878202397627, 9);
  });

  it('matches numpy on the worked example (classic cubic polynomial)', () => {
    const r = bdRate(ANCHOR, TEST, 'cubic-polynomial');
    expect(r.ok && r.percent).toBeCloseTo(31.3973740549095, 9);
  });

  it.each(['pchip', 'cubic-polynomial'] as const)('rate x 0.8 at equal quality gives -20%% (%s)', (method) => {
    const scaled = ANCHOR.map((p) => ({ kbps: p.kbps * 0.8, quality: p.quality }));
    const r = bdRate(ANCHOR, scaled, method);
    expect(r.ok && r.percent).toBeCloseTo(-20, 9);
    const back = bdRate(scaled, ANCHOR, method);
    expect(back.ok && back.percent).toBeCloseTo(25, 9); // 1 / 0.8 = 1.25
  });

  it('integrates only over the overlapping quality range', () => {
    // log10 R = Q / 10 for both, but the test curve covers only part of the anchor's range.
    const anchor = [30, 32, 34, 36, 38, 40].map((q) => ({ kbps: 10 ** (q / 10), quality: q }));
    const test = [34, 35, 36].map((q) => ({ kbps: 10 ** (q / 10) / 2, quality: q }));
    const r = bdRate(anchor, test);
    expect(r).toMatchObject({ ok: true, qualityRange: [34, 36] });
    expect(r.ok && r.percent).toBeCloseTo(-50, 9);
  });

  it('says why when curves do not overlap or have too few points', () => {
    const low = curve([10, 20], [20, 25]);
    const high = curve([30, 40], [30, 35]);
    expect(bdRate(low, high)).toMatchObject({ ok: false, reason: expect.stringMatching(/overlap/) });
    expect(bdRate(low, high, 'cubic-polynomial')).toMatchObject({ ok: false, reason: expect.stringMatching(/4\+/) });
  });
});

describe('Pareto front', () => {
  it('drops dominated points and collapses clamped duplicates', () => {
    const pts = curve([16, 16.2, 20, 30, 25], [0.7, 0.7, 0.8, 0.85, 0.86]);
    expect(paretoFront(pts)).toEqual(curve([16, 20, 25], [0.7, 0.8, 0.86]));
  });
});

describe('PCHIP', () => {
  it('reproduces a straight line and integrates it exactly', () => {
    const p = pchip([0, 1, 3, 4], [1, 3, 7, 9]);
    expect(evaluatePchip(p, 2)).toBeCloseTo(5, 12);
    expect(integratePchip(p, 0.5, 3.5)).toBeCloseTo(((2 * 3.5 + 1) + (2 * 0.5 + 1)) / 2 * 3, 12);
  });

  it('stays monotone where a cubic polynomial would overshoot', () => {
    const p = pchip([0, 1, 2, 3], [0, 0, 1, 1]);
    for (let x = 0; x <= 3; x += 0.05) {
      const y = evaluatePchip(p, x);
      expect(y).toBeGreaterThanOrEqual(-1e-12);
      expect(y).toBeLessThanOrEqual(1 + 1e-12);
    }
  });

  it('interpolates the data points', () => {
    const xs = [31.42, 34.24, 37.18, 40.28];
    const ys = [1.9, 2.2, 2.5, 2.8];
    const p = pchip(xs, ys);
    xs.forEach((x, i) => expect(evaluatePchip(p, x)).toBeCloseTo(ys[i]!, 12));
  });
});
