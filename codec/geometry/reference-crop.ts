import { CROP_SIZE } from '../shipped.ts';
import { LANDMARKS } from './face-geometry.ts';

// THE CROP RULE (models/train/data/README.md, crop_rule.py), ported line by line: one fixed
// square per reference segment, so the reference's background stays put while the face moves.
//   box_t  = bounding box of the 468 landmarks (x, y) in frame t
//   cx, cy = median over t of the box centre, per axis
//   side   = CROP_FACTOR × median over t of max(box width, box height)
//   size   = round(side); x = round(cx − size/2); y = round(cy − size/2)   (round = floor(v + 0.5))
// Parts of the square outside the frame are edge-replicated padding.

export const CROP_FACTOR = 2.0;

export interface CropBox {
  /** Left and top edges in source pixels (may be negative: padding), side in source pixels. */
  x: number;
  y: number;
  size: number;
}

function median(values: number[]): number {
  const sorted = values.slice().sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Bounding box of the 468 landmarks (x, y): centre and long side; undefined if any is not finite. */
export function landmarkBox(landmarks: ArrayLike<number>): { centre: [number, number]; size: number } | undefined {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let p = 0; p < LANDMARKS; p++) {
    const x = landmarks[p * 3]!;
    const y = landmarks[p * 3 + 1]!;
    if (!Number.isFinite(x) || !Number.isFinite(y)) return undefined;
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x);
    y1 = Math.max(y1, y);
  }
  return { centre: [(x0 + x1) / 2, (y0 + y1) / 2], size: Math.max(x1 - x0, y1 - y0) };
}

/** The crop for a segment from its frames' landmarks (468 xyz each, source pixels); undefined without a face. */
export function cropBox(frames: readonly ArrayLike<number>[], factor = CROP_FACTOR): CropBox | undefined {
  const cx: number[] = [];
  const cy: number[] = [];
  const sides: number[] = [];
  for (const landmarks of frames) {
    const box = landmarkBox(landmarks);
    if (!box) continue;
    cx.push(box.centre[0]);
    cy.push(box.centre[1]);
    sides.push(box.size);
  }
  if (sides.length === 0) return undefined;
  const size = Math.max(1, Math.floor(factor * median(sides) + 0.5));
  return { x: Math.floor(median(cx) - size / 2 + 0.5), y: Math.floor(median(cy) - size / 2 + 0.5), size };
}

/** Source-pixel landmarks → crop pixels (z scaled by the same factor). */
export function toCropPixels(landmarks: ArrayLike<number>, box: CropBox, outSize = CROP_SIZE): Float32Array {
  const k = outSize / box.size;
  const out = new Float32Array(LANDMARKS * 3);
  for (let p = 0; p < LANDMARKS; p++) {
    out[p * 3] = (landmarks[p * 3]! - box.x) * k;
    out[p * 3 + 1] = (landmarks[p * 3 + 1]! - box.y) * k;
    out[p * 3 + 2] = landmarks[p * 3 + 2]! * k;
  }
  return out;
}
