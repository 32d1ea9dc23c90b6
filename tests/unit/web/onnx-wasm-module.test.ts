import { describe, expect, it } from 'vitest';
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import { onnxWasmMessage, receiveOnnxWasm } from '../../../web/runtime/onnx-web.ts';

// The smallest valid WebAssembly module: the magic number and version, no sections.
const EMPTY_MODULE = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

/** A response as fetch gives it: WASM bytes from `url`. */
function wasmResponse(url: string): Response {
  const response = new Response(EMPTY_MODULE, { headers: { 'content-type': 'application/wasm' } });
  Object.defineProperty(response, 'url', { value: url });
  return response;
}

describe('onnxruntime WASM compiled once per page (receiveOnnxWasm)', () => {
  it("answers onnxruntime's instantiateStreaming of its WASM from the module the page posts, once it comes; other WASM and the worker's own handlers are left alone", async () => {
    const worker = new EventTarget(); // the worker's global
    receiveOnnxWasm(worker);
    const seenByWorker: unknown[] = [];
    worker.addEventListener('message', (event) => seenByWorker.push((event as MessageEvent).data));

    // onnxruntime starts before the module comes: its instantiation waits.
    let settled = false;
    const ort = WebAssembly.instantiateStreaming(Promise.resolve(wasmResponse(new URL(wasmUrl, 'http://localhost/').href)), {}).finally(() => (settled = true));
    const other = await WebAssembly.instantiateStreaming(Promise.resolve(wasmResponse('http://localhost/other.wasm')), {});
    expect(settled).toBe(false);

    const shared = await WebAssembly.compile(EMPTY_MODULE);
    worker.dispatchEvent(new MessageEvent('message', { data: onnxWasmMessage(shared) }));
    worker.dispatchEvent(new MessageEvent('message', { data: { type: 'start' } }));
    expect((await ort).module).toBe(shared);
    expect((await ort).instance).toBeInstanceOf(WebAssembly.Instance);
    expect(other.module).not.toBe(shared);
    expect(seenByWorker).toEqual([{ type: 'start' }]);
  });
});
