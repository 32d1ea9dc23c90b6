import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelLoadError } from '../../../codec/model-runner.ts';
import { onnxNodeRuntime } from '../../../codec/runners/onnx-node.ts';

const LANDMARK_MODEL = path.resolve('models/mediapipe/face_landmark.onnx');

describe('onnxNodeRuntime', () => {
  it('loads a shipped model and runs it', async () => {
    const runner = await onnxNodeRuntime.load(LANDMARK_MODEL, { threads: 1 });
    expect(runner.inputNames).toEqual(['input']);
    const out = await runner.run({ input: { data: new Float32Array(192 * 192 * 3).fill(0.5), dims: [1, 192, 192, 3] } });
    expect(out.landmarks?.dims).toEqual([1, 468, 3]);
    expect(out.landmarks?.data.every(Number.isFinite)).toBe(true);
    await runner.close();
  });

  it('explains a wrong input shape before running', async () => {
    const runner = await onnxNodeRuntime.load(LANDMARK_MODEL);
    await expect(runner.run({ input: { data: new Float32Array(10), dims: [1, 192, 192, 3] } })).rejects.toThrow(/10 values for dims \[1,192,192,3\]/);
    await runner.close();
  });

  it('fails with ModelLoadError on bytes that are not a model', async () => {
    await expect(onnxNodeRuntime.load(new Uint8Array([1, 2, 3]))).rejects.toBeInstanceOf(ModelLoadError);
    await expect(onnxNodeRuntime.load('/nonexistent/model.onnx')).rejects.toThrow(/could not load model/);
  });
});
