// The ONNX conversions of MediaPipe's face detector and face mesh (models/mediapipe/) must give
// what the original .tflite files give. The fixture holds one synthetic image per model and the
// tflite interpreter's outputs for it, written by models/mediapipe/check_parity.py; this test
// needs no Python, only onnxruntime-node.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURE = path.join(ROOT, 'tests/fixtures/mediapipe/parity_fixture.json');
const TOLERANCE = 1e-3;

interface FixtureOutput {
  shape: number[];
  f32_b64: string;
}

interface FixtureModel {
  onnx: string;
  input_name: string;
  input_shape: number[];
  div: number;
  offset: number;
  image_u8_gzip_b64: string;
  outputs: Record<string, FixtureOutput>;
}

interface Fixture {
  models: Record<string, FixtureModel>;
}

const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Fixture;

function float32FromBase64(b64: string): Float32Array {
  const bytes = Buffer.from(b64, 'base64');
  // Copy into a fresh, aligned buffer (a Buffer may sit at any offset of a shared pool).
  return new Float32Array(new Uint8Array(bytes).buffer);
}

/** MediaPipe's normalisation, float32(u8 / div + offset) computed in double as the fixture says. */
function modelInput(model: FixtureModel): Float32Array {
  const u8 = gunzipSync(Buffer.from(model.image_u8_gzip_b64, 'base64'));
  const expected = model.input_shape.reduce((a, b) => a * b, 1);
  expect(u8.length).toBe(expected);
  return Float32Array.from(u8, (v) => Math.fround(v / model.div + model.offset));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs((a[i] as number) - (b[i] as number));
    if (!(d <= worst)) worst = d; // NaN also lands here and fails the check below
  }
  return worst;
}

const EXPECTED_MODELS = {
  face_detection_short_range: { input: [1, 128, 128, 3], outputs: { regressors: [1, 896, 16], classificators: [1, 896, 1] } },
  face_landmark: { input: [1, 192, 192, 3], outputs: { landmarks: [1, 468, 3], face_flag: [1, 1] } },
} as const;

describe('MediaPipe ONNX conversions match the tflite originals', () => {
  for (const [name, spec] of Object.entries(EXPECTED_MODELS)) {
    it(`${name}: documented I/O and outputs within ${TOLERANCE} of tflite`, async () => {
      const model = fixture.models[name];
      expect(model, `fixture has no entry for ${name}`).toBeDefined();
      if (!model) return;
      expect(model.input_shape).toEqual(spec.input);

      const session = await ort.InferenceSession.create(path.join(ROOT, model.onnx), {
        intraOpNumThreads: 1,
      });
      try {
        expect(session.inputNames).toEqual([model.input_name]);
        expect([...session.outputNames].sort()).toEqual(Object.keys(spec.outputs).sort());

        const input = new ort.Tensor('float32', modelInput(model), model.input_shape);
        const results = await session.run({ [model.input_name]: input });
        for (const [outName, shape] of Object.entries(spec.outputs)) {
          const got = results[outName];
          const want = model.outputs[outName];
          expect(got, `missing output ${outName}`).toBeDefined();
          expect(want, `fixture lacks output ${outName}`).toBeDefined();
          if (!got || !want) continue;
          expect(got.dims).toEqual(shape);
          expect(want.shape).toEqual(shape);
          const diff = maxAbsDiff(got.data as Float32Array, float32FromBase64(want.f32_b64));
          expect(diff, `${name}.${outName} max |onnx - tflite|`).toBeLessThanOrEqual(TOLERANCE);
        }
      } finally {
        await session.release();
      }
    });
  }

  it('face_landmark sees a face in the synthetic fixture image (the input is not degenerate)', () => {
    const flag = float32FromBase64(fixture.models.face_landmark?.outputs.face_flag?.f32_b64 ?? '');
    expect(flag.length).toBe(1);
    // face_flag is a logit; MediaPipe keeps a face when sigmoid(logit) >= 0.5.
    expect(flag[0]).toBeGreaterThan(0);
  });
});
