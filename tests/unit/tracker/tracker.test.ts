// The tracker end to end on faces the test draws itself (no data files): detect, track, lose,
// re-detect, smooth. Models: models/mediapipe/*.onnx through onnxruntime-node, 1 thread.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { FaceTracker, TrackResult } from '../../../codec/tracker/face-tracker.ts';
import type { ImageLike } from '../../../codec/tracker/image.ts';
import { centroid, meanDistance } from '../../helpers/tracker/metrics.ts';
import { loadTracker } from '../../../codec/runners/shipped-node.ts';
import { blankFrame, drawSyntheticFace, type FaceOptions } from '../../helpers/tracker/synthetic-face.ts';

const W = 256;
const H = 256;
const face = (o: Partial<FaceOptions> = {}): ImageLike => drawSyntheticFace({ width: W, height: H, cx: 120, cy: 128, size: 150, noise: 2, seed: 1, ...o });

function expectFace(r: TrackResult): asserts r is Extract<TrackResult, { state: 'face' }> {
  if (r.state !== 'face') throw new Error(`expected a face, got no-face (${r.reason}, presence ${r.presence})`);
  expect(r.landmarks).toHaveLength(468 * 3);
  expect(r.landmarks.every(Number.isFinite)).toBe(true);
}

describe('FaceTracker on a synthetic face', () => {
  let raw: FaceTracker;
  let smooth: FaceTracker;
  beforeAll(async () => {
    raw = await loadTracker({ smoothing: false });
    smooth = await loadTracker(); // tuned One Euro smoothing
  });
  afterAll(async () => {
    await raw?.close();
    await smooth?.close();
  });

  it('detects once, then tracks: landmarks follow the image shift within 1.5 px', async () => {
    raw.reset();
    const before = { ...raw.stats };
    const shifts = Array.from({ length: 12 }, (_, i) => [4 * i, 1.5 * i] as const);
    let first: Float32Array | null = null;
    for (const [i, [dx, dy]] of shifts.entries()) {
      const r = await raw.track(face({ cx: 100 + dx, cy: 120 + dy, seed: i + 1 }));
      expectFace(r);
      expect(r.detected).toBe(i === 0);
      expect(r.presence).toBeGreaterThan(0.9);
      first ??= r.landmarks;
      // the whole mesh moves with the face: shift frame 0's landmarks and compare point by point
      const expected = Float32Array.from(first, (v, j) => v + (j % 3 === 0 ? dx : j % 3 === 1 ? dy : 0));
      expect(meanDistance(r.landmarks, expected)).toBeLessThan(1.5); // measured 0.45-0.65
    }
    expect(raw.stats.detectorRuns - before.detectorRuns).toBe(1);
    expect(raw.phase).toBe('tracking');
    // the mesh sits on the drawn face: its centroid near the face centre
    const [x, y] = centroid(first!);
    expect(Math.abs(x - 100)).toBeLessThan(10);
    expect(Math.abs(y - 120)).toBeLessThan(20);
  });

  it('a rotated face gives a rotated ROI (eye line)', async () => {
    raw.reset();
    let angle = NaN;
    for (let i = 0; i < 3; i++) {
      const r = await raw.track(face({ angle: 0.35, seed: 50 + i }));
      expectFace(r);
      angle = r.roi.angle;
    }
    expect(angle).toBeCloseTo(0.35, 1);
  });

  it("reports 'no-face' on blank frames, never landmarks, and re-detects when the face is back", async () => {
    raw.reset();
    expectFace(await raw.track(face()));
    expectFace(await raw.track(face({ seed: 2 })));
    const lost = await raw.track(blankFrame(W, H));
    expect(lost).toMatchObject({ state: 'no-face', reason: 'low-presence', detected: false }); // tracked ROI, nothing in it
    expect((lost as { presence: number }).presence).toBeLessThan(0.5);
    expect('landmarks' in lost).toBe(false);
    expect(raw.phase).toBe('detecting');
    const none = await raw.track(blankFrame(W, H, 40));
    expect(none).toMatchObject({ state: 'no-face', reason: 'no-detection', detected: true, presence: null });
    const back = await raw.track(face({ cx: 140, seed: 3 }));
    expectFace(back);
    expect(back.detected).toBe(true);
    expect(back.detection?.score).toBeGreaterThan(0.5);
  });

  it('a face that jumps elsewhere is lost for at most one frame, then found where it is', async () => {
    raw.reset();
    expectFace(await raw.track(drawSyntheticFace({ width: 400, height: 300, cx: 100, cy: 150, size: 130, noise: 2 })));
    const results: TrackResult[] = [];
    for (let i = 0; i < 3; i++) results.push(await raw.track(drawSyntheticFace({ width: 400, height: 300, cx: 300, cy: 150, size: 130, noise: 2, seed: 9 + i })));
    expect(results.slice(1).every((r) => r.state === 'face')).toBe(true);
    const last = results[2]!;
    expectFace(last);
    expect(Math.abs(centroid(last.landmarks)[0] - 300)).toBeLessThan(10);
  });

  it('a face sliding out of the frame ends in no-face, with finite landmarks until then', async () => {
    raw.reset();
    const states: string[] = [];
    for (let i = 0; i < 14; i++) {
      const r = await raw.track(face({ cx: 128 + 14 * i, seed: 70 + i }));
      if (r.state === 'face') expect(r.landmarks.every(Number.isFinite)).toBe(true);
      states.push(r.state);
    }
    expect(states[0]).toBe('face');
    expect(states.at(-1)).toBe('no-face'); // centre at x = 310 > 256
  });

  it('smoothing: a still noisy face moves less frame to frame; the first frame after detection is raw', async () => {
    smooth.reset();
    const steps = { raw: 0, smooth: 0 };
    let prev: { raw: Float32Array; smooth: Float32Array } | null = null;
    for (let i = 0; i < 20; i++) {
      const r = await smooth.track(face({ noise: 4, seed: 100 + i }));
      expectFace(r);
      if (i === 0) expect(Array.from(r.landmarks)).toEqual(Array.from(r.rawLandmarks));
      if (prev && i >= 5) {
        steps.raw += meanDistance(r.rawLandmarks, prev.raw);
        steps.smooth += meanDistance(r.landmarks, prev.smooth);
      }
      prev = { raw: r.rawLandmarks, smooth: r.landmarks };
    }
    expect(steps.raw).toBeGreaterThan(0);
    expect(steps.smooth * 3).toBeLessThan(steps.raw);
  });

  it('smoothing: a moving face is not late (lag under one frame at 3 px/frame)', async () => {
    smooth.reset();
    let lag = 0;
    let n = 0;
    for (let i = 0; i < 16; i++) {
      const r = await smooth.track(face({ cx: 90 + 3 * i, seed: 200 + i }));
      expectFace(r);
      if (i >= 6) {
        lag += (centroid(r.rawLandmarks)[0] - centroid(r.landmarks)[0]) / 3;
        n++;
      }
    }
    expect(lag / n).toBeLessThan(1);
  });

  it('RGBA frames give the same landmarks as RGB', async () => {
    const rgb = face({ seed: 300 });
    const rgba: ImageLike = { width: W, height: H, channels: 4, data: new Uint8ClampedArray(W * H * 4).map((_, i) => (i % 4 === 3 ? 255 : rgb.data[(i >> 2) * 3 + (i % 4)]!)) };
    raw.reset();
    const a = await raw.track(rgb);
    raw.reset();
    const b = await raw.track(rgba);
    expectFace(a);
    expectFace(b);
    expect(Array.from(b.landmarks)).toEqual(Array.from(a.landmarks));
  });

  it('a new frame size starts over with the detector; bad frames and overlapping calls are refused', async () => {
    raw.reset();
    expectFace(await raw.track(face()));
    const other = await raw.track(drawSyntheticFace({ width: 320, height: 240, cx: 160, cy: 120, size: 140, noise: 2 }));
    expectFace(other);
    expect(other.detected).toBe(true);
    await expect(raw.track({ data: new Uint8Array(10), width: 4, height: 4, channels: 3 })).rejects.toThrow(RangeError);
    const first = raw.track(face());
    await expect(raw.track(face())).rejects.toThrow(/before the previous frame finished/);
    expectFace(await first);
  });
});
