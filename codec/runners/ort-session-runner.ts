import { checkTensor, type ModelRunner, type Tensors } from '../model-runner.ts';

// onnxruntime-node and onnxruntime-web share one API shape (InferenceSession, Tensor); this
// adapter is the ModelRunner over either, so the two runtime files only say how to make a session.

interface OrtValue {
  readonly dims: readonly number[];
  getData(): Promise<unknown>;
}

export interface OrtSessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, unknown>): Promise<Record<string, OrtValue>>;
  release(): Promise<void>;
}

export type OrtTensorFactory = (data: Float32Array, dims: readonly number[]) => unknown;

export class OrtSessionRunner implements ModelRunner {
  constructor(
    private readonly session: OrtSessionLike,
    private readonly makeTensor: OrtTensorFactory,
    readonly backend: string,
  ) {}

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  async run(feeds: Tensors): Promise<Tensors> {
    const inputs: Record<string, unknown> = {};
    for (const [name, tensor] of Object.entries(feeds)) {
      checkTensor(name, tensor);
      inputs[name] = this.makeTensor(tensor.data, tensor.dims);
    }
    const outputs = await this.session.run(inputs);
    const result: Tensors = {};
    for (const [name, value] of Object.entries(outputs)) result[name] = { data: (await value.getData()) as Float32Array, dims: value.dims };
    return result;
  }

  close(): Promise<void> {
    return this.session.release();
  }
}
