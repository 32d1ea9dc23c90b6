import { defineConfig } from 'vite';

// Cross-origin isolation: onnxruntime-web's threaded WASM needs SharedArrayBuffer.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  root: 'web',
  publicDir: false,
  build: { outDir: '../dist', emptyOutDir: true, target: 'es2022', sourcemap: true },
  // simple-peer expects Node's `global`; the polyfill module sets Buffer and process.
  define: { global: 'globalThis' },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  server: { headers: isolation },
  preview: { headers: isolation },
});
