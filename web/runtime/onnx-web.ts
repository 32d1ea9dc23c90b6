// ModelRuntime on onnxruntime-web: WebGPU when the browser has it and the caller asks, else WASM
// (SIMD, and threads when the page is cross-origin isolated). The WASM-only build of
// onnxruntime-web is half the size of the one with WebGPU (14 vs 28 MB of WASM to fetch and
// compile, which takes seconds on a slow machine), so the WebGPU one loads only when it is used.
type Ort = typeof import('onnxruntime-web');
// The WASM and its glue module: files of the build with a content hash in their names (so cached
// for good, server/static-files.ts). The WebGPU (JSEP) pair is fetched only when it is used.
import wasmGlueUrl from 'onnxruntime-web/ort-wasm-simd-threaded.mjs?url';
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import jsepGlueUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.mjs?url';
import jsepWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url';
import { ModelLoadError, type ModelRunner, type ModelRunnerOptions, type ModelRuntime, type ModelSource } from '../../codec/model-runner.ts';
import { OrtSessionRunner, type OrtSessionLike } from '../../codec/runners/ort-session-runner.ts';

const ADAPTER_TIMEOUT_MS = 2000;
let webGpuCheck: Promise<boolean> | undefined;

const absolute = (url: string): string => new URL(url, globalThis.location?.href ?? 'http://localhost/').href;

/**
 * Whether WebGPU has an adapter here. `navigator.gpu` alone says little: headless and GPU-less
 * browsers have it and then give no adapter (or take long to say so), so ask once, briefly.
 */
function hasWebGpu(): Promise<boolean> {
  const gpu = (globalThis.navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } } | undefined)?.gpu;
  if (!gpu) return Promise.resolve(false);
  webGpuCheck ??= Promise.race([
    gpu.requestAdapter().then((adapter) => adapter != null, () => false),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ADAPTER_TIMEOUT_MS)),
  ]);
  return webGpuCheck;
}

/**
 * The WASM-only build's module, compiled once by the page and handed to each of its workers (a
 * WebAssembly.Module can be posted to a worker). Each worker compiling its own copy cost the
 * 2-core machine ~90 s of background compiling per page at the start of a call (V8 compiles lazily
 * and recompiles hot functions optimised, per module), during which the pictures a second fell to
 * 1-4; one shared module is compiled and optimised once for all workers.
 */
export function compileOnnxWasm(): Promise<WebAssembly.Module> {
  return WebAssembly.compileStreaming(fetch(absolute(wasmUrl)));
}

/** Marks the message that carries the module (onnxWasmMessage), so that no worker handler mistakes it for its own. */
const WASM_MESSAGE = 'kilofaceOnnxWasm';

/** The message that hands a worker which called receiveOnnxWasm the compiled module (undefined: compile your own). */
export function onnxWasmMessage(module: WebAssembly.Module | undefined): { [WASM_MESSAGE]: true; module: WebAssembly.Module | undefined } {
  return { [WASM_MESSAGE]: true, module };
}

/**
 * In a worker, before it sets its own message handlers: onnxruntime-web will instantiate the
 * module the page posts (onnxWasmMessage) instead of fetching and compiling the WASM again. The
 * worker starts at once and fetches its models meanwhile; only onnxruntime's start waits for the
 * module. onnxruntime-web has no option for a compiled module, and its Emscripten glue calls
 * WebAssembly.instantiateStreaming with the WASM's URL: that one call is answered from the module
 * (the fetch it started is cancelled). `scope`: the worker's global (a parameter for tests).
 */
export function receiveOnnxWasm(scope: EventTarget = self): void {
  const module = new Promise<WebAssembly.Module | undefined>((resolve) => {
    scope.addEventListener('message', (event) => {
      const data = (event as MessageEvent<unknown>).data as Partial<ReturnType<typeof onnxWasmMessage>> | null;
      if (data?.[WASM_MESSAGE] !== true) return;
      event.stopImmediatePropagation();
      resolve(data.module);
    });
  });
  const wasmHref = absolute(wasmUrl);
  const instantiateStreaming = WebAssembly.instantiateStreaming.bind(WebAssembly);
  WebAssembly.instantiateStreaming = async (source, imports) => {
    const response = await source;
    const compiled = response.url === wasmHref ? await module : undefined;
    if (!compiled) return instantiateStreaming(response, imports);
    void response.body?.cancel().catch(() => undefined);
    return { module: compiled, instance: await WebAssembly.instantiate(compiled, imports) };
  };
}

let wasmOnly: Promise<Ort> | undefined;
let withWebGpu: Promise<Ort> | undefined;

function configure(ort: Ort, threads: number, gpu: boolean): Ort {
  ort.env.wasm.wasmPaths = gpu ? { mjs: absolute(jsepGlueUrl), wasm: absolute(jsepWasmUrl) } : { mjs: absolute(wasmGlueUrl), wasm: absolute(wasmUrl) };
  // Threads need SharedArrayBuffer, which browsers give only to cross-origin-isolated pages.
  ort.env.wasm.numThreads = globalThis.crossOriginIsolated ? Math.max(1, threads) : 1;
  return ort;
}

export const onnxWebRuntime: ModelRuntime = {
  name: 'onnxruntime-web',
  async load(source: ModelSource, options: ModelRunnerOptions = {}): Promise<ModelRunner> {
    const gpu = options.preferGpu === true && (await hasWebGpu());
    const ort = configure(
      await (gpu ? (withWebGpu ??= import('onnxruntime-web') as Promise<Ort>) : (wasmOnly ??= import('onnxruntime-web/wasm') as Promise<Ort>)),
      options.threads ?? 1,
      gpu,
    );
    const providers = gpu ? ['webgpu', 'wasm'] : ['wasm'];
    let lastError: unknown;
    for (const provider of providers) {
      try {
        const session =
          typeof source === 'string'
            ? await ort.InferenceSession.create(source, { executionProviders: [provider], graphOptimizationLevel: 'all' })
            : await ort.InferenceSession.create(source, { executionProviders: [provider], graphOptimizationLevel: 'all' });
        return new OrtSessionRunner(session as unknown as OrtSessionLike, (data, dims) => new ort.Tensor('float32', data, dims), provider);
      } catch (error) {
        lastError = error; // e.g. WebGPU failed after all: fall through to WASM
      }
    }
    throw new ModelLoadError(source, lastError);
  },
};
