import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FaceGeometry } from '../../../codec/geometry/face-geometry.ts';
import { geometryModelFromJson, type BasisJson } from '../../../codec/geometry/model-json.ts';

// The TypeScript geometry against the Python reference (models/geometry/geometry.py), on the
// synthetic frames fit_basis.py stored with the basis: same pose, coefficients and landmarks.
const read = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));
const basis = read('models/geometry/basis-v1.json') as BasisJson;
const fixture = read('models/geometry/fixture-v1.json') as {
  y_ref: number[][];
  tolerance: { pose: number; coefficients: number; reconstruction_px: number };
  frames: { landmarks: number[][]; expected: { pose: number[]; coefficients: number[]; reconstruction: number[][] } }[];
};
const geometry = new FaceGeometry(geometryModelFromJson(read('models/mediapipe/canonical_face.json') as never, basis));
const yRef = Float64Array.from(fixture.y_ref.flat());

describe('FaceGeometry agrees with models/geometry/geometry.py', () => {
  it('encodes the fixture frames to the stored pose and coefficients', () => {
    for (const frame of fixture.frames) {
      const vector = geometry.encode(Float64Array.from(frame.landmarks.flat()), yRef);
      frame.expected.pose.forEach((v, i) => expect(Math.abs(vector[i]! - v), `pose ${i}`).toBeLessThan(Math.max(fixture.tolerance.pose, 1e-5 * Math.abs(v))));
      frame.expected.coefficients.forEach((v, k) => expect(Math.abs(vector[7 + k]! - v), `coefficient ${k}`).toBeLessThan(2e-4));
    }
  });

  it('decodes the stored values to the stored landmarks', () => {
    for (const frame of fixture.frames) {
      const landmarks = geometry.decode([...frame.expected.pose, ...frame.expected.coefficients], yRef);
      const expected = frame.expected.reconstruction.flat();
      let max = 0;
      expected.forEach((v, i) => (max = Math.max(max, Math.abs(landmarks[i]! - v))));
      expect(max).toBeLessThan(1e-3); // float32 output: ~1e-5 of a 256-pixel coordinate
    }
  });
});
