// Decoder evaluation (issue 4): for each talking-head clip of a data folder (validation people
// when the folder is the training one), the first frame with a face is the reference and every
// later frame is rebuilt from its CODED geometry, by three decoders: the reference frozen, the
// warp alone, and warp + refiner. Prints a table and writes JSON.
//
//   npm run eval -- --data DIR [--out FILE] [--max-frames N] [--max-clips N] [--model DIR]
//                   [--quantizer Q] [--threads T]
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { NeuralDecoder, imageTensor } from '../codec/decoder/neural-decoder.ts';
import { cropBox, toCropPixels } from '../codec/geometry/reference-crop.ts';
import { GeometryDecoder, GeometryEncoder, geometryCodingConfig } from '../codec/geometry/geometry-coder.ts';
import { onnxNodeRuntime } from '../codec/runners/onnx-node.ts';
import { CROP_SIZE, DECODER_DIR, PSNR_CAP_DB } from '../codec/shipped.ts';
import { decoderFilesIn, loadFaceGeometry, loadTracker } from '../codec/runners/shipped-node.ts';
import { croppedFrames, EVAL_FPS, evaluationClips, mean, trackingFrames } from './clip-frames.ts';
import { readManifest, TALKING_HEAD } from './manifest.ts';
import { msssimWithFullScaleSsim } from './metrics/msssim.ts';
import type { Plane } from './metrics/plane.ts';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const { values } = parseArgs({
  options: {
    data: { type: 'string', default: path.resolve(ROOT, '../shared/data') },
    out: { type: 'string' },
    'max-frames': { type: 'string', default: '100' },
    'max-clips': { type: 'string' },
    model: { type: 'string', default: path.join(ROOT, DECODER_DIR) },
    quantizer: { type: 'string', default: '8' },
    threads: { type: 'string', default: '2' },
    split: { type: 'string', default: path.join(ROOT, 'models/train/data/split-v1.json') },
  },
});
const maxFrames = Number(values['max-frames']);
const FRAMES_PER_PACKET = 5;
const DECODERS = ['frozen', 'warp', 'refiner'] as const;
type DecoderName = (typeof DECODERS)[number];

interface Quality {
  l1: number;
  psnr: number;
  ssim: number;
  msssim: number;
}

/** Planar [0,1] RGB (3×256×256) → interleaved-free luma plane 0..255 (BT.601), for SSIM/MS-SSIM. */
function lumaOfPlanar(rgb: Float32Array): Plane {
  const n = CROP_SIZE * CROP_SIZE;
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = 255 * (0.299 * rgb[i]! + 0.587 * rgb[n + i]! + 0.114 * rgb[2 * n + i]!);
  return { width: CROP_SIZE, height: CROP_SIZE, data };
}

function quality(decoded: Float32Array, truth: Float32Array): Quality {
  let abs = 0;
  let sq = 0;
  for (let i = 0; i < truth.length; i++) {
    const d = Math.min(1, Math.max(0, decoded[i]!)) - truth[i]!;
    abs += Math.abs(d);
    sq += d * d;
  }
  const mse = sq / truth.length;
  const { msssim, ssim } = msssimWithFullScaleSsim(lumaOfPlanar(truth), lumaOfPlanar(decoded));
  return { l1: abs / truth.length, psnr: mse > 0 ? Math.min(PSNR_CAP_DB, 10 * Math.log10(1 / mse)) : PSNR_CAP_DB, ssim, msssim };
}

interface ClipResult {
  clip: string;
  person: string;
  frames: number;
  frozen: Quality;
  warp: Quality;
  refiner: Quality;
}

function meanQuality(list: Quality[]): Quality {
  return { l1: mean(list.map((q) => q.l1)), psnr: mean(list.map((q) => q.psnr)), ssim: mean(list.map((q) => q.ssim)), msssim: mean(list.map((q) => q.msssim)) };
}

async function main(): Promise<void> {
  const manifest = await readManifest(path.join(values.data, 'MANIFEST.tsv'));
  const { clips: selected, note } = evaluationClips(manifest.filter((c) => c.kind === TALKING_HEAD), values.split);
  const clips = values['max-clips'] ? selected.slice(0, Number(values['max-clips'])) : selected;
  const { geometry } = loadFaceGeometry();
  const tracker = await loadTracker({ threads: 1 });
  const threads = Number(values.threads);
  const files = decoderFilesIn(values.model, { warp: true });
  const decoder = await NeuralDecoder.load(onnxNodeRuntime, files, { threads });
  console.log(`eval: ${clips.length} clips (${note}); up to ${maxFrames} frames each; geometry coded at q${values.quantizer}; decoder ${path.relative(ROOT, values.model)} on onnxruntime-node, ${threads} threads`);

  const rows: ClipResult[] = [];
  const decodeMs: number[] = [];
  for (const [index, clip] of clips.entries()) {
    const file = path.join(values.data, 'clips', clip.file);
    // Pass 1: landmarks of every frame (tracker on the whole picture).
    tracker.reset();
    const stream = trackingFrames(file, clip, maxFrames);
    const landmarks: (Float32Array | undefined)[] = [];
    for await (const rgb of stream.frames) {
      const result = await tracker.track({ data: rgb, width: stream.width, height: stream.height, channels: 3 });
      // Back to source pixels, where the crop box lives.
      landmarks.push(result.state === 'face' ? result.landmarks.map((v) => v / stream.scale) : undefined);
    }
    const refIndex = landmarks.findIndex((l) => l !== undefined);
    if (refIndex < 0) {
      console.log(`[${index + 1}/${clips.length}] ${clip.file}: no face, skipped`);
      continue;
    }
    const box = cropBox([landmarks[refIndex]!])!;
    const crop = landmarks.map((l) => (l ? toCropPixels(l, box) : undefined));
    const yRef = geometry.referenceShape(crop[refIndex]!);
    // Pass 2: the crops themselves (the truth), with the reference's crop box.
    const truths: Float32Array[] = [];
    for await (const rgb of croppedFrames(file, clip, box, maxFrames).frames) truths.push(imageTensor(rgb).data);
    const reference = truths[refIndex]!;
    await decoder.setReference({ data: reference, dims: [1, 3, CROP_SIZE, CROP_SIZE] }, crop[refIndex]!);

    // The geometry the receiver gets: coded and decoded as in a call.
    const config = geometryCodingConfig(geometry);
    const encoder = new GeometryEncoder(config);
    encoder.quantizer = Number(values.quantizer);
    const geometryDecoder = new GeometryDecoder(config);
    geometryDecoder.decode(encoder.encodeAnchor(geometry.encode(crop[refIndex]!, yRef), { sequence: 0, timestampMs: 0, referenceId: 0 }).packet);
    const targets = crop.map((l, i) => ({ i, l })).filter((f): f is { i: number; l: Float32Array } => f.l !== undefined && f.i > refIndex && f.i < truths.length);
    const scores: Record<DecoderName, Quality[]> = { frozen: [], warp: [], refiner: [] };
    for (let s = 0; s < targets.length; s += FRAMES_PER_PACKET) {
      const batch = targets.slice(s, s + FRAMES_PER_PACKET);
      const packet = encoder.encodeFrames(batch.map((t) => geometry.encode(t.l, yRef)), 1000 / EVAL_FPS, { sequence: 1 + s, timestampMs: 0, referenceId: 0 }).packet;
      const decoded = geometryDecoder.decode(packet);
      if (!decoded.ok || decoded.value.kind !== 'frames') throw new Error('geometry did not decode');
      for (const [j, frame] of decoded.value.frames.entries()) {
        const truth = truths[batch[j]!.i]!;
        const t0 = performance.now();
        const landmarks = geometry.decode(frame.values, yRef);
        const out = await decoder.decode(landmarks);
        decodeMs.push(performance.now() - t0);
        scores.frozen.push(quality(reference, truth));
        scores.warp.push(quality(await decoder.warpOnly(landmarks), truth));
        scores.refiner.push(quality(out.image, truth));
      }
    }
    const row: ClipResult = { clip: clip.file, person: clip.personId, frames: scores.refiner.length, frozen: meanQuality(scores.frozen), warp: meanQuality(scores.warp), refiner: meanQuality(scores.refiner) };
    rows.push(row);
    console.log(
      `[${index + 1}/${clips.length}] ${clip.file}: ${row.frames} frames; PSNR frozen ${row.frozen.psnr.toFixed(2)} warp ${row.warp.psnr.toFixed(2)} refiner ${row.refiner.psnr.toFixed(2)} dB; MS-SSIM ${row.frozen.msssim.toFixed(3)} / ${row.warp.msssim.toFixed(3)} / ${row.refiner.msssim.toFixed(3)}`,
    );
  }
  await tracker.close();
  await decoder.close();

  const meanOf = (name: DecoderName): Quality => meanQuality(rows.map((r) => r[name]));
  const result = {
    data: values.data,
    selection: note,
    model: path.relative(ROOT, values.model),
    geometry_quantizer: Number(values.quantizer),
    max_frames: maxFrames,
    metrics_note: 'L1 and PSNR on RGB in [0,1]; SSIM and MS-SSIM on BT.601 luma (bench/metrics); means over clips of per-clip means',
    mean: { frozen: meanOf('frozen'), warp: meanOf('warp'), refiner: meanOf('refiner') },
    ms_per_frame: mean(decodeMs),
    ms_per_frame_runtime: `onnxruntime-node, ${threads} threads, the per-frame network only (${files.frameGeometry ? 'frame-geometry.onnx: no guide here' : 'frame.onnx'}; reference.onnx runs once per reference)`,
    clips: rows,
  };
  console.log('\ndecoder   L1      PSNR dB  SSIM    MS-SSIM');
  for (const name of DECODERS) {
    const q = result.mean[name];
    console.log(`${name.padEnd(8)}  ${q.l1.toFixed(4)}  ${q.psnr.toFixed(2).padStart(7)}  ${q.ssim.toFixed(4)}  ${q.msssim.toFixed(4)}`);
  }
  console.log(`decoder ${result.ms_per_frame.toFixed(1)} ms/frame (${result.ms_per_frame_runtime})`);
  if (values.out) {
    await mkdir(path.dirname(path.resolve(values.out)), { recursive: true });
    await writeFile(values.out, JSON.stringify(result, null, 2));
    console.log(`wrote ${values.out}`);
  }
}

main().catch((error: Error) => {
  console.error(`eval failed: ${error.message}`);
  process.exit(1);
});
