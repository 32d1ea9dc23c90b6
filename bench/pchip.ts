// Monotone piecewise cubic Hermite interpolation (Fritsch-Carlson slopes with the
// three-point end conditions used by scipy.interpolate.PchipInterpolator and Matlab pchip).
// BD-rate uses it because a cubic polynomial through 4+ RD points can swing between them.

export interface Pchip {
  readonly xs: readonly number[];
  readonly ys: readonly number[];
  readonly slopes: readonly number[];
}

const sign = (v: number): number => (v > 0 ? 1 : v < 0 ? -1 : 0);

function endSlope(h0: number, h1: number, d0: number, d1: number): number {
  const s = ((2 * h0 + h1) * d0 - h0 * d1) / (h0 + h1);
  if (sign(s) !== sign(d0)) return 0;
  if (sign(d0) !== sign(d1) && Math.abs(s) > Math.abs(3 * d0)) return 3 * d0;
  return s;
}

export function pchip(xs: readonly number[], ys: readonly number[]): Pchip {
  const n = xs.length;
  if (n < 2 || ys.length !== n) throw new Error('pchip needs at least two points with matching x and y');
  for (let i = 1; i < n; i++) if (!(xs[i]! > xs[i - 1]!)) throw new Error('pchip needs strictly increasing x');
  const h = Array.from({ length: n - 1 }, (_, i) => xs[i + 1]! - xs[i]!);
  const delta = h.map((hi, i) => (ys[i + 1]! - ys[i]!) / hi);
  const slopes = new Array<number>(n).fill(0);
  if (n === 2) {
    slopes[0] = slopes[1] = delta[0]!;
    return { xs, ys, slopes };
  }
  for (let k = 1; k < n - 1; k++) {
    const a = delta[k - 1]!;
    const b = delta[k]!;
    if (sign(a) !== sign(b) || a === 0 || b === 0) continue;
    const w1 = 2 * h[k]! + h[k - 1]!;
    const w2 = h[k]! + 2 * h[k - 1]!;
    slopes[k] = (w1 + w2) / (w1 / a + w2 / b);
  }
  slopes[0] = endSlope(h[0]!, h[1]!, delta[0]!, delta[1]!);
  slopes[n - 1] = endSlope(h[n - 2]!, h[n - 3]!, delta[n - 2]!, delta[n - 3]!);
  return { xs, ys, slopes };
}

function segmentIndex(p: Pchip, x: number): number {
  let i = 0;
  while (i < p.xs.length - 2 && x > p.xs[i + 1]!) i++;
  return i;
}

export function evaluatePchip(p: Pchip, x: number): number {
  const i = segmentIndex(p, x);
  const h = p.xs[i + 1]! - p.xs[i]!;
  const t = (x - p.xs[i]!) / h;
  const t2 = t * t;
  const t3 = t2 * t;
  return (
    (2 * t3 - 3 * t2 + 1) * p.ys[i]! +
    (t3 - 2 * t2 + t) * h * p.slopes[i]! +
    (-2 * t3 + 3 * t2) * p.ys[i + 1]! +
    (t3 - t2) * h * p.slopes[i + 1]!
  );
}

/** Integral of the Hermite cubic of segment i from its left end to local coordinate t. */
function segmentIntegral(p: Pchip, i: number, t: number): number {
  const h = p.xs[i + 1]! - p.xs[i]!;
  const t2 = t * t;
  const t3 = t2 * t;
  const t4 = t3 * t;
  return (
    h *
    ((t4 / 2 - t3 + t) * p.ys[i]! +
      (t4 / 4 - (2 * t3) / 3 + t2 / 2) * h * p.slopes[i]! +
      (-t4 / 2 + t3) * p.ys[i + 1]! +
      (t4 / 4 - t3 / 3) * h * p.slopes[i + 1]!)
  );
}

/** Exact integral of the interpolant over [a, b], both inside [xs[0], xs[n-1]]. */
export function integratePchip(p: Pchip, a: number, b: number): number {
  if (b < a) return -integratePchip(p, b, a);
  const n = p.xs.length;
  if (a < p.xs[0]! - 1e-12 || b > p.xs[n - 1]! + 1e-12) throw new Error('integration range outside the data');
  let total = 0;
  for (let i = 0; i < n - 1; i++) {
    const lo = Math.max(a, p.xs[i]!);
    const hi = Math.min(b, p.xs[i + 1]!);
    if (hi <= lo) continue;
    const h = p.xs[i + 1]! - p.xs[i]!;
    total += segmentIntegral(p, i, (hi - p.xs[i]!) / h) - segmentIntegral(p, i, (lo - p.xs[i]!) / h);
  }
  return total;
}
