// ModelRuntime on onnxruntime-web: WebGPU when the browser has it and the caller asks, else WASM
// (SIMD, and threads when the page is cross-origin isolated).
import * as ort from 'onnxruntime-web';
import { ModelLoadError, type ModelRunner, type ModelRunnerOptions, type ModelRuntime, type ModelSource } from '../../codec/model-runner.ts';
import { OrtSessionRunner, type OrtSessionLike } from '../../codec/runners/ort-session-runner.ts';

function hasWebGpu(): boolean {
  return typeof navigator !== 'undefined' && 'gpu' in navigator;
}

export const onnxWebRuntime: ModelRuntime = {
  name: 'onnxruntime-web',
  async load(source: ModelSource, options: ModelRunnerOptions = {}): Promise<ModelRunner> {
    // The WASM and its glue module come from the server (/ort/, see server/static-files.ts).
    ort.env.wasm.wasmPaths = new URL('/ort/', globalThis.location?.href ?? 'http://localhost/').href;
    // Threads need SharedArrayBuffer, which browsers give only to cross-origin-isolated pages.
    ort.env.wasm.numThreads = globalThis.crossOriginIsolated ? Math.max(1, options.threads ?? 1) : 1;
    const providers = options.preferGpu && hasWebGpu() ? ['webgpu', 'wasm'] : ['wasm'];
    let lastError: unknown;
    for (const provider of providers) {
      try {
        const session =
          typeof source === 'string'
            ? await ort.InferenceSession.create(source, { executionProviders: [provider], graphOptimizationLevel: 'all' })
            : await ort.InferenceSession.create(source, { executionProviders: [provider], graphOptimizationLevel: 'all' });
        return new OrtSessionRunner(session as unknown as OrtSessionLike, (data, dims) => new ort.Tensor('float32', data, dims), provider);
      } catch (error) {
        lastError = error; // e.g. no WebGPU adapter: fall through to WASM
      }
    }
    throw new ModelLoadError(source, lastError);
  },
};
