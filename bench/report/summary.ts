import { bdRate, upperConvexHull, type BdMethod, type RdPoint } from '../bd-rate.ts';
import { QUALITY_METRICS, higherIsBetter, type QualityMetric } from '../metrics/frame-metrics.ts';
import { rungOf } from '../codecs/ladder.ts';
import type { ResultRow } from '../results.ts';
import type { AveragedPoint, BdRateEntry, HullCurve, LowestRate } from './schema.ts';

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Mean of AKD values: over the rows that have one, or null if none (or, with `all`, if any lacks one). */
const meanAkd = (rows: readonly ResultRow[], all: boolean): number | null => {
  const have = rows.flatMap((r) => (r.akd === null ? [] : [r.akd]));
  return have.length === 0 || (all && have.length !== rows.length) ? null : mean(have);
};

export const codecIds = (rows: readonly ResultRow[]): string[] => [...new Set(rows.map((r) => r.codec))];
export const clipIds = (rows: readonly ResultRow[]): string[] => [...new Set(rows.map((r) => r.clip))];

/** Which rate BD-rates integrate: the payload (default) or the wire rate with transport headers. */
export type RateBasis = 'kbps' | 'wireKbps';

/** Codecs whose curve is the upper convex hull over their ladder points (the others: their Pareto front). */
export type HullCodecs = ReadonlySet<string>;

function curve(rows: readonly ResultRow[], codec: string, clip: string, metric: QualityMetric, rate: RateBasis, hulls: HullCodecs): RdPoint[] {
  // BD-rate needs quality rising with rate: distortion metrics (GMSD) enter negated.
  const sign = higherIsBetter(metric) ? 1 : -1;
  const points = rows.filter((r) => r.codec === codec && r.clip === clip).map((r) => ({ kbps: r[rate], quality: sign * r[metric] }));
  // The hull is taken per clip, per metric and on the rate axis in use: a sender picks the rung for its rate.
  return hulls.has(codec) ? upperConvexHull(points) : points;
}

/** Per-clip BD-rates of `test` against `anchor`, averaged over the clips where they exist. */
export function bdRateEntry(
  rows: readonly ResultRow[], anchor: string, test: string, metric: QualityMetric, rate: RateBasis = 'kbps', hulls: HullCodecs = new Set(),
): BdRateEntry {
  const perClip: BdRateEntry['perClip'] = [];
  const cubic: number[] = [];
  for (const clip of clipIds(rows)) {
    const a = curve(rows, anchor, clip, metric, rate, hulls);
    const t = curve(rows, test, clip, metric, rate, hulls);
    if (a.length === 0 || t.length === 0) continue;
    const r = bdRate(a, t, 'pchip');
    perClip.push(r.ok ? { clip, percent: r.percent } : { clip, percent: null, reason: r.reason });
    const c = bdRate(a, t, 'cubic-polynomial' satisfies BdMethod);
    if (c.ok) cubic.push(c.percent);
  }
  const ok = perClip.flatMap((c) => (c.percent === null ? [] : [c.percent]));
  return {
    metric,
    anchor,
    test,
    meanPercent: ok.length ? mean(ok) : null,
    meanPercentCubicPolynomial: cubic.length ? mean(cubic) : null,
    clipsUsed: ok.length,
    perClip,
  };
}

export function allBdRates(rows: readonly ResultRow[], rate: RateBasis = 'kbps', hulls: HullCodecs = new Set()): BdRateEntry[] {
  const codecs = codecIds(rows);
  const out: BdRateEntry[] = [];
  for (const metric of QUALITY_METRICS) {
    for (const anchor of codecs) for (const test of codecs) if (anchor !== test) out.push(bdRateEntry(rows, anchor, test, metric, rate, hulls));
  }
  return out;
}

/**
 * The hull of each ladder codec over its clip-averaged points, per metric, on payload and on wire
 * rate, naming the operating point (size, frame rate, target) behind every vertex.
 */
export function averagedHulls(curves: readonly { codec: string; points: readonly AveragedPoint[] }[], hulls: HullCodecs): HullCurve[] {
  const out: HullCurve[] = [];
  for (const c of curves) {
    if (!hulls.has(c.codec)) continue;
    for (const rate of ['wireKbps', 'kbps'] as const) {
      for (const metric of QUALITY_METRICS) {
        const sign = higherIsBetter(metric) ? 1 : -1;
        const vertices = upperConvexHull(c.points.map((p) => ({ point: p, kbps: p[rate], quality: sign * p[metric] })));
        out.push({
          codec: c.codec,
          metric,
          rate,
          vertices: vertices.map((v) => ({ point: v.point.point, size: v.point.size, fps: v.point.fps, kbps: v.point.kbps, wireKbps: v.point.wireKbps, value: v.point[metric] })),
        });
      }
    }
  }
  return out;
}

/**
 * Mean real rate and quality per operating point over clips, keeping only points that every
 * clip has (so each plotted point averages the same clips).
 */
export function averagedCurve(rows: readonly ResultRow[], codec: string): AveragedPoint[] {
  const mine = rows.filter((r) => r.codec === codec);
  const clips = clipIds(mine);
  const points = [...new Set(mine.map((r) => r.point.id))];
  const out: AveragedPoint[] = [];
  for (const point of points) {
    const at = mine.filter((r) => r.point.id === point);
    if (at.length !== clips.length) continue;
    out.push({
      point,
      targetKbps: at[0]!.point.targetKbps,
      size: rungOf(at[0]!.point).size,
      fps: rungOf(at[0]!.point).fps,
      kbps: mean(at.map((r) => r.kbps)),
      wireKbps: mean(at.map((r) => r.wireKbps)),
      psnr: mean(at.map((r) => r.psnr)),
      ssim: mean(at.map((r) => r.ssim)),
      msssim: mean(at.map((r) => r.msssim)),
      gmsd: mean(at.map((r) => r.gmsd)),
      akd: meanAkd(at, true),
    });
  }
  return out.sort((a, b) => a.kbps - b.kbps);
}

/** How low each codec can go: per clip its lowest real-rate point, averaged over clips. */
export function lowestRate(rows: readonly ResultRow[], codec: string): LowestRate {
  const mine = rows.filter((r) => r.codec === codec);
  const lowest = clipIds(mine).map((clip) => mine.filter((r) => r.clip === clip).sort((a, b) => a.kbps - b.kbps)[0]!);
  const targets = lowest.map((r) => r.point.targetKbps).filter((t): t is number => t !== null);
  return {
    codec,
    kbps: mean(lowest.map((r) => r.kbps)),
    wireKbps: mean(lowest.map((r) => r.wireKbps)),
    psnr: mean(lowest.map((r) => r.psnr)),
    ssim: mean(lowest.map((r) => r.ssim)),
    msssim: mean(lowest.map((r) => r.msssim)),
    gmsd: mean(lowest.map((r) => r.gmsd)),
    akd: meanAkd(lowest, false),
    lowestTarget: targets.length ? Math.min(...targets) : null,
    points: [...new Set(lowest.map((r) => r.point.id))],
  };
}

/**
 * For side-by-side pictures: the lowest rate every codec reaches on this clip, and for each
 * codec its point closest to that rate (in log terms). Returns rows in codec order.
 */
export function commonFloorKbps(rows: readonly ResultRow[], clip: string): number {
  const ofClip = rows.filter((r) => r.clip === clip);
  return Math.max(...codecIds(ofClip).map((c) => Math.min(...ofClip.filter((r) => r.codec === c).map((r) => r.kbps))));
}

export function matchedRateRows(rows: readonly ResultRow[], clip: string, atLeastKbps = 0): ResultRow[] {
  const ofClip = rows.filter((r) => r.clip === clip);
  const codecs = codecIds(ofClip);
  const floor = Math.max(atLeastKbps, commonFloorKbps(rows, clip));
  return codecs.map(
    (c) =>
      ofClip
        .filter((r) => r.codec === c)
        .sort((a, b) => Math.abs(Math.log(a.kbps / floor)) - Math.abs(Math.log(b.kbps / floor)))[0]!,
  );
}
