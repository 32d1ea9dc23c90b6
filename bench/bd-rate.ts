import { integratePchip, pchip } from './pchip.ts';

// Bjontegaard delta rate (VCEG-M33, 2001; piecewise cubic variant as in the JCT-VC/JVET
// reporting sheets and most current tools): interpolate log10(rate) as a function of quality
// for each codec, integrate both over the quality range where they overlap, and turn the mean
// log-rate difference into a percentage. Negative = the test codec needs fewer bits for the
// same quality. The classic variant fits one cubic polynomial per curve instead.

export interface RdPoint {
  kbps: number;
  quality: number;
}

export type BdMethod = 'pchip' | 'cubic-polynomial';

export type BdRateResult =
  | { ok: true; percent: number; qualityRange: [number, number] }
  | { ok: false; reason: string };

/**
 * The points that define a rate-quality curve: sorted by rate, keeping only those that raise
 * quality (a point that costs more bits for no better quality is dominated and dropped, and
 * several targets that the encoder clamped to the same output collapse into one).
 */
export function paretoFront(points: readonly RdPoint[]): RdPoint[] {
  const sorted = points
    .filter((p) => Number.isFinite(p.kbps) && p.kbps > 0 && Number.isFinite(p.quality))
    .sort((a, b) => a.kbps - b.kbps || b.quality - a.quality);
  const front: RdPoint[] = [];
  for (const p of sorted) if (front.length === 0 || p.quality > front[front.length - 1]!.quality) front.push(p);
  return front;
}

/**
 * Upper convex hull of rate-quality points, on a linear rate axis: the qualities a sender can
 * reach at each rate by choosing among (or switching between) these operating points, e.g. a
 * codec's ladder of sizes and frame rates. Keeps the points' own objects (so callers can name the
 * vertices), sorted by rate; points below the hull, on it between two vertices (collinear) or
 * beyond its best quality are dropped, so quality rises strictly from vertex to vertex.
 */
export function upperConvexHull<T extends RdPoint>(points: readonly T[]): T[] {
  const sorted = points
    .filter((p) => Number.isFinite(p.kbps) && p.kbps > 0 && Number.isFinite(p.quality))
    .sort((a, b) => a.kbps - b.kbps || b.quality - a.quality);
  const hull: T[] = [];
  for (const p of sorted) {
    // Only points that raise quality can be on the rising part of the hull.
    if (hull.length > 0 && p.quality <= hull[hull.length - 1]!.quality) continue;
    // Drop the last vertex while it lies on or below the segment from the one before it to p.
    while (hull.length >= 2) {
      const a = hull[hull.length - 2]!;
      const b = hull[hull.length - 1]!;
      const cross = (b.kbps - a.kbps) * (p.quality - a.quality) - (b.quality - a.quality) * (p.kbps - a.kbps);
      if (cross < 0) break;
      hull.pop();
    }
    hull.push(p);
  }
  return hull;
}

interface Polynomial {
  /** y = sum c[i] * u^i with u = (x - centre) / scale (centred and scaled for conditioning). */
  centre: number;
  scale: number;
  coefficients: number[];
}

/** Least-squares polynomial fit through normal equations (4 to ~10 points: well conditioned). */
function polyfit(xs: readonly number[], ys: readonly number[], degree: number): Polynomial {
  const n = degree + 1;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const scale = Math.max(...xs.map((x) => Math.abs(x - mean))) || 1;
  const u = xs.map((x) => (x - mean) / scale);
  const a = Array.from({ length: n }, () => new Array<number>(n + 1).fill(0));
  for (let k = 0; k < u.length; k++) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) a[i]![j]! += u[k]! ** (i + j);
      a[i]![n]! += ys[k]! * u[k]! ** i;
    }
  }
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[pivot]![c]!)) pivot = r;
    [a[c], a[pivot]] = [a[pivot]!, a[c]!];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = a[r]![c]! / a[c]![c]!;
      for (let k = c; k <= n; k++) a[r]![k]! -= f * a[c]![k]!;
    }
  }
  return { centre: mean, scale, coefficients: a.map((row, i) => row[n]! / row[i]!) };
}

function integratePolynomial(p: Polynomial, lo: number, hi: number): number {
  const antiderivative = (x: number): number => {
    const u = (x - p.centre) / p.scale;
    return p.coefficients.reduce((acc, ci, i) => acc + (ci * u ** (i + 1)) / (i + 1), 0) * p.scale;
  };
  return antiderivative(hi) - antiderivative(lo);
}

function integralOfLogRate(curve: readonly RdPoint[], lo: number, hi: number, method: BdMethod): number {
  const qs = curve.map((p) => p.quality);
  const logRates = curve.map((p) => Math.log10(p.kbps));
  if (method === 'pchip') return integratePchip(pchip(qs, logRates), lo, hi);
  return integratePolynomial(polyfit(qs, logRates, 3), lo, hi);
}

/**
 * BD-rate of `test` against `anchor`. Quality must increase with rate; pass a negated value
 * for distortion metrics such as GMSD.
 */
export function bdRate(anchor: readonly RdPoint[], test: readonly RdPoint[], method: BdMethod = 'pchip'): BdRateResult {
  const a = paretoFront(anchor);
  const t = paretoFront(test);
  const needed = method === 'pchip' ? 2 : 4;
  if (a.length < needed || t.length < needed) {
    return { ok: false, reason: `needs ${needed}+ distinct points per curve (anchor ${a.length}, test ${t.length})` };
  }
  const lo = Math.max(a[0]!.quality, t[0]!.quality);
  const hi = Math.min(a[a.length - 1]!.quality, t[t.length - 1]!.quality);
  if (!(hi > lo)) return { ok: false, reason: 'the curves do not overlap in quality' };
  const meanDiff =
    (integralOfLogRate(t, lo, hi, method) - integralOfLogRate(a, lo, hi, method)) / (hi - lo);
  return { ok: true, percent: (10 ** meanDiff - 1) * 100, qualityRange: [lo, hi] };
}
