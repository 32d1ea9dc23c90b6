import { describe, expect, it } from 'vitest';
import { bdRate, upperConvexHull } from '../../../bench/bd-rate.ts';
import {
  FULL_LADDER, LADDER_MAX_KBPS, QUICK_LADDER, decodeFilter, encodeFilter, ladderPoints, picturesTaken, playbackAt25, rungOf, shownPicture,
} from '../../../bench/codecs/ladder.ts';
import { hullTable } from '../../../bench/report/markdown.ts';
import type { AveragedPoint, BenchReport } from '../../../bench/report/schema.ts';
import { averagedHulls, bdRateEntry, lowestRate } from '../../../bench/report/summary.ts';
import type { ResultRow } from '../../../bench/results.ts';

const pt = (kbps: number, quality: number, name = `${kbps}`) => ({ kbps, quality, name });

describe('upper convex hull of a ladder', () => {
  it('drops points below the hull and keeps the vertices, by rate', () => {
    // (20, 0.80) lies below the segment (10, 0.78)-(40, 0.90): 0.78 + 10/30 * 0.12 = 0.82.
    const hull = upperConvexHull([pt(40, 0.9), pt(10, 0.78), pt(20, 0.8), pt(80, 0.95)]);
    expect(hull.map((p) => p.name)).toEqual(['10', '40', '80']);
  });

  it('is monotone: points that cost more for no better quality are not on it', () => {
    const hull = upperConvexHull([pt(5, 0.7), pt(10, 0.85), pt(30, 0.84), pt(60, 0.9), pt(100, 0.89)]);
    expect(hull.map((p) => p.name)).toEqual(['5', '10', '60']);
    for (let i = 1; i < hull.length; i++) {
      expect(hull[i]!.kbps).toBeGreaterThan(hull[i - 1]!.kbps);
      expect(hull[i]!.quality).toBeGreaterThan(hull[i - 1]!.quality);
    }
  });

  it('keeps the lowest-rate point even when its quality is poor, and the best point last', () => {
    const hull = upperConvexHull([pt(3, 0.2), pt(50, 0.95), pt(8, 0.9)]);
    expect(hull.map((p) => p.name)).toEqual(['3', '8', '50']);
  });

  it('resolves ties: equal rate keeps the better point, equal quality the cheaper, collinear middles go', () => {
    expect(upperConvexHull([pt(10, 0.8, 'worse'), pt(10, 0.85, 'better'), pt(20, 0.9)]).map((p) => p.name)).toEqual(['better', '20']);
    expect(upperConvexHull([pt(10, 0.8), pt(15, 0.8, 'same-quality'), pt(20, 0.9)]).map((p) => p.name)).toEqual(['10', '20']);
    expect(upperConvexHull([pt(10, 0.8), pt(20, 0.85, 'collinear'), pt(30, 0.9)]).map((p) => p.name)).toEqual(['10', '30']);
  });

  it('ignores points without a finite positive rate or quality', () => {
    expect(upperConvexHull([pt(0, 0.5), pt(Number.NaN, 0.6), pt(10, Number.POSITIVE_INFINITY), pt(10, 0.7)]).map((p) => p.name)).toEqual(['10']);
  });

  it('a hull codec enters BD-rate through its hull, not its raw points', () => {
    const row = (codec: string, kbps: number, ssim: number, id = `${kbps}`): ResultRow =>
      ({ codec, clip: 'c', point: { id, label: id, targetKbps: kbps, params: {} }, kbps, wireKbps: kbps, ssim, psnr: 30, msssim: 0.9, gmsd: 0.1 }) as ResultRow;
    // A ladder codec whose 20 kbit/s point sits below its hull; the test codec equals the hull.
    const rows = [row('l', 10, 0.8), row('l', 20, 0.81), row('l', 40, 0.9), row('t', 10, 0.8), row('t', 40, 0.9)];
    const hull = bdRateEntry(rows, 'l', 't', 'ssim', 'kbps', new Set(['l']));
    const raw = bdRateEntry(rows, 'l', 't', 'ssim', 'kbps');
    expect(hull.meanPercent).toBeCloseTo(0, 9);
    // Through the raw points the ladder codec looks worse than it can do, so the test codec gains.
    expect(raw.meanPercent!).toBeLessThan(-1);
    expect(bdRate([pt(10, 0.8), pt(40, 0.9)], [pt(50, 0.95), pt(80, 0.97)])).toEqual({ ok: false, reason: 'the curves do not overlap in quality' });
  });
});

describe('ladder rungs', () => {
  it('sender filters: the fps filter picking the latest frame, then an area downscale', () => {
    expect(encodeFilter({ size: 64, fps: 10 })).toBe('fps=10:round=up,scale=64:64:flags=area');
    expect(encodeFilter({ size: 128, fps: 25 })).toBe('scale=128:128:flags=area');
    expect(encodeFilter({ size: 256, fps: 15 })).toBe('fps=15:round=up');
    expect(encodeFilter({ size: 256, fps: 25 })).toBeNull();
  });

  it('receiver filter: bicubic back to 256 px, nothing at full size', () => {
    expect(decodeFilter({ size: 96, fps: 10 })).toBe('scale=256:256:flags=bicubic');
    expect(decodeFilter({ size: 256, fps: 10 })).toBeNull();
  });

  it('each 25 fps source frame shows the latest picture decoded at 10 or 15 fps', () => {
    // 10 fps: picture j has time j / 10, first shown at the source frame at or after it (ceil(2.5 j)).
    expect(Array.from({ length: 11 }, (_, i) => shownPicture(i, 10))).toEqual([0, 0, 0, 1, 1, 2, 2, 2, 3, 3, 4]);
    // 15 fps: picture 3 is at 0.2 s, exactly source frame 5.
    expect(Array.from({ length: 6 }, (_, i) => shownPicture(i, 15))).toEqual([0, 0, 1, 1, 2, 3]);
    expect(Array.from({ length: 4 }, (_, i) => shownPicture(i, 25))).toEqual([0, 1, 2, 3]);
  });

  it('constant 25 fps playback of a 10 fps decode shows every picture 2 or 3 times, in order', () => {
    const pictures = Array.from({ length: picturesTaken(50, 10) }, (_, j) => `p${j}`);
    expect(pictures).toHaveLength(20);
    const shown = playbackAt25(pictures, 50, 10);
    expect(shown).toHaveLength(50);
    expect(shown.slice(0, 8)).toEqual(['p0', 'p0', 'p0', 'p1', 'p1', 'p2', 'p2', 'p2']);
    const counts = pictures.map((p) => shown.filter((s) => s === p).length);
    expect(counts.every((c) => c === 2 || c === 3)).toBe(true);
    // A stream that lost its tail keeps showing its last picture.
    expect(playbackAt25(['a', 'b'], 10, 10).slice(-3)).toEqual(['b', 'b', 'b']);
    expect(() => playbackAt25([], 10, 10)).toThrow(/no decoded pictures/);
  });

  it('counts the pictures a sender takes', () => {
    expect(picturesTaken(100, 15)).toBe(60);
    expect(picturesTaken(100, 25)).toBe(100);
    expect(picturesTaken(1, 10)).toBe(1);
  });

  it('points: full size at every target, each rung at the targets up to the ladder cap', () => {
    const points = ladderPoints([6, 15, 40, 100], QUICK_LADDER);
    expect(points.slice(0, 4).map((p) => p.id)).toEqual(['6k', '15k', '40k', '100k']);
    expect(points).toHaveLength(4 + QUICK_LADDER.length * 3);
    expect(points.every((p) => p.targetKbps! <= LADDER_MAX_KBPS || rungOf(p).size === 256)).toBe(true);
    const p = points.find((x) => x.id === '96px10-15k')!;
    expect(p.params).toEqual({ kbps: 15, size: 96, fps: 10 });
    expect(rungOf(p)).toEqual({ size: 96, fps: 10 });
    expect(rungOf(points[0]!)).toEqual({ size: 256, fps: 25 });
    expect(ladderPoints([6], [])).toHaveLength(1);
    expect(FULL_LADDER.some((r) => r.fps === 15)).toBe(true);
  });
});

describe('hull in the report', () => {
  const point = (name: string, size: number, fps: number, kbps: number, ssim: number, gmsd: number): AveragedPoint => ({
    point: name, targetKbps: kbps, size, fps, kbps, wireKbps: kbps + fps * 0.4, psnr: 30, ssim, msssim: 0.9, gmsd, akd: null,
  });
  const curves = [
    {
      codec: 'vp8',
      points: [point('6k', 256, 25, 6, 0.8, 0.2), point('64px10-6k', 64, 10, 4, 0.82, 0.15), point('96px10-6k', 96, 10, 5, 0.81, 0.16), point('15k', 256, 25, 15, 0.9, 0.1)],
    },
    { codec: 'kiloface', points: [point('w40', 256, 25, 5, 0.88, 0.13)] },
  ];

  it('names the ladder point behind every vertex, per metric and rate axis, for ladder codecs only', () => {
    const hulls = averagedHulls(curves, new Set(['vp8']));
    expect(hulls.every((h) => h.codec === 'vp8')).toBe(true);
    expect(hulls).toHaveLength(2 * 4);
    const ssimWire = hulls.find((h) => h.metric === 'ssim' && h.rate === 'wireKbps')!;
    // Wire: 64px10-6k 8.0, 96px10-6k 9.0 (below the hull), 6k 16.0 (worse than the cheaper rung), 15k 25.0.
    expect(ssimWire.vertices.map((v) => v.point)).toEqual(['64px10-6k', '15k']);
    expect(ssimWire.vertices[0]).toMatchObject({ size: 64, fps: 10, kbps: 4, wireKbps: 8, value: 0.82 });
    // GMSD is a distortion: its hull runs over -GMSD, the vertices keep the real values.
    const gmsdWire = hulls.find((h) => h.metric === 'gmsd' && h.rate === 'wireKbps')!;
    expect(gmsdWire.vertices.map((v) => v.value)).toEqual([0.15, 0.1]);

    const rows = [['c1', '64px10-6k', 3], ['c1', '6k', 6], ['c2', '64px10-6k', 4], ['c2', '6k', 7]].map(
      ([clip, id, kbps]) => ({ codec: 'vp8', clip, point: { id, label: id, targetKbps: 6, params: {} }, kbps, wireKbps: kbps, psnr: 30, ssim: 0.9, msssim: 0.9, gmsd: 0.1, akd: null }) as unknown as ResultRow,
    );
    expect(lowestRate(rows, 'vp8')).toMatchObject({ kbps: 3.5, points: ['64px10-6k'], lowestTarget: 6 });

    const md = hullTable({ hulls, codecs: [{ id: 'vp8', label: 'VP8 libvpx' }] } as unknown as BenchReport);
    expect(md).toContain('| VP8 libvpx | SSIM-Y | 64px10-6k (64 px 10 fps, 8.00 kbit/s) = 0.8200; 15k (256 px 25 fps, 25.0 kbit/s) = 0.9000 |');
  });
});
