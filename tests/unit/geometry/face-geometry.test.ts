import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FaceGeometry, landmarkRmse, LANDMARKS, type GeometryModel } from '../../../codec/geometry/face-geometry.ts';
import { matrixToRotvec, rotvecToMatrix, weightedProcrustes, type Vec3 } from '../../../codec/geometry/rigid.ts';
import { rng } from '../codec/random.ts';

const canonicalJson = JSON.parse(readFileSync('models/mediapipe/canonical_face.json', 'utf8')) as {
  vertices: number[][];
  procrustes_landmark_basis: { landmark_id: number; weight: number }[];
};
// Image axes: MediaPipe's canonical face turned 180° about x (y down, z away from the camera).
const canonical = Float64Array.from(canonicalJson.vertices.flatMap(([x, y, z]) => [x!, -y!, -z!]));
const ids = Int32Array.from(canonicalJson.procrustes_landmark_basis, (b) => b.landmark_id);
const weights = Float64Array.from(canonicalJson.procrustes_landmark_basis, (b) => b.weight);

/** K random orthonormal rows of 1404 values (Gram-Schmidt). */
function randomBasis(k: number, seed: number): Float32Array {
  const random = rng(seed);
  const n = LANDMARKS * 3;
  const rows: Float64Array[] = [];
  for (let r = 0; r < k; r++) {
    const v = Float64Array.from({ length: n }, () => random() - 0.5);
    for (const u of rows) {
      let d = 0;
      for (let i = 0; i < n; i++) d += v[i]! * u[i]!;
      for (let i = 0; i < n; i++) v[i]! -= d * u[i]!;
    }
    const norm = Math.hypot(...v);
    rows.push(v.map((x) => x / norm));
  }
  return Float32Array.from(rows.flatMap((r) => [...r]));
}

const K = 6;
const model: GeometryModel = {
  version: 'test',
  canonical,
  procrustesIds: ids,
  procrustesWeights: weights,
  basis: randomBasis(K, 1),
  components: K,
  baseSteps: new Float32Array(7 + K).fill(0.01),
};

describe('rigid transforms', () => {
  it('rotation vectors round-trip, including near 0 and near 180°', () => {
    for (const r of [[0.1, -0.2, 0.3], [0, 0, 1e-9], [3.1, 0.05, -0.02], [-1, 2, 0.5]] as Vec3[]) {
      const back = matrixToRotvec(rotvecToMatrix(r));
      const angle = Math.hypot(...r);
      const expected = angle > Math.PI ? r.map((x) => (x / angle) * (angle - 2 * Math.PI)) : r;
      back.forEach((x, i) => expect(x).toBeCloseTo(expected[i]!, 6));
    }
  });

  it('weighted Procrustes recovers a known similarity exactly', () => {
    const r = rotvecToMatrix([0.2, -0.35, 0.1]);
    const s = 7.5;
    const t: Vec3 = [128, 120, -40];
    const moved = new Float64Array(canonical.length);
    for (let p = 0; p < LANDMARKS; p++) {
      const x = canonical[p * 3]!, y = canonical[p * 3 + 1]!, z = canonical[p * 3 + 2]!;
      for (let c = 0; c < 3; c++) moved[p * 3 + c] = s * (r[c * 3]! * x + r[c * 3 + 1]! * y + r[c * 3 + 2]! * z) + t[c]!;
    }
    const fit = weightedProcrustes(canonical, moved, ids, weights);
    expect(fit.scale).toBeCloseTo(s, 9);
    fit.rotation.forEach((v, i) => expect(v).toBeCloseTo(r[i]!, 9));
    fit.translation.forEach((v, i) => expect(v).toBeCloseTo(t[i]!, 7));
  });
});

describe('FaceGeometry', () => {
  const geometry = new FaceGeometry(model);

  it('encodes a posed, deformed face into its pose and coefficients, and decodes it back', () => {
    const reference = geometry.decode([0.05, 0.1, 0, 128, 128, 0, Math.log(8), 0, 0, 0, 0, 0, 0], canonical);
    const yRef = geometry.referenceShape(reference);
    const truth = [0.1, -0.2, 0.05, 120, 135, 5, Math.log(7), 0.4, -0.3, 0.2, 0, 0.1, -0.05];
    const landmarks = geometry.decode(truth, yRef);
    const vector = geometry.encode(landmarks, yRef);
    // Procrustes fits on 33 points of a deformed face: pose and coefficients come back closely, not exactly.
    expect(landmarkRmse(geometry.decode(vector, yRef), landmarks)).toBeLessThan(0.5);
    for (let i = 7; i < truth.length; i++) expect(Math.abs(vector[i]! - truth[i]!)).toBeLessThan(0.05);
  });

  it('gives a zero expression for the reference itself', () => {
    const reference = geometry.decode([0, 0.3, 0, 128, 128, 0, Math.log(8), 0, 0, 0, 0, 0, 0], canonical);
    const yRef = geometry.referenceShape(reference);
    const vector = geometry.encode(reference, yRef);
    for (let i = 7; i < vector.length; i++) expect(Math.abs(vector[i]!)).toBeLessThan(1e-5);
    expect(landmarkRmse(geometry.decode(vector, yRef), reference)).toBeLessThan(1e-3);
  });
});
