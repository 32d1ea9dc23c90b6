// A synthetic talker for codec tests: the canonical face nodding, turning and talking (the first
// expression components), placed and drifting as the caller's frame needs.
import type { FaceGeometry } from '../../codec/geometry/face-geometry.ts';
import { POSE_VALUES } from '../../codec/geometry/face-geometry.ts';

export interface TalkerPlacement {
  /** Pixels per model unit. */
  scale: number;
  /** Where the face starts (px), how fast it drifts right (px/s), and how far it nods up and down (px). */
  x: number;
  y: number;
  driftPxPerS: number;
  nodPx: number;
}

/** Landmarks of the talker at `timeMs`, for a face geometry and its model's canonical shape. */
export function syntheticTalker(geometry: FaceGeometry, canonical: ArrayLike<number>, at: TalkerPlacement): (timeMs: number) => Float32Array {
  const logScale = Math.log(at.scale);
  const neutral = geometry.referenceShape(geometry.decode(Float32Array.from({ length: geometry.dimensions }, (_, i) => (i === 6 ? logScale : 0)), new Float64Array(canonical)));
  return (timeMs) => {
    const s = timeMs / 1000;
    const v = new Float32Array(geometry.dimensions);
    v.set([0.15 * Math.sin(2 * s), 0.25 * Math.sin(1.3 * s), 0.05 * Math.sin(0.7 * s), at.x + at.driftPxPerS * s, at.y + at.nodPx * Math.sin(s), 0, logScale]);
    for (let k = 0; k < 4; k++) v[POSE_VALUES + k] = 1.5 * Math.sin((3 + k) * s + k);
    return geometry.decode(v, neutral);
  };
}
