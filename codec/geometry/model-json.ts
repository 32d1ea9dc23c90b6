import { POSE_VALUES, type GeometryModel } from './face-geometry.ts';

// The geometry model as shipped: MediaPipe's canonical face (models/mediapipe/canonical_face.json)
// and the expression basis (models/geometry/basis-v1.json, written by models/geometry/fit_basis.py).

interface CanonicalFaceJson {
  vertices: number[][];
  procrustes_landmark_basis: { landmark_id: number; weight: number }[];
}

export interface BasisJson {
  version: string;
  K: number;
  /** K rows of 1404 numbers, or base64 of K*1404 little-endian float32. */
  components: number[][] | string;
}

/**
 * Quantiser steps at quantiser 0, chosen so one step of any value moves the landmarks of a
 * typical 256-pixel crop (face ~130 px wide, ~9 px per canonical cm) by about 0.05 px RMS:
 * rotation 5e-4 rad; x/y translation 0.05 px; z translation does not move x/y at all (coarse);
 * ln scale 5e-4; an expression coefficient (cm in the orthonormal 1404-d basis) 0.1.
 */
export const POSE_BASE_STEPS = [5e-4, 5e-4, 5e-4, 0.05, 0.05, 5, 5e-4];
export const EXPRESSION_BASE_STEP = 0.1;

function decodeComponents(components: BasisJson['components'], k: number): Float32Array {
  if (typeof components === 'string') {
    const bytes = Uint8Array.from(atob(components), (c) => c.charCodeAt(0));
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4).slice(0, k * 1404);
  }
  return Float32Array.from(components.slice(0, k).flat());
}

/** Builds the codec's geometry model; `components` may keep fewer than the basis has. */
export function geometryModelFromJson(canonicalJson: CanonicalFaceJson, basisJson: BasisJson, components = basisJson.K): GeometryModel {
  if (components > basisJson.K) throw new RangeError(`the basis has ${basisJson.K} components, ${components} asked`);
  return {
    version: basisJson.version,
    // Image axes: the canonical face turned 180° about x (y down, z away from the camera).
    canonical: Float64Array.from(canonicalJson.vertices.flatMap(([x, y, z]) => [x!, -y!, -z!])),
    procrustesIds: Int32Array.from(canonicalJson.procrustes_landmark_basis, (b) => b.landmark_id),
    procrustesWeights: Float64Array.from(canonicalJson.procrustes_landmark_basis, (b) => b.weight),
    basis: decodeComponents(basisJson.components, components),
    components,
    baseSteps: Float32Array.from([...POSE_BASE_STEPS, ...Array<number>(components).fill(EXPRESSION_BASE_STEP)]),
  };
}

export { POSE_VALUES };
