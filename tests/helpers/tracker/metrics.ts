// Jitter and lag of landmark sequences: what codec/tracker/README.md reports and the tests check.
import { OneEuroVectorFilter, type OneEuroParams } from '../../../codec/tracker/one-euro.ts';
import { ROI_SCALE } from '../../../codec/tracker/mediapipe-face.ts';
import { roiFromLandmarks } from '../../../codec/tracker/roi.ts';

/** A landmark sequence: one 468 x 3 array per frame, with the frames' times in seconds. */
export interface Sequence {
  frames: Float32Array[];
  times: number[];
}

/** Applies the One Euro filter as FaceTracker does (speed scaled by 1 / face size). */
export function smoothSequence(seq: Sequence, params: OneEuroParams): Float32Array[] {
  const filter = new OneEuroVectorFilter(468 * 3, params);
  return seq.frames.map((raw, i) => filter.filter(raw, seq.times[i]!, ROI_SCALE / roiFromLandmarks(raw).size));
}

/** RMS over landmarks of each point's standard deviation (x and y pooled) over the frames: px. */
export function stillJitter(frames: readonly Float32Array[]): number {
  let sum = 0;
  for (let k = 0; k < 468; k++) {
    for (const c of [0, 1]) {
      let mean = 0;
      for (const f of frames) mean += f[3 * k + c]!;
      mean /= frames.length;
      let v = 0;
      for (const f of frames) v += (f[3 * k + c]! - mean) ** 2;
      sum += v / frames.length;
    }
  }
  return Math.sqrt(sum / 468); // per point: sqrt(var_x + var_y)
}

/**
 * Frame-to-frame noise estimate that ignores smooth motion: RMS of the second difference
 * x[t+1] - 2 x[t] + x[t-1] over points and frames, / sqrt(6) (white noise of std s gives s),
 * x and y pooled per point like stillJitter. px.
 */
export function secondDifferenceJitter(frames: readonly Float32Array[]): number {
  let sum = 0;
  let n = 0;
  for (let t = 1; t + 1 < frames.length; t++) {
    const a = frames[t - 1]!;
    const b = frames[t]!;
    const c = frames[t + 1]!;
    for (let k = 0; k < 468; k++) {
      const dx = c[3 * k]! - 2 * b[3 * k]! + a[3 * k]!;
      const dy = c[3 * k + 1]! - 2 * b[3 * k + 1]! + a[3 * k + 1]!;
      sum += dx * dx + dy * dy;
      n++;
    }
  }
  return Math.sqrt(sum / n / 6);
}

/** Mean of all 468 points (x, y). */
export function centroid(frame: Float32Array): [number, number] {
  let x = 0;
  let y = 0;
  for (let k = 0; k < 468; k++) {
    x += frame[3 * k]!;
    y += frame[3 * k + 1]!;
  }
  return [x / 468, y / 468];
}

/**
 * Lag of `smooth` behind `reference` in frames along a motion of known velocity (px / frame,
 * 2-D): mean over frames [from, to) of ((ref - smooth) . v) / |v|^2, per point then averaged.
 */
export function lagFrames(reference: readonly Float32Array[], smooth: readonly Float32Array[], vx: number, vy: number, from: number, to: number): number {
  const v2 = vx * vx + vy * vy;
  let sum = 0;
  let n = 0;
  for (let t = from; t < to; t++) {
    const r = reference[t]!;
    const s = smooth[t]!;
    for (let k = 0; k < 468; k++) {
      sum += ((r[3 * k]! - s[3 * k]!) * vx + (r[3 * k + 1]! - s[3 * k + 1]!) * vy) / v2;
      n++;
    }
  }
  return sum / n;
}

/** Mean point distance (px, 2-D) between two frames' landmarks. */
export function meanDistance(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let k = 0; k < 468; k++) sum += Math.hypot(a[3 * k]! - b[3 * k]!, a[3 * k + 1]! - b[3 * k + 1]!);
  return sum / 468;
}
