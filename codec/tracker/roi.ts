import type { AffineMap } from './affine-sampler.ts';
import type { Detection } from './detection.ts';
import { LANDMARK_COUNT, LANDMARK_EYE_LEFT_IN_IMAGE, LANDMARK_EYE_RIGHT_IN_IMAGE, ROI_SCALE } from './mediapipe-face.ts';

// The region of interest the landmark model looks at: a rotated square in image pixels
// (MediaPipe's NormalizedRect, in pixels), and MediaPipe's two rules for making one
// (face_detection_front_detection_to_roi.pbtxt, face_landmark_landmarks_to_roi.pbtxt).

export interface Roi {
  /** Centre, image pixels. */
  readonly cx: number;
  readonly cy: number;
  /** Side of the square, image pixels. */
  readonly size: number;
  /** Radians; the ROI's x axis points along (cos, sin) in image coordinates (y down). */
  readonly angle: number;
}

/** Wraps an angle into [-pi, pi). */
export function normalizeAngle(angle: number): number {
  return angle - 2 * Math.PI * Math.floor((angle + Math.PI) / (2 * Math.PI));
}

/** Maps a point given as ROI fractions (u, v in [0, 1]) to image pixels. */
export function roiToImage(roi: Roi, u: number, v: number): [number, number] {
  const a = u - 0.5;
  const b = v - 0.5;
  const c = Math.cos(roi.angle);
  const s = Math.sin(roi.angle);
  return [roi.cx + roi.size * (c * a - s * b), roi.cy + roi.size * (s * a + c * b)];
}

/**
 * Where a crop's output pixel j samples the ROI:
 * - 'corner': at ROI fraction j / size, so crop corners are ROI corners (MediaPipe's CPU
 *   ImageToTensorCalculator, OpenCV warp; models/mediapipe/landmarks.py). The default.
 * - 'centre': at (j + 0.5) / size, pixel centres of the crop at pixel centres of the ROI grid
 *   (MediaPipe's GPU/WebGL ImageToTensorCalculator, as the @mediapipe/face_mesh web runtime
 *   runs it). The two differ by half a crop pixel (size of ROI / 2 / size in image pixels).
 */
export type SamplingGrid = 'corner' | 'centre';

/** The affine map from output pixels of a size x size crop to image pixels (see SamplingGrid). */
export function roiCropMap(roi: Roi, size: number, grid: SamplingGrid = 'corner'): AffineMap {
  const c = Math.cos(roi.angle);
  const s = Math.sin(roi.angle);
  const k = roi.size / size;
  const half = grid === 'centre' ? 0.5 / size : 0;
  const [x0, y0] = roiToImage(roi, half, half);
  return { a: c * k, b: -s * k, c: x0, d: s * k, e: c * k, f: y0 };
}

/**
 * DetectionsToRects (rotation from p0 to p1 made horizontal) + RectTransformation (square on
 * the long side, scaled): the ROI around a box with two reference points, all in pixels.
 */
export function roiFromPoints(xMin: number, yMin: number, xMax: number, yMax: number, p0x: number, p0y: number, p1x: number, p1y: number, scale = ROI_SCALE): Roi {
  return {
    cx: (xMin + xMax) / 2,
    cy: (yMin + yMax) / 2,
    size: Math.max(xMax - xMin, yMax - yMin) * scale,
    angle: normalizeAngle(Math.atan2(p1y - p0y, p1x - p0x)),
  };
}

/** ROI from a detection in image pixels: rotation from the eye keypoints (0 -> 1). */
export function roiFromDetection(detection: Detection, scale = ROI_SCALE): Roi {
  const k = detection.keypoints;
  return roiFromPoints(detection.xMin, detection.yMin, detection.xMax, detection.yMax, k[0]!, k[1]!, k[2]!, k[3]!, scale);
}

/**
 * ROI for the next frame from this frame's landmarks (x, y, z per point, image pixels): the
 * bounding box of all points, rotation from outer eye corner 33 to 263.
 */
export function roiFromLandmarks(landmarks: ArrayLike<number>, scale = ROI_SCALE): Roi {
  let xMin = Infinity;
  let yMin = Infinity;
  let xMax = -Infinity;
  let yMax = -Infinity;
  for (let i = 0; i < LANDMARK_COUNT; i++) {
    const x = landmarks[3 * i]!;
    const y = landmarks[3 * i + 1]!;
    if (x < xMin) xMin = x;
    if (x > xMax) xMax = x;
    if (y < yMin) yMin = y;
    if (y > yMax) yMax = y;
  }
  const a = LANDMARK_EYE_LEFT_IN_IMAGE;
  const b = LANDMARK_EYE_RIGHT_IN_IMAGE;
  return roiFromPoints(xMin, yMin, xMax, yMax, landmarks[3 * a]!, landmarks[3 * a + 1]!, landmarks[3 * b]!, landmarks[3 * b + 1]!, scale);
}

/** True when the ROI's centre lies inside a width x height frame. */
export function roiCentreInFrame(roi: Roi, width: number, height: number): boolean {
  return roi.cx >= 0 && roi.cy >= 0 && roi.cx < width && roi.cy < height;
}

export function isFiniteRoi(roi: Roi): boolean {
  return Number.isFinite(roi.cx) && Number.isFinite(roi.cy) && Number.isFinite(roi.angle) && Number.isFinite(roi.size) && roi.size > 0;
}
