// The sender's half of the codec, measured: tracker -> geometry -> coded packets -> decoded
// geometry -> landmarks, on every talking-head clip of a data folder (validation people only,
// when the folder is the one the basis was fitted on). Prints a table and writes JSON.
//
//   npm run bench:encoder -- --data DIR [--out FILE] [--max-frames N] [--quantizers 4,8,12]
//                            [--quantizer Q] [--frames-per-packet F] [--components K] [--max-clips N]
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FaceGeometry, landmarkRmse } from '../codec/geometry/face-geometry.ts';
import { geometryModelFromJson } from '../codec/geometry/model-json.ts';
import { cropBox, toCropPixels } from '../codec/geometry/reference-crop.ts';
import { GeometryDecoder, GeometryEncoder, geometryCodingConfig } from '../codec/geometry/geometry-coder.ts';
import { FRAME_SLOT_MS } from '../codec/shipped.ts';
import { loadTracker, readGeometryJson } from '../codec/runners/shipped-node.ts';
import { EVAL_FPS as FPS, evaluationClips, mean, trackingFrames } from './clip-frames.ts';
import { readManifest, TALKING_HEAD } from './manifest.ts';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: path.resolve(ROOT, '../shared/data') },
    out: { type: 'string' },
    'max-frames': { type: 'string', default: '125' },
    quantizers: { type: 'string', default: '0,4,8,12,16' },
    quantizer: { type: 'string', default: '8' },
    'frames-per-packet': { type: 'string', default: '5' },
    components: { type: 'string' },
    'max-clips': { type: 'string' },
    split: { type: 'string', default: path.join(ROOT, 'models/train/data/split-v1.json') },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  console.log(readFileSync(new URL(import.meta.url), 'utf8').split('\n').slice(0, 6).join('\n'));
  process.exit(0);
}

const maxFrames = Number(values['max-frames']);
const quantizers = values.quantizers.split(',').map(Number);
const mainQuantizer = Number(values.quantizer);
if (!quantizers.includes(mainQuantizer)) quantizers.push(mainQuantizer);
const framesPerPacket = Number(values['frames-per-packet']);

interface ClipRow {
  clip: string;
  person: string;
  frames: number;
  facesFound: number;
  ms_per_frame: number;
  ms_tracker_per_frame: number;
  ms_geometry_coding_per_frame: number;
  /** Per quantiser: payload bits per frame (anchor + frame packets, 6-byte headers included) and landmark error. */
  points: { quantizer: number; bits_per_frame: number; kbps_at_25fps: number; landmark_rmse_px: number; anchor_bytes: number }[];
  /** Error of the geometry itself (pose + K coefficients, unquantised). */
  model_rmse_px: number;
}

async function main(): Promise<void> {
  const manifestPath = path.join(values.data, 'MANIFEST.tsv');
  if (!existsSync(manifestPath)) throw new Error(`no manifest: ${manifestPath} is missing (pass --data DIR, a folder with MANIFEST.tsv and clips/)`);
  const manifest = await readManifest(manifestPath);
  const talking = manifest.filter((c) => c.kind === TALKING_HEAD);
  const { clips: selected, note } = evaluationClips(talking, values.split);
  const clips = values['max-clips'] ? selected.slice(0, Number(values['max-clips'])) : selected;
  if (clips.length === 0) throw new Error(`${manifestPath} lists no ${TALKING_HEAD} clips`);
  // Before any model loads: a missing clip would otherwise track as zero frames and average to NaN.
  const missing = clips.map((c) => path.join(values.data, 'clips', c.file)).filter((file) => !existsSync(file));
  if (missing.length > 0) throw new Error(`${missing.length} clip file(s) listed in ${manifestPath} are missing: ${missing.join(', ')}`);
  const { canonical: canonicalJson, basis: basisJson } = readGeometryJson();
  const model = geometryModelFromJson(canonicalJson, basisJson, values.components ? Number(values.components) : basisJson.K);
  const geometry = new FaceGeometry(model);
  const tracker = await loadTracker({ threads: 1 });
  console.log(`encoder bench: ${clips.length} clips (${note}); up to ${maxFrames} frames each at ${FPS} fps; K=${model.components}; ${framesPerPacket} frames per packet`);

  const rows: ClipRow[] = [];
  for (const [index, clip] of clips.entries()) {
    const started = performance.now();
    const source = trackingFrames(path.join(values.data, 'clips', clip.file), clip, maxFrames);
    tracker.reset();
    const landmarks: (Float32Array | undefined)[] = [];
    let trackerMs = 0;
    for await (const rgb of source.frames) {
      const t0 = performance.now();
      const result = await tracker.track({ data: rgb, width: source.width, height: source.height, channels: 3 });
      trackerMs += performance.now() - t0;
      landmarks.push(result.state === 'face' ? result.landmarks : undefined);
    }
    const referenceIndex = landmarks.findIndex((l) => l !== undefined);
    if (referenceIndex < 0) {
      console.log(`[${index + 1}/${clips.length}] ${clip.file}: no face found, skipped`);
      continue;
    }
    // The reference fixes the crop and the person's own shape, as in a call.
    const box = cropBox([landmarks[referenceIndex]!])!;
    const crop = landmarks.map((l) => (l ? toCropPixels(l, box) : undefined));
    const t1 = performance.now();
    const yRef = geometry.referenceShape(crop[referenceIndex]!);
    const faces = crop.map((l, i) => ({ i, l })).filter((f): f is { i: number; l: Float32Array } => f.l !== undefined && f.i >= referenceIndex);
    const vectors = faces.map((f) => geometry.encode(f.l, yRef));
    const geometryMs = performance.now() - t1;
    const modelRmse = mean(faces.map((f, j) => landmarkRmse(geometry.decode(vectors[j]!, yRef), f.l)));

    const points: ClipRow['points'] = [];
    let codingMs = 0; // the encoder's share only, at the main quantiser
    for (const quantizer of quantizers) {
      let encodeMs = 0;
      const config = geometryCodingConfig(geometry);
      const encoder = new GeometryEncoder(config);
      encoder.quantizer = quantizer;
      const decoder = new GeometryDecoder(config);
      let tc = performance.now();
      const anchor = encoder.encodeAnchor(vectors[0]!, { sequence: 0, timestampMs: 0, referenceId: 0 });
      encodeMs += performance.now() - tc;
      const anchorDecoded = decoder.decode(anchor.packet);
      if (!anchorDecoded.ok) throw new Error(`anchor did not decode: ${anchorDecoded.error.message}`);
      let bytes = anchor.packet.length;
      const errors: number[] = [];
      for (let s = 0, seq = 1; s < vectors.length; s += framesPerPacket, seq++) {
        const batch = vectors.slice(s, s + framesPerPacket);
        tc = performance.now();
        const coded = encoder.encodeFrames(batch, FRAME_SLOT_MS, { sequence: seq % 65536, timestampMs: s * FRAME_SLOT_MS, referenceId: 0 });
        encodeMs += performance.now() - tc;
        bytes += coded.packet.length;
        const decoded = decoder.decode(coded.packet);
        if (!decoded.ok || decoded.value.kind !== 'frames') throw new Error(`decode failed: ${decoded.ok ? decoded.value.kind : decoded.error.message}`);
        decoded.value.frames.forEach((frame, j) => errors.push(landmarkRmse(geometry.decode(frame.values, yRef), faces[s + j]!.l)));
      }
      // No-face frames cost a 6-byte NoFace packet each in a call; count them so bits are per real frame.
      bytes += (landmarks.length - referenceIndex - faces.length) * 6;
      const bitsPerFrame = (bytes * 8) / (landmarks.length - referenceIndex);
      points.push({ quantizer, bits_per_frame: bitsPerFrame, kbps_at_25fps: (bitsPerFrame * FPS) / 1000, landmark_rmse_px: Math.sqrt(mean(errors.map((e) => e * e))), anchor_bytes: anchor.packet.length });
      if (quantizer === mainQuantizer) codingMs = encodeMs;
    }
    const frames = landmarks.length;
    const row: ClipRow = {
      clip: clip.file,
      person: clip.personId,
      frames,
      facesFound: landmarks.filter(Boolean).length,
      ms_tracker_per_frame: trackerMs / frames,
      ms_geometry_coding_per_frame: (geometryMs + codingMs) / frames,
      ms_per_frame: (trackerMs + geometryMs + codingMs) / frames,
      points,
      model_rmse_px: modelRmse,
    };
    rows.push(row);
    const main = points.find((p) => p.quantizer === mainQuantizer)!;
    console.log(
      `[${index + 1}/${clips.length}] ${clip.file}: ${frames} frames, q${mainQuantizer}: ${main.bits_per_frame.toFixed(1)} bits/frame, ${main.landmark_rmse_px.toFixed(3)} px RMS (model alone ${modelRmse.toFixed(3)} px); ${row.ms_per_frame.toFixed(2)} ms/frame; ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  }
  await tracker.close();
  if (rows.length === 0) throw new Error('no clip could be measured (no face found in any): nothing to average');

  const curve = quantizers.map((q) => ({
    quantizer: q,
    bits_per_frame: mean(rows.map((r) => r.points.find((p) => p.quantizer === q)!.bits_per_frame)),
    kbps_at_25fps: mean(rows.map((r) => r.points.find((p) => p.quantizer === q)!.kbps_at_25fps)),
    landmark_rmse_px: mean(rows.map((r) => r.points.find((p) => p.quantizer === q)!.landmark_rmse_px)),
  }));
  const main = curve.find((c) => c.quantizer === mainQuantizer)!;
  const summary = {
    data: values.data,
    clips_evaluated: rows.length,
    selection: note,
    components: model.components,
    frames_per_packet: framesPerPacket,
    quantizer: mainQuantizer,
    bits_per_frame: main.bits_per_frame,
    kbps_at_25fps: main.kbps_at_25fps,
    landmark_rmse_px: main.landmark_rmse_px,
    model_rmse_px: mean(rows.map((r) => r.model_rmse_px)),
    ms_per_frame: mean(rows.map((r) => r.ms_per_frame)),
    ms_tracker_per_frame: mean(rows.map((r) => r.ms_tracker_per_frame)),
    ms_geometry_coding_per_frame: mean(rows.map((r) => r.ms_geometry_coding_per_frame)),
    runtime: 'onnxruntime-node, 1 thread',
    curve,
    clips: rows,
  };
  console.log('\nquantiser  bits/frame  kbit/s@25  landmark RMS px');
  for (const c of curve) console.log(`${String(c.quantizer).padStart(9)}  ${c.bits_per_frame.toFixed(1).padStart(10)}  ${c.kbps_at_25fps.toFixed(2).padStart(9)}  ${c.landmark_rmse_px.toFixed(3).padStart(14)}`);
  console.log(`\nq${mainQuantizer}: ${main.bits_per_frame.toFixed(1)} bits/frame (${main.kbps_at_25fps.toFixed(2)} kbit/s at 25 fps), ${main.landmark_rmse_px.toFixed(3)} px RMS; encoder ${summary.ms_per_frame.toFixed(2)} ms/frame (tracker ${summary.ms_tracker_per_frame.toFixed(2)}, geometry+coding ${summary.ms_geometry_coding_per_frame.toFixed(3)})`);
  if (values.out) {
    await mkdir(path.dirname(path.resolve(values.out)), { recursive: true });
    await writeFile(values.out, JSON.stringify(summary, null, 2));
    console.log(`wrote ${values.out}`);
  }
}

main().catch((error: Error) => {
  console.error(`bench:encoder failed: ${error.message}`);
  process.exit(1);
});
