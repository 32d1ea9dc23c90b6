import { POSE_VALUES, type GeometryModel } from './face-geometry.ts';

// The geometry model as shipped: MediaPipe's canonical face (models/mediapipe/canonical_face.json)
// and the expression basis (models/geometry/basis-v1.json, written by models/geometry/fit_basis.py).

export interface CanonicalFaceJson {
  vertices: number[][];
  procrustes_landmark_basis: { landmark_id: number; weight: number }[];
}

export interface BasisJson {
  version: string | number;
  K: number;
  /** K rows of 1404 numbers, or base64 of K*1404 little-endian float32. */
  components: number[][] | string;
  /** RMS landmark displacement (px, 256 crop, frontal, median scale) per unit of each value. */
  sensitivity_px_rms_per_unit: { rx: number; ry: number; rz: number; tx: number; ty: number; tz: number; ln_s: number; coefficients: number[] };
}

/**
 * One quantiser step at quantiser 0 moves the landmarks by about this much (px RMS), whatever
 * the value: steps are this divided by each value's measured sensitivity, so the error budget
 * is spread evenly (equal steps in landmark space are what minimises the error for the bits).
 */
export const BASE_STEP_PX = 0.05;
/** tz moves no landmark in x/y: it gets a coarse step (and costs almost no bits). */
const INSENSITIVE_STEP = 5;

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
    version: String(basisJson.version),
    // Image axes: the canonical face turned 180° about x (y down, z away from the camera).
    canonical: Float64Array.from(canonicalJson.vertices.flatMap(([x, y, z]) => [x!, -y!, -z!])),
    procrustesIds: Int32Array.from(canonicalJson.procrustes_landmark_basis, (b) => b.landmark_id),
    procrustesWeights: Float64Array.from(canonicalJson.procrustes_landmark_basis, (b) => b.weight),
    basis: decodeComponents(basisJson.components, components),
    components,
    baseSteps: baseSteps(basisJson.sensitivity_px_rms_per_unit, components),
  };
}

function baseSteps(sensitivity: BasisJson['sensitivity_px_rms_per_unit'], components: number): Float32Array {
  const { rx, ry, rz, tx, ty, tz, ln_s } = sensitivity;
  const per = [rx, ry, rz, tx, ty, tz, ln_s, ...sensitivity.coefficients.slice(0, components)];
  if (per.length !== POSE_VALUES + components) throw new RangeError('the basis lacks sensitivities for some values');
  return Float32Array.from(per, (px) => (px > 1e-6 ? BASE_STEP_PX / px : INSENSITIVE_STEP));
}
