import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { precompress } from './scripts/precompress.ts';

const page = (name: string): string => fileURLToPath(new URL(`web/${name}`, import.meta.url));

// Cross-origin isolation: onnxruntime-web's threaded WASM needs SharedArrayBuffer.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  root: 'web',
  publicDir: false,
  build: {
    outDir: '../dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // The call app, and /speed: how fast this device runs the codec's networks.
    rollupOptions: { input: { main: page('index.html'), speed: page('speed.html') } },
  },
  // simple-peer expects Node's `global`; the polyfill module sets Buffer and process.
  define: { global: 'globalThis' },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  // onnxruntime-web's build that loads its WASM glue as a separate module (a hashed file of the
  // build, web/runtime/onnx-web.ts): bundled inline, its thread workers would re-run the page's own chunk.
  resolve: { conditions: ['onnxruntime-web-use-extern-wasm', 'module', 'browser', 'production'] },
  // Every file of dist/ also as .br and .gz, for the server to send as they are (server/static-files.ts).
  plugins: [precompress()],
  server: { headers: isolation },
  preview: { headers: isolation },
});
