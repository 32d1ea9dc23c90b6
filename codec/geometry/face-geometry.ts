import { applyRotation, matrixToRotvec, rotvecToMatrix, weightedProcrustes, type Mat3, type Similarity, type Vec3 } from './rigid.ts';

// Face geometry: L ≈ s R (Y_ref + Bᵀ c) + t   (models/geometry/README.md)
//   L      468 landmarks in crop pixels (x right, y down, z away from the camera)
//   Y_ref  the reference frame's own shape in canonical space (cm): the receiver has it, so only
//          change is sent
//   B      K orthonormal expression components (PCA on training people), c their coefficients
//   s R t  head pose, by MediaPipe's weighted Procrustes against the canonical face
// The vector the codec sends: [rx, ry, rz, tx, ty, tz, ln s, c_1 … c_K].

export const LANDMARKS = 468;
export const POSE_VALUES = 7;

export interface GeometryModel {
  version: string;
  /** Canonical face, 468 xyz in image axes (cm). */
  canonical: Float64Array;
  procrustesIds: Int32Array;
  procrustesWeights: Float64Array;
  /** K rows of 1404 values (orthonormal). */
  basis: Float32Array;
  components: number;
  /** Quantiser steps at quantiser 0: POSE_VALUES + components values. */
  baseSteps: Float32Array;
}

export class FaceGeometry {
  constructor(readonly model: GeometryModel) {
    if (model.canonical.length !== LANDMARKS * 3) throw new RangeError('canonical face must have 468 points');
    if (model.basis.length !== model.components * LANDMARKS * 3) throw new RangeError('basis size does not match its component count');
    if (model.baseSteps.length !== POSE_VALUES + model.components) throw new RangeError('one base step per geometry value');
  }

  get dimensions(): number {
    return POSE_VALUES + this.model.components;
  }

  fitPose(landmarks: ArrayLike<number>): Similarity {
    return weightedProcrustes(this.model.canonical, landmarks, this.model.procrustesIds, this.model.procrustesWeights);
  }

  /** Y_ref: a reference frame's landmarks brought into canonical space by its own pose. */
  referenceShape(landmarks: ArrayLike<number>): Float64Array {
    return toCanonical(landmarks, this.fitPose(landmarks));
  }

  /** Landmarks (468 xyz, crop pixels) → geometry vector, relative to the reference shape. */
  encode(landmarks: ArrayLike<number>, referenceShape: Float64Array): Float32Array {
    const pose = this.fitPose(landmarks);
    const shape = toCanonical(landmarks, pose);
    const out = new Float32Array(this.dimensions);
    const r = matrixToRotvec(pose.rotation);
    out.set([r[0], r[1], r[2], pose.translation[0], pose.translation[1], pose.translation[2], Math.log(pose.scale)]);
    const { basis, components } = this.model;
    const n = LANDMARKS * 3;
    for (let k = 0; k < components; k++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += basis[k * n + i]! * (shape[i]! - referenceShape[i]!);
      out[POSE_VALUES + k] = dot;
    }
    return out;
  }

  /** Geometry vector → landmarks (468 xyz, crop pixels). */
  decode(vector: ArrayLike<number>, referenceShape: Float64Array): Float32Array {
    const { basis, components } = this.model;
    const n = LANDMARKS * 3;
    const shape = Float64Array.from(referenceShape);
    for (let k = 0; k < components; k++) {
      const c = vector[POSE_VALUES + k]!;
      if (c !== 0) for (let i = 0; i < n; i++) shape[i]! += c * basis[k * n + i]!;
    }
    const rotation = rotvecToMatrix([vector[0]!, vector[1]!, vector[2]!]);
    const scale = Math.exp(vector[6]!);
    const t: Vec3 = [vector[3]!, vector[4]!, vector[5]!];
    const out = new Float32Array(n);
    for (let p = 0; p < LANDMARKS; p++) {
      const q = applyRotation(rotation, [shape[p * 3]!, shape[p * 3 + 1]!, shape[p * 3 + 2]!]);
      out[p * 3] = scale * q[0] + t[0];
      out[p * 3 + 1] = scale * q[1] + t[1];
      out[p * 3 + 2] = scale * q[2] + t[2];
    }
    return out;
  }
}

/** Inverse pose: (L − t) R / s, per point. */
function toCanonical(landmarks: ArrayLike<number>, pose: Similarity): Float64Array {
  const r: Mat3 = pose.rotation;
  const out = new Float64Array(LANDMARKS * 3);
  for (let p = 0; p < LANDMARKS; p++) {
    const x = landmarks[p * 3]! - pose.translation[0];
    const y = landmarks[p * 3 + 1]! - pose.translation[1];
    const z = landmarks[p * 3 + 2]! - pose.translation[2];
    // Rᵀ applied to the row vector: (v R)_c = Σ_r v_r R[r][c]
    out[p * 3] = (x * r[0] + y * r[3] + z * r[6]) / pose.scale;
    out[p * 3 + 1] = (x * r[1] + y * r[4] + z * r[7]) / pose.scale;
    out[p * 3 + 2] = (x * r[2] + y * r[5] + z * r[8]) / pose.scale;
  }
  return out;
}

/** Root-mean-square 2-D distance between two landmark sets (x, y only), in pixels. */
export function landmarkRmse(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let p = 0; p < LANDMARKS; p++) sum += (a[p * 3]! - b[p * 3]!) ** 2 + (a[p * 3 + 1]! - b[p * 3 + 1]!) ** 2;
  return Math.sqrt(sum / LANDMARKS);
}
