import { describe, expect, it } from 'vitest';

import { generateAnchors } from '../../../codec/tracker/anchors.ts';
import { decodeDetections, iou, sigmoid, weightedNonMaxSuppression, type Detection } from '../../../codec/tracker/detection.ts';
import { DETECTOR_ANCHORS, DETECTOR_DECODE } from '../../../codec/tracker/mediapipe-face.ts';

const anchors = generateAnchors(DETECTOR_ANCHORS);
const N = anchors.count;

/** Detector outputs with every anchor at logit -10 except the ones given. */
function outputs(set: Record<number, { logit: number; values?: number[] }>): { regressors: Float32Array; logits: Float32Array } {
  const regressors = new Float32Array(N * 16);
  const logits = new Float32Array(N).fill(-10);
  for (const [i, { logit, values }] of Object.entries(set)) {
    logits[Number(i)] = logit;
    if (values) regressors.set(values, Number(i) * 16);
  }
  return { regressors, logits };
}

function det(xMin: number, yMin: number, xMax: number, yMax: number, score: number, kp = [0, 0]): Detection {
  return { xMin, yMin, xMax, yMax, score, keypoints: Float64Array.from(kp) };
}

/** Same detection up to rounding (a group of one is still averaged: x * s / s). */
function expectSame(got: Detection, want: Detection): void {
  for (const k of ['xMin', 'yMin', 'xMax', 'yMax', 'score'] as const) expect(got[k]).toBeCloseTo(want[k], 12);
  expect(Array.from(got.keypoints)).toEqual(Array.from(want.keypoints).map((v) => expect.closeTo(v, 12)));
}

describe('detector output decoding', () => {
  it('decodes box centre/size and 6 keypoints relative to the anchor, in 128-pixel units', () => {
    // anchor 600: stride-16 cell (600 - 512) / 6 = 14 -> x = 14 % 8 = 6, y = 1: centre (6.5/8, 1.5/8)
    const values = [12.8, -6.4, 64, 32, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
    const { regressors, logits } = outputs({ 600: { logit: 2, values } });
    const found = decodeDetections(regressors, logits, anchors, DETECTOR_DECODE);
    expect(found).toHaveLength(1);
    const d = found[0]!;
    const ax = 6.5 / 8;
    const ay = 1.5 / 8;
    const cx = ax + 12.8 / 128;
    const cy = ay - 6.4 / 128;
    expect(d.xMin).toBeCloseTo(cx - 0.25, 6); // w = 64 / 128
    expect(d.xMax).toBeCloseTo(cx + 0.25, 6);
    expect(d.yMin).toBeCloseTo(cy - 0.125, 6); // h = 32 / 128
    expect(d.yMax).toBeCloseTo(cy + 0.125, 6);
    expect(d.score).toBeCloseTo(sigmoid(2), 6);
    for (let k = 0; k < 6; k++) {
      expect(d.keypoints[2 * k]).toBeCloseTo(ax + (2 * k + 1) / 128, 6);
      expect(d.keypoints[2 * k + 1]).toBeCloseTo(ay + (2 * k + 2) / 128, 6);
    }
  });

  it('scores are sigmoid(clip(logit, +-100)), kept when >= 0.5', () => {
    const { regressors, logits } = outputs({ 3: { logit: 0 }, 4: { logit: 1e30 }, 5: { logit: -1e-4 }, 6: { logit: Number.NaN } });
    const found = decodeDetections(regressors, logits, anchors, DETECTOR_DECODE);
    expect(found.map((d) => d.score)).toEqual([0.5, sigmoid(100)]); // 0 kept (>=), -1e-4 and NaN dropped
    expect(found.every((d) => Number.isFinite(d.score))).toBe(true);
    expect(decodeDetections(regressors, logits, anchors, { ...DETECTOR_DECODE, scoreClippingThresh: 0 })[1]!.score).toBe(1);
  });

  it('rejects outputs of the wrong size', () => {
    expect(() => decodeDetections(new Float32Array(10), new Float32Array(N), anchors, DETECTOR_DECODE)).toThrow(RangeError);
    expect(() => decodeDetections(new Float32Array(N * 16), new Float32Array(5), anchors, DETECTOR_DECODE)).toThrow(RangeError);
  });
});

describe('weighted non-max suppression', () => {
  it('IoU of hand-made boxes', () => {
    expect(iou(det(0, 0, 2, 2, 1), det(1, 1, 3, 3, 1))).toBeCloseTo(1 / 7, 12);
    expect(iou(det(0, 0, 1, 1, 1), det(1, 0, 2, 1, 1))).toBe(0); // touching edges
    expect(iou(det(0, 0, 1, 1, 1), det(0, 0, 1, 1, 1))).toBe(1);
  });

  it('merges overlapping boxes into the score-weighted mean, keeps the best score, best first', () => {
    const a = det(0, 0, 10, 10, 0.9, [2, 3]);
    const b = det(1, 1, 11, 11, 0.6, [4, 5]); // IoU 81 / 119 = 0.68 with a
    const c = det(50, 50, 60, 60, 0.7, [55, 55]); // apart
    const d = det(8, 8, 18, 18, 0.8, [9, 9]); // IoU 4 / 196 with a: its own face
    const out = weightedNonMaxSuppression([b, c, a, d], 0.3);
    expect(out.map((o) => o.score)).toEqual([0.9, 0.8, 0.7]);
    const m = out[0]!;
    expect(m.xMin).toBeCloseTo((0 * 0.9 + 1 * 0.6) / 1.5, 12);
    expect(m.yMax).toBeCloseTo((10 * 0.9 + 11 * 0.6) / 1.5, 12);
    expect(Array.from(m.keypoints)).toEqual([(2 * 0.9 + 4 * 0.6) / 1.5, (3 * 0.9 + 5 * 0.6) / 1.5].map((v) => expect.closeTo(v, 12)));
    // d overlaps b by 9 / 191 only, so it is not merged; it stays as it was.
    expectSame(out[1]!, d);
    expectSame(out[2]!, c);
  });

  it('IoU exactly at the threshold does not merge (MediaPipe: similarity > threshold)', () => {
    // IoU = 1/3 * ... make it exactly 0.5: [0,2]x[0,1] vs [0,1]x[0,1] -> 1 / 2
    const out = weightedNonMaxSuppression([det(0, 0, 2, 1, 0.9), det(0, 0, 1, 1, 0.8)], 0.5);
    expect(out).toHaveLength(2);
  });

  it('stops at a degenerate best box as MediaPipe does, and handles no input', () => {
    expect(weightedNonMaxSuppression([], 0.3)).toEqual([]);
    const out = weightedNonMaxSuppression([det(5, 5, 5, 5, 0.9), det(0, 0, 1, 1, 0.8)], 0.3);
    expect(out).toHaveLength(1);
    expect(out[0]!.score).toBe(0.9);
  });

  it('end to end: two nearby anchors on one face decode to one detection', () => {
    const face = [0, 0, 40, 40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    // anchors 0 and 1 share a cell; anchor 2 is the next cell (8 px = 1/16 to the right).
    const { regressors, logits } = outputs({ 0: { logit: 3, values: face }, 1: { logit: 1, values: face }, 2: { logit: 2, values: [-8, ...face.slice(1)] } });
    const out = weightedNonMaxSuppression(decodeDetections(regressors, logits, anchors, DETECTOR_DECODE), 0.3);
    expect(out).toHaveLength(1);
    const s = [sigmoid(3), sigmoid(1), sigmoid(2)];
    expect(out[0]!.score).toBeCloseTo(s[0]!, 12);
    // all three boxes have the same centre (anchor 2's offset -8 px cancels its cell shift)
    expect((out[0]!.xMin + out[0]!.xMax) / 2).toBeCloseTo(1 / 32, 6);
  });
});
