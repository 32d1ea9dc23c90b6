import { describe, expect, it } from 'vitest';
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import { useCompiledOnnxWasm } from '../../../web/runtime/onnx-web.ts';

// The smallest valid WebAssembly module: the magic number and version, no sections.
const EMPTY_MODULE = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

/** A response as fetch gives it: WASM bytes from `url`. */
function wasmResponse(url: string): Response {
  const response = new Response(EMPTY_MODULE, { headers: { 'content-type': 'application/wasm' } });
  Object.defineProperty(response, 'url', { value: url });
  return response;
}

describe('onnxruntime WASM compiled once per page (useCompiledOnnxWasm)', () => {
  it("answers onnxruntime's instantiateStreaming of its WASM from the given module, and leaves other WASM alone", async () => {
    const shared = await WebAssembly.compile(EMPTY_MODULE);
    useCompiledOnnxWasm(shared);
    const ort = await WebAssembly.instantiateStreaming(Promise.resolve(wasmResponse(new URL(wasmUrl, 'http://localhost/').href)), {});
    expect(ort.module).toBe(shared);
    expect(ort.instance).toBeInstanceOf(WebAssembly.Instance);
    const other = await WebAssembly.instantiateStreaming(Promise.resolve(wasmResponse('http://localhost/other.wasm')), {});
    expect(other.module).not.toBe(shared);
  });
});
