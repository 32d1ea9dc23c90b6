import type { Anchors } from './anchors.ts';

// Detector output -> face detections, as MediaPipe's TensorsToDetectionsCalculator (box and
// keypoint decoding against the SSD anchors, sigmoid score with clipping, score threshold) and
// NonMaxSuppressionCalculator (WEIGHTED algorithm, IoU overlap) do it.

export interface DetectionDecodeOptions {
  numCoords: number;
  boxCoordOffset: number;
  keypointCoordOffset: number;
  numKeypoints: number;
  numValuesPerKeypoint: number;
  /** true: raw values are (x, y, w, h) and keypoints (x, y); false: (y, x, h, w), (y, x). */
  reverseOutputOrder: boolean;
  xScale: number;
  yScale: number;
  wScale: number;
  hScale: number;
  sigmoidScore: boolean;
  /** Logits are clipped to +-this before the sigmoid (0: no clipping). */
  scoreClippingThresh: number;
  /** Detections with score >= this are kept. */
  minScoreThresh: number;
  /** NMS: boxes overlapping the best one by IoU > this are merged into it. */
  minSuppressionThreshold: number;
}

/** A face in some coordinate frame: box corners and keypoints (x, y pairs), score in [0, 1]. */
export interface Detection {
  readonly xMin: number;
  readonly yMin: number;
  readonly xMax: number;
  readonly yMax: number;
  /** numKeypoints * 2 values: x0, y0, x1, y1, ... */
  readonly keypoints: Float64Array;
  readonly score: number;
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/**
 * Decodes raw detector outputs (regressors [anchors * numCoords], logits [anchors]) into
 * detections in the detector's normalised input frame ([0, 1] x [0, 1]), before NMS.
 */
export function decodeDetections(regressors: ArrayLike<number>, logits: ArrayLike<number>, anchors: Anchors, options: DetectionDecodeOptions): Detection[] {
  const n = anchors.count;
  if (logits.length !== n) throw new RangeError(`${logits.length} scores for ${n} anchors`);
  if (regressors.length !== n * options.numCoords) throw new RangeError(`${regressors.length} box values for ${n} anchors x ${options.numCoords}`);
  const { numCoords, boxCoordOffset: bo, keypointCoordOffset: ko, numKeypoints, numValuesPerKeypoint: kv } = options;
  const clip = options.scoreClippingThresh;
  const out: Detection[] = [];
  const a = anchors.data;
  for (let i = 0; i < n; i++) {
    let logit = logits[i]!;
    if (clip > 0) logit = logit < -clip ? -clip : logit > clip ? clip : logit;
    const score = options.sigmoidScore ? sigmoid(logit) : logit;
    if (!(score >= options.minScoreThresh)) continue;
    const base = i * numCoords;
    const ax = a[4 * i]!;
    const ay = a[4 * i + 1]!;
    const aw = a[4 * i + 2]!;
    const ah = a[4 * i + 3]!;
    const r0 = regressors[base + bo]!;
    const r1 = regressors[base + bo + 1]!;
    const r2 = regressors[base + bo + 2]!;
    const r3 = regressors[base + bo + 3]!;
    const [rx, ry, rw, rh] = options.reverseOutputOrder ? [r0, r1, r2, r3] : [r1, r0, r3, r2];
    const xCenter = (rx / options.xScale) * aw + ax;
    const yCenter = (ry / options.yScale) * ah + ay;
    const w = (rw / options.wScale) * aw;
    const h = (rh / options.hScale) * ah;
    const keypoints = new Float64Array(numKeypoints * 2);
    for (let k = 0; k < numKeypoints; k++) {
      const off = base + ko + k * kv;
      const kx = options.reverseOutputOrder ? regressors[off]! : regressors[off + 1]!;
      const ky = options.reverseOutputOrder ? regressors[off + 1]! : regressors[off]!;
      keypoints[2 * k] = (kx / options.xScale) * aw + ax;
      keypoints[2 * k + 1] = (ky / options.yScale) * ah + ay;
    }
    out.push({ xMin: xCenter - w / 2, yMin: yCenter - h / 2, xMax: xCenter + w / 2, yMax: yCenter + h / 2, keypoints, score });
  }
  return out;
}

/** Intersection over union of two boxes; 0 when they do not overlap. */
export function iou(p: Detection, q: Detection): number {
  const ix = Math.min(p.xMax, q.xMax) - Math.max(p.xMin, q.xMin);
  const iy = Math.min(p.yMax, q.yMax) - Math.max(p.yMin, q.yMin);
  if (!(ix > 0 && iy > 0)) return 0;
  const inter = ix * iy;
  const union = (p.xMax - p.xMin) * (p.yMax - p.yMin) + (q.xMax - q.xMin) * (q.yMax - q.yMin) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * MediaPipe's WEIGHTED non-max suppression: take the best remaining detection, merge every
 * remaining one that overlaps it by IoU > threshold (itself included) into a score-weighted mean
 * of boxes and keypoints, keep the best score; repeat on what is left. Output best first.
 */
export function weightedNonMaxSuppression(detections: readonly Detection[], threshold: number): Detection[] {
  // Stable sort: equal scores keep their anchor order.
  let remaining = detections.map((d, i) => ({ d, i })).sort((p, q) => q.d.score - p.d.score || p.i - q.i).map((e) => e.d);
  const out: Detection[] = [];
  while (remaining.length > 0) {
    const best = remaining[0]!;
    const candidates: Detection[] = [];
    const rest: Detection[] = [];
    for (const d of remaining) (iou(d, best) > threshold ? candidates : rest).push(d);
    if (candidates.length === 0) {
      out.push(best);
    } else {
      let total = 0;
      let xMin = 0;
      let yMin = 0;
      let xMax = 0;
      let yMax = 0;
      const keypoints = new Float64Array(best.keypoints.length);
      for (const c of candidates) {
        total += c.score;
        xMin += c.xMin * c.score;
        yMin += c.yMin * c.score;
        xMax += c.xMax * c.score;
        yMax += c.yMax * c.score;
        for (let k = 0; k < keypoints.length; k++) keypoints[k]! += c.keypoints[k]! * c.score;
      }
      for (let k = 0; k < keypoints.length; k++) keypoints[k]! /= total;
      out.push({ xMin: xMin / total, yMin: yMin / total, xMax: xMax / total, yMax: yMax / total, keypoints, score: best.score });
    }
    // A degenerate best box (zero area) overlaps nothing, not even itself; MediaPipe stops there.
    if (rest.length === remaining.length) break;
    remaining = rest;
  }
  return out;
}
