// Decoder speed in onnxruntime-node: reference.onnx once, frame.onnx per frame.
//   node models/train/bench_node.mjs [MODEL_DIR=models/kiloface-v1] [RUNS=60] [--wasm] [--no-guide | --geometry]
//                                    [--against OTHER_DIR]
//   node models/train/bench_node.mjs --graph FILE.onnx [RUNS=60] [--wasm]
// --against: the same graph of another model folder (e.g. an older export from git), run in turns
// with this one (1 thread), so that a busy or drifting machine slows both alike; prints each one's
// median and the median of the per-turn differences (this minus other).
// --graph: any graph with fixed-shape float32 inputs (e.g. subnet_graphs.py's U-Nets) on random
// inputs, 1 thread: the median and least ms a run.
// --wasm: onnxruntime-web's WASM backend in Node instead (1 thread: the browser's kernels without
// the browser, a steadier figure than an e2e run on a busy machine).
// --geometry: decoder v2's frame-geometry.onnx (frames without a guide) instead of frame.onnx.
// Prints JSON: median / min ms per frame for 1 and 2 intra-op threads with the session options of
// the codec's Node runner (codec/runners/onnx-node.ts), and for 2 threads with allow_spinning off
// (idle threads sleep: slower, but kinder to a busy shared machine). Inputs are the stored fixture
// (synthetic face), so no Python is needed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';

const wasm = process.argv.includes('--wasm');
const valueOf = (flag) => { const at = process.argv.indexOf(flag); return at > 0 ? process.argv[at + 1] : undefined; };
const against = valueOf('--against');
const graph = valueOf('--graph');
const positional = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !['--against', '--graph'].includes(all[i - 1]));
const [dir = 'models/kiloface-v1', runsArg = '60'] = graph ? [undefined, ...positional] : positional;
const runs = Number(runsArg);
const ort = wasm ? ortWeb : ortNode;
if (wasm) ort.env.wasm.numThreads = 1;
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };

if (graph) {
  const session = await ort.InferenceSession.create(graph, wasm ? { executionProviders: ['wasm'] } : { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const feeds = Object.fromEntries(session.inputMetadata.map((m) => {
    const size = m.shape.reduce((a, b) => a * b, 1);
    return [m.name, new ort.Tensor('float32', Float32Array.from({ length: size }, () => Math.random() - 0.5), m.shape)];
  }));
  for (let i = 0; i < 5; i++) await session.run(feeds);
  const ms = [];
  for (let i = 0; i < runs; i++) { const t = performance.now(); await session.run(feeds); ms.push(performance.now() - t); }
  console.log(JSON.stringify({ graph, runtime: wasm ? 'onnxruntime-web wasm' : 'onnxruntime-node', threads: 1, runs, loadavg: os.loadavg(),
    median_ms: +median(ms).toFixed(2), min_ms: +Math.min(...ms).toFixed(2) }));
  process.exit(0);
}
const fx = join(dir, 'fixture');
const f32 = (name) => { const b = readFileSync(join(fx, name)); return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4); };
const u8 = readFileSync(join(fx, 'ref_image_u8.bin'));
const img = new Float32Array(3 * 256 * 256);
for (let i = 0; i < 256 * 256; i++) for (let c = 0; c < 3; c++) img[c * 65536 + i] = u8[i * 3 + c] / 255;
const refImage = new ort.Tensor('float32', img, [1, 3, 256, 256]);
const lmR = new ort.Tensor('float32', f32('ref_landmarks.bin'), [1, 468, 2]);
const lmT = new ort.Tensor('float32', f32('tgt_landmarks.bin'), [1, 468, 2]);
// Decoder v2 (frame.onnx with guide inputs): the fixture's guide picture, on unless --no-guide
// (the geometry-only mode: guide_on 0, the same graph).
const geometryOnly = process.argv.includes('--geometry');
const guideOn = !process.argv.includes('--no-guide');
const guideFeeds = (on) => {
  const g = readFileSync(join(fx, 'guide_u8.bin'));
  const guide = new Float32Array(3 * 64 * 64);
  for (let i = 0; i < 64 * 64; i++) for (let c = 0; c < 3; c++) guide[c * 4096 + i] = g[i * 3 + c] / 255;
  return { guide: new ort.Tensor('float32', guide, [1, 3, 64, 64]),
    guide_landmarks: new ort.Tensor('float32', f32('guide_landmarks.bin'), [1, 468, 2]),
    guide_on: new ort.Tensor('float32', new Float32Array([on ? 1 : 0]), [1, 1]) };
};
const result = { cpu: os.cpus()[0].model, cores: os.cpus().length, loadavg: os.loadavg(), runs,
  runtime: wasm ? 'onnxruntime-web wasm' : 'onnxruntime-node', threads: {} };
const configs = wasm ? [{ name: '1', threads: 1 }] : [
  { name: '1', threads: 1, spinning: true },
  { name: '2', threads: 2, spinning: true },
  { name: '2_no_spinning', threads: 2, spinning: false },
];
/** A model folder's reference run once and its frame graph ready to run on the fixture; `frame()` times one run (ms). */
async function openModel(folder, opts) {
  const ref = await ort.InferenceSession.create(join(folder, 'reference.onnx'), opts);
  const session = await ort.InferenceSession.create(join(folder, geometryOnly ? 'frame-geometry.onnx' : 'frame.onnx'), opts);
  const t = performance.now();
  const r = await ref.run({ ref_image: refImage, ref_landmarks: lmR });
  const refMs = performance.now() - t;
  const feeds = { ref_image: refImage, ref_feat: r.ref_feat, ref_mouth_feat: r.ref_mouth_feat, ref_landmarks: lmR, tgt_landmarks: lmT };
  if (session.inputNames.includes('guide')) Object.assign(feeds, guideFeeds(guideOn));
  for (let i = 0; i < 5; i++) await session.run(feeds);
  const frame = async () => { const t0 = performance.now(); await session.run(feeds); return performance.now() - t0; };
  return { refMs, frame, guided: session.inputNames.includes('guide') };
}

result.frame = geometryOnly ? 'frame-geometry.onnx' : 'frame.onnx';
for (const { name, threads, spinning } of against ? configs.slice(0, 1) : configs) {
  const opts = wasm ? { executionProviders: ['wasm'] }
    : { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' };
  if (!wasm && !spinning) opts.extra = { session: { intra_op: { allow_spinning: '0' } } };
  const model = await openModel(dir, opts);
  result.guide = model.guided ? guideOn : null;
  if (against) {
    const other = await openModel(against, opts);
    const [mine, theirs] = [[], []];
    for (let i = 0; i < runs; i++) { mine.push(await model.frame()); theirs.push(await other.frame()); }
    const stats = (ms) => ({ frame_median_ms: +median(ms).toFixed(2), frame_min_ms: +Math.min(...ms).toFixed(2) });
    result.threads[name] = { [dir]: stats(mine), [against]: stats(theirs),
      median_difference_ms: +median(mine.map((v, i) => v - theirs[i])).toFixed(2) };
    continue;
  }
  const ms = [];
  for (let i = 0; i < runs; i++) ms.push(await model.frame());
  result.threads[name] = { reference_ms: +model.refMs.toFixed(2), frame_median_ms: +median(ms).toFixed(2), frame_min_ms: +Math.min(...ms).toFixed(2) };
}
console.log(JSON.stringify(result));
