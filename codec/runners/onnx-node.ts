// ModelRuntime on onnxruntime-node: for tests, tools and the benchmark. Node only.
import * as ort from 'onnxruntime-node';
import { checkTensor, ModelLoadError, type ModelRunner, type ModelRunnerOptions, type ModelRuntime, type ModelSource, type Tensors } from '../model-runner.ts';

class OnnxNodeRunner implements ModelRunner {
  readonly backend = 'cpu';
  constructor(private readonly session: ort.InferenceSession) {}

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  async run(feeds: Tensors): Promise<Tensors> {
    const inputs: Record<string, ort.Tensor> = {};
    for (const [name, tensor] of Object.entries(feeds)) {
      checkTensor(name, tensor);
      inputs[name] = new ort.Tensor('float32', tensor.data, tensor.dims);
    }
    const outputs = await this.session.run(inputs);
    const result: Tensors = {};
    for (const [name, value] of Object.entries(outputs)) result[name] = { data: value.data as Float32Array, dims: value.dims };
    return result;
  }

  close(): Promise<void> {
    return this.session.release();
  }
}

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
      return new OnnxNodeRunner(session);
    } catch (error) {
      throw new ModelLoadError(source, error);
    }
  },
};
