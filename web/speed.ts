// /speed: how fast this device runs the codec's networks in the browser (onnxruntime-web),
// so a person can tell whether their machine keeps up, and tests can read the same numbers.
//   /speed?iterations=30&threads=2&gpu=1
import type { ModelRunner, Tensors } from '../codec/model-runner.ts';
import { CROP_SIZE, DECODER_DIR, SHIPPED_MODELS, type ShippedModel } from '../codec/shipped.ts';
import { h } from './util/dom.ts';
import { onnxWebRuntime } from './runtime/onnx-web.ts';
import { speedVerdict } from './speed-verdict.ts';

interface SpeedResult {
  model: string;
  backend: string;
  medianMs: number;
  minMs: number;
  /** First output values, so a test can compare them with onnxruntime-node. */
  firstOutputs: number[];
}

declare global {
  interface Window {
    kilofaceSpeed?: { done: boolean; threads: number; crossOriginIsolated: boolean; results: SpeedResult[]; errors: string[] };
  }
}

const params = new URLSearchParams(location.search);
const iterations = Math.max(3, Math.min(500, Number(params.get('iterations')) || 30));
// One thread unless asked: a call runs its networks on one (web/neural/neural-stream.ts), and on a
// 2-core machine two WASM threads ran the decoder at 89 ms median against 45 ms with one.
const threads = Math.max(1, Math.min(16, Number(params.get('threads')) || 1));
const preferGpu = params.get('gpu') === '1';

const root = document.getElementById('speed')!;
const table = h('tbody');
const status = h('p', { 'data-role': 'status', role: 'status' }, 'loading models…');
const verdict = h('p', { class: 'verdict', 'data-role': 'verdict', 'aria-live': 'polite' }, 'The verdict comes once every network has run (about a minute).');
root.append(
  h('p', {}, h('a', { href: '/', 'data-role': 'back' }, '← back to kiloface')),
  h('h1', {}, 'How fast is this device?'),
  h('p', {}, `Each network runs ${iterations} times, after warm-up runs until its time settles, on onnxruntime-web (${preferGpu ? 'WebGPU if available, else ' : ''}WASM, ${threads} thread${threads > 1 ? 's' : ''}${globalThis.crossOriginIsolated ? '' : ', single-threaded: page not cross-origin isolated'}).`),
  verdict,
  // Fixed columns (styles.css .speed-table): rows arriving one by one do not shift the others.
  h('table', { class: 'speed-table' }, h('thead', {}, h('tr', {}, h('th', {}, 'network'), h('th', {}, 'runs on'), h('th', {}, 'median ms'), h('th', {}, 'best ms'))), table),
  status,
);
window.kilofaceSpeed = { done: false, threads, crossOriginIsolated: globalThis.crossOriginIsolated, results: [], errors: [] };

/** A deterministic input pattern, the same as the Node comparison uses. */
/** Where the server serves a shipped model's file (its repository path). */
const served = (model: ShippedModel): string => `/${SHIPPED_MODELS[model]}`;

function pattern(length: number, scale = 1, offset = 0): Float32Array {
  return Float32Array.from({ length }, (_, i) => offset + scale * (((i * 7919) % 256) / 255));
}

/** The canonical face at 8 px/cm in the middle of a crop: plausible landmarks for the decoder. */
async function canonicalLandmarks(): Promise<Float32Array> {
  const json = (await (await fetch(served('canonical'))).json()) as { vertices: number[][] };
  return Float32Array.from(json.vertices.flatMap(([x, y]) => [CROP_SIZE / 2 + 8 * x!, CROP_SIZE / 2 - 8 * y!]));
}

/**
 * Warm-up before the timed runs: V8 first runs the WASM unoptimised and optimises its hot functions
 * in the background, over seconds on a slow machine (three warm-up runs left the guided decoder's
 * median at 119 ms in headless Chromium on a 2-core machine, its best run 36). Until three runs in
 * a row agree within WARMUP_SPREAD, for at most WARMUP_MS, so that the figures are a call's
 * steady ones.
 */
const WARMUP_RUNS = 3;
const WARMUP_SPREAD = 1.1;
const WARMUP_MS = 15_000;

async function time(name: string, runner: ModelRunner, feeds: Tensors): Promise<void> {
  let outputs: Tensors = {};
  const run = async (): Promise<number> => {
    const t0 = performance.now();
    outputs = await runner.run(feeds);
    return performance.now() - t0;
  };
  const warmup: number[] = [];
  const warmupEnd = performance.now() + WARMUP_MS;
  while (warmup.length < WARMUP_RUNS || Math.max(...warmup.slice(-WARMUP_RUNS)) > WARMUP_SPREAD * Math.min(...warmup.slice(-WARMUP_RUNS))) {
    if (performance.now() > warmupEnd) break;
    warmup.push(await run());
  }
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) samples.push(await run());
  samples.sort((a, b) => a - b);
  const first = outputs[runner.outputNames[0]!]!;
  const result: SpeedResult = { model: name, backend: runner.backend, medianMs: samples[samples.length >> 1]!, minMs: samples[0]!, firstOutputs: Array.from(first.data.slice(0, 8)) };
  window.kilofaceSpeed!.results.push(result);
  table.append(
    h('tr', { 'data-model': name }, h('td', {}, name), h('td', {}, result.backend), h('td', { 'data-stat': `${name}-median-ms` }, result.medianMs.toFixed(1)), h('td', { 'data-stat': `${name}-min-ms` }, result.minMs.toFixed(1))),
  );
}

async function measure(name: string, url: string, feeds: () => Promise<Tensors> | Tensors): Promise<void> {
  status.textContent = `running ${name}…`;
  try {
    const runner = await onnxWebRuntime.load(url, { threads, preferGpu });
    try {
      await time(name, runner, await feeds());
    } finally {
      await runner.close();
    }
  } catch (error) {
    const message = `${name}: ${(error as Error).message}`;
    window.kilofaceSpeed!.errors.push(message);
    table.append(h('tr', { 'data-model': name }, h('td', {}, name), h('td', { colspan: '3' }, `failed: ${(error as Error).message}`)));
  }
}

async function main(): Promise<void> {
  await measure('detector', served('detector'), () => ({ input: { data: pattern(128 * 128 * 3, 2, -1), dims: [1, 128, 128, 3] } }));
  await measure('landmarks', served('landmarks'), () => ({ input: { data: pattern(192 * 192 * 3), dims: [1, 192, 192, 3] } }));
  const landmarks = await canonicalLandmarks();
  const refImage = { data: pattern(3 * CROP_SIZE * CROP_SIZE), dims: [1, 3, CROP_SIZE, CROP_SIZE] };
  const lm = { data: landmarks, dims: [1, 468, 2] };
  const manifest = await fetch(`/${DECODER_DIR}/model.json`);
  if (!manifest.ok) {
    window.kilofaceSpeed!.errors.push(`decoder: ${DECODER_DIR} is not shipped with this server`);
  } else {
    let refOutputs: Tensors = {};
    await measure('decoder-reference', served('decoderReference'), () => ({ ref_image: refImage, ref_landmarks: lm }));
    const refRunner = await onnxWebRuntime.load(served('decoderReference'), { threads });
    refOutputs = await refRunner.run({ ref_image: refImage, ref_landmarks: lm });
    await refRunner.close();
    const moved = { data: landmarks.map((v, i) => v + (i % 2 ? 2 : 1)), dims: [1, 468, 2] };
    // Decoder v2 (model.json lists the guide inputs): timed with a guide, as the guide modes run it.
    const manifestJson = (await manifest.json()) as { inputs?: Record<string, Record<string, unknown>> };
    const frameInputs = manifestJson.inputs?.['frame.onnx'] ?? {};
    const guide: Tensors = 'guide' in frameInputs
      ? { guide: { data: pattern(3 * 64 * 64), dims: [1, 3, 64, 64] }, guide_landmarks: lm, guide_on: { data: Float32Array.of(1), dims: [1, 1] } }
      : {};
    const frameFeeds = {
      ref_image: refImage,
      ref_feat: refOutputs.ref_feat!,
      ref_mouth_feat: refOutputs.ref_mouth_feat!,
      ref_landmarks: lm,
      tgt_landmarks: moved,
    };
    await measure('decoder-frame', served('decoderFrame'), () => ({ ...frameFeeds, ...guide }));
    // The geometry-only network (frames without a guide: the lowest modes), where the folder has it.
    if ('frame-geometry.onnx' in (manifestJson.inputs ?? {})) await measure('decoder-frame-geometry', served('decoderFrameGeometry'), () => frameFeeds);
  }
  const median = (model: string): number | undefined => window.kilofaceSpeed!.results.find((r) => r.model === model)?.medianMs;
  verdict.textContent = speedVerdict(median('decoder-frame'), median('landmarks'));
  status.textContent = 'done';
  window.kilofaceSpeed!.done = true;
}

void main();
