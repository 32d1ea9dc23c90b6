// Time the two ONNX files: node models/mediapipe/bench_onnx.mjs [node|web] [runs]
//   node: onnxruntime-node (native CPU), web: onnxruntime-web's WASM backend run in Node.
// One thread each; prints median and min ms per run after 5 warm-up runs.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const which = process.argv[2] ?? 'node';
const runs = Number(process.argv[3] ?? 50);
const ort = which === 'web' ? await import('onnxruntime-web') : await import('onnxruntime-node');
if (which === 'web') ort.env.wasm.numThreads = 1;

for (const [name, shape] of [['face_detection_short_range', [1, 128, 128, 3]], ['face_landmark', [1, 192, 192, 3]]]) {
  const file = path.join(HERE, `${name}.onnx`);
  const session = which === 'web'
    ? await ort.InferenceSession.create(readFileSync(file), { executionProviders: ['wasm'] })
    : await ort.InferenceSession.create(file, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const size = shape.reduce((a, b) => a * b, 1);
  const input = new ort.Tensor('float32', Float32Array.from({ length: size }, (_, i) => (i % 251) / 251), shape);
  for (let i = 0; i < 5; i++) await session.run({ input });
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await session.run({ input });
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  console.log(`${which} ${name}: median ${times[runs >> 1].toFixed(2)} ms, min ${times[0].toFixed(2)} ms (${runs} runs, 1 thread)`);
  await session.release();
}
