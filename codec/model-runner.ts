// The one place the codec meets a neural-network runtime. The codec asks a ModelRuntime to load
// an ONNX model and runs it through ModelRunner; onnxruntime-node (tests, tools, bench) and
// onnxruntime-web (the browser) implement it, so the same codec code runs everywhere.

export interface Tensor {
  data: Float32Array;
  dims: readonly number[];
}

export type Tensors = Record<string, Tensor>;

export interface ModelRunner {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** The execution provider that really runs the model, e.g. 'cpu', 'wasm', 'webgpu'. */
  readonly backend: string;
  run(feeds: Tensors): Promise<Tensors>;
  close(): Promise<void>;
}

export interface ModelRunnerOptions {
  /** Intra-op threads; browsers get more than one only when cross-origin isolated. */
  threads?: number;
  /** Try the GPU (WebGPU in browsers) first, falling back to the CPU. */
  preferGpu?: boolean;
}

/** A model file by path or URL, or its bytes. */
export type ModelSource = string | Uint8Array;

export interface ModelRuntime {
  readonly name: string;
  load(source: ModelSource, options?: ModelRunnerOptions): Promise<ModelRunner>;
}

export class ModelLoadError extends Error {
  constructor(source: ModelSource, cause: unknown) {
    super(`could not load model ${typeof source === 'string' ? source : `(${source.length} bytes)`}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'ModelLoadError';
  }
}

/** Checks shapes before a run: a wrong input must fail with a clear message, not deep in WASM. */
export function checkTensor(name: string, tensor: Tensor): void {
  const expected = tensor.dims.reduce((a, b) => a * b, 1);
  if (tensor.data.length !== expected) throw new RangeError(`input ${name}: ${tensor.data.length} values for dims [${tensor.dims.join(',')}] (${expected})`);
}
