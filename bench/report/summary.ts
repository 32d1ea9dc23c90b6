import { bdRate, type BdMethod, type RdPoint } from '../bd-rate.ts';
import { QUALITY_METRICS, higherIsBetter, type QualityMetric } from '../metrics/frame-metrics.ts';
import type { ResultRow } from '../results.ts';
import type { AveragedPoint, BdRateEntry, LowestRate } from './schema.ts';

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

function curve(rows: readonly ResultRow[], codec: string, clip: string, metric: QualityMetric, rate: RateBasis): RdPoint[] {
  // BD-rate needs quality rising with rate: distortion metrics (GMSD) enter negated.
  const sign = higherIsBetter(metric) ? 1 : -1;
  return rows.filter((r) => r.codec === codec && r.clip === clip).map((r) => ({ kbps: r[rate], quality: sign * r[metric] }));
}

/** Per-clip BD-rates of `test` against `anchor`, averaged over the clips where they exist. */
export function bdRateEntry(rows: readonly ResultRow[], anchor: string, test: string, metric: QualityMetric, rate: RateBasis = 'kbps'): BdRateEntry {
  const perClip: BdRateEntry['perClip'] = [];
  const cubic: number[] = [];
  for (const clip of clipIds(rows)) {
    const a = curve(rows, anchor, clip, metric, rate);
    const t = curve(rows, test, clip, metric, rate);
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

export function allBdRates(rows: readonly ResultRow[], rate: RateBasis = 'kbps'): BdRateEntry[] {
  const codecs = codecIds(rows);
  const out: BdRateEntry[] = [];
  for (const metric of QUALITY_METRICS) {
    for (const anchor of codecs) for (const test of codecs) if (anchor !== test) out.push(bdRateEntry(rows, anchor, test, metric, rate));
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
      kbps: mean(at.map((r) => r.kbps)),
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
