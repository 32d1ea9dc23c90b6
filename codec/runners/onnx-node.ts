// ModelRuntime on onnxruntime-node: for tests, tools and the benchmark. Node only.
import * as ort from 'onnxruntime-node';
import { ModelLoadError, type ModelRunner, type ModelRunnerOptions, type ModelRuntime, type ModelSource } from '../model-runner.ts';
import { OrtSessionRunner, type OrtSessionLike } from './ort-session-runner.ts';

export const onnxNodeRuntime: ModelRuntime = {
  name: 'onnxruntime-node',
  async load(source: ModelSource, options: ModelRunnerOptions = {}): Promise<ModelRunner> {
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: options.threads ?? 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    };
    try {
      const session =
        typeof source === 'string' ? await ort.InferenceSession.create(source, sessionOptions) : await ort.InferenceSession.create(source, sessionOptions);
      return new OrtSessionRunner(session as unknown as OrtSessionLike, (data, dims) => new ort.Tensor('float32', data, dims), 'cpu');
    } catch (error) {
      throw new ModelLoadError(source, error);
    }
  },
};
