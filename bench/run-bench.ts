import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { selectClips } from './clip-selection.ts';
import type { Codec } from './codecs/codec.ts';
import { FfmpegCodec } from './codecs/ffmpeg-codec.ts';
import { rungName } from './codecs/ladder.ts';
import { selectCodecs } from './codecs/registry.ts';
import { cropProviderByName } from './crop.ts';
import { measureDecodeSpeed } from './decode-speed.ts';
import { ffmpegVersion } from './ffmpeg-tools.ts';
import { readManifest } from './manifest.ts';
import { KilofaceCodec } from './codecs/kiloface-codec.ts';
import { KILOFACE_WIRE_MODEL } from './codecs/kiloface-wire.ts';
import { missingFaceModels } from '../codec/runners/shipped-node.ts';
import { TrackerLandmarkModel } from './face-models.ts';
import type { BenchOptions } from './options.ts';
import { CROP_SIZE } from '../codec/shipped.ts';
import { BENCH_FPS, clipIds, prepareClip, type PreparedClip } from './prepared-clip.ts';
import { ProgressLog } from './progress.ts';
import { RTP_WIRE_MODEL } from './codecs/rtp-overhead.ts';
import { describeEnvironment } from './report/environment.ts';
import { renderHtml } from './report/html.ts';
import { renderMarkdown } from './report/markdown.ts';
import { buildSampleSets } from './report/sample-frames.ts';
import { REPORT_SCHEMA, type BenchReport, type CodecInfo } from './report/schema.ts';
import { allBdRates, averagedCurve, averagedHulls, lowestRate } from './report/summary.ts';
import { runSweep, type SweepJob } from './sweep.ts';

export interface BenchResult {
  report: BenchReport;
  files: { json: string; markdown: string; html: string; frames: string };
}

const log = (line: string): void => void process.stderr.write(`${line}\n`);

export const METRIC_DEFINITIONS = {
  psnr: 'PSNR of Y, 10 log10(255^2 / MSE) per frame, capped at 100 dB, mean over frames',
  ssim: 'SSIM of Y (Wang et al. 2004: 11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03, valid region), mean over frames',
  msssim: 'MS-SSIM of Y (Wang et al. 2003: 5 scales, weights 0.0448 0.2856 0.3001 0.2363 0.1333, 2x2 mean decimation), mean over frames',
  gmsd: 'GMSD of Y (Xue et al. 2014: 2x2 mean decimation, Prewitt gradients, T = 170, std of the similarity map), mean over frames; lower is better',
} as const;

export async function runBench(options: BenchOptions, command: string): Promise<BenchResult> {
  const started = performance.now();
  if (!(await ffmpegVersion())) throw new Error('ffmpeg not found: install Debian\'s ffmpeg (apt-get install ffmpeg) or set KILOFACE_FFMPEG');
  await mkdir(options.outDir, { recursive: true });

  const crops = cropProviderByName(options.crop, { dataDir: options.dataDir, cacheDir: options.cacheDir });
  const manifest = await readManifest(join(options.dataDir, 'MANIFEST.tsv'));
  const selection = await selectClips(options.dataDir, manifest, crops, {
    ...(options.maxClips !== null ? { maxClips: options.maxClips } : {}),
    ...(options.only ? { only: options.only } : {}),
  });
  if (selection.selected.length === 0) throw new Error('no usable talking-head clips (see the skip reasons with --clips or check MANIFEST.tsv)');
  log(`bench: ${selection.selected.length} clip(s) selected, ${selection.skipped.length} skipped by rule; crop: ${crops.name}`);

  const codecs: Codec[] = [];
  const codecInfo = new Map<string, CodecInfo>();
  const unavailableCodecs: { id: string; reason: string }[] = [];
  const requested = selectCodecs(options.codecs, { quick: options.quick, ...(options.modelDir ? { modelDir: options.modelDir } : {}) }, options.ladder);
  for (const codec of requested) {
    const a = await codec.checkAvailable();
    if (!a.ok) {
      unavailableCodecs.push({ id: codec.id, reason: a.reason });
      log(`bench: ${codec.id} not available: ${a.reason}`);
      continue;
    }
    codecs.push(codec);
    const curve = codec instanceof FfmpegCodec && codec.hasLadder ? 'ladder-hull' : 'pareto';
    const settings = curve === 'ladder-hull' ? `${codec.settings}; ladder ${options.ladder.map(rungName).join(', ')} (scale flags=area + fps, shown at 256 px bicubic, 25 fps)` : codec.settings;
    codecInfo.set(codec.id, { id: codec.id, label: codec.label, version: a.version, settings, decoder: codec.decoder, curve, exampleCommands: [] });
  }
  if (codecs.length === 0) throw new Error('none of the requested codecs is available');

  const maxFrames = Math.round(options.seconds * BENCH_FPS);
  const prepared: PreparedClip[] = [];
  const ids = clipIds(manifest);
  const prepProgress = new ProgressLog('prepare', selection.selected.length);
  for (const { entry, crop } of selection.selected) {
    const clip = await prepareClip(options.dataDir, ids.get(entry.file)!, entry, crop, maxFrames, options.cacheDir);
    prepared.push(clip);
    prepProgress.tick(`${clip.id}: ${clip.frameCount} frames`);
  }

  const jobs: SweepJob[] = prepared.flatMap((clip) =>
    codecs.flatMap((codec) => codec.operatingPoints(options.kbps).map((point) => ({ codec, clip, point }))),
  );
  const sampleClipIds = new Set(prepared.slice(0, Math.max(0, options.sampleClips)).map((c) => c.id));
  // AKD with the project's landmark model (the codec's tracker), for every codec alike.
  const missingFace = missingFaceModels();
  const landmarkModel = missingFace.length === 0 ? new TrackerLandmarkModel() : null;
  const akdStatus = landmarkModel ? `available: ${landmarkModel.name}` : `not available: ${missingFace.join(', ')} missing`;
  let sweep: Awaited<ReturnType<typeof runSweep>>;
  try {
    sweep = await runSweep(jobs, { outDir: options.outDir, jobs: options.jobs, threads: options.threads, sampleClipIds, landmarkModel });
  } finally {
    await landmarkModel?.close();
  }
  const { rows, failures, commandsByCodec } = sweep;
  const order = new Map(jobs.map((j, i) => [`${j.codec.id}|${j.clip.id}|${j.point.id}`, i]));
  rows.sort((a, b) => order.get(`${a.codec}|${a.clip}|${a.point.id}`)! - order.get(`${b.codec}|${b.clip}|${b.point.id}`)!);

  for (const [id, commands] of commandsByCodec) codecInfo.get(id)!.exampleCommands = commands;

  const ranCodecs = codecs.filter((c) => rows.some((r) => r.codec === c.id));
  const hulls = new Set(ranCodecs.filter((c) => codecInfo.get(c.id)!.curve === 'ladder-hull').map((c) => c.id));
  const averagedCurves = ranCodecs.map((c) => ({ codec: c.id, points: averagedCurve(rows, c.id) }));
  const decodeSpeed = await measureDecodeSpeed(ranCodecs, rows, options.outDir, [1, 2], options.quick ? 2 : 5);
  for (const c of requested) if (c instanceof KilofaceCodec) await c.close();

  const report: BenchReport = {
    schema: REPORT_SCHEMA,
    createdAt: new Date().toISOString(),
    command,
    durationS: 0,
    settings: {
      quick: options.quick,
      size: CROP_SIZE,
      fps: BENCH_FPS,
      secondsPerClip: options.seconds,
      targetsKbps: options.kbps,
      jobs: options.jobs,
      threads: options.threads,
      crop: { provider: crops.name, rule: crops.rule },
      anchor: options.anchor,
    },
    environment: await describeEnvironment(),
    metrics: {
      plane: 'the luma plane (Y of 8-bit yuv420p, 0-255)',
      definitions: METRIC_DEFINITIONS,
      akd: akdStatus,
      notAvailable: 'LPIPS, DISTS and VMAF are not available offline on this machine (no weights, no libvmaf); they are not reported and nothing stands in for them.',
    },
    codecs: ranCodecs.map((c) => codecInfo.get(c.id)!),
    unavailableCodecs,
    clips: prepared.map((c) => ({
      id: c.id,
      file: c.entry.file,
      person: c.entry.person,
      licence: c.entry.licence,
      source: { width: c.entry.width, height: c.entry.height, fps: c.entry.fps, frames: c.entry.frames },
      crop: c.crop,
      frames: c.frameCount,
    })),
    skippedClips: selection.skipped,
    rows,
    failures,
    averagedCurves,
    hulls: averagedHulls(averagedCurves, hulls),
    lowestRates: ranCodecs.map((c) => lowestRate(rows, c.id)),
    bdRates: allBdRates(rows, 'kbps', hulls),
    bdRatesWire: allBdRates(rows, 'wireKbps', hulls),
    decodeSpeed,
    wireModel: ranCodecs.some((c) => c instanceof KilofaceCodec) ? `${RTP_WIRE_MODEL}; kiloface: ${KILOFACE_WIRE_MODEL}` : RTP_WIRE_MODEL,
  };
  log('bench: writing reports');
  const samples = await buildSampleSets(report, options.outDir, [...sampleClipIds]);
  report.durationS = (performance.now() - started) / 1000;
  const files = {
    json: join(options.outDir, 'report.json'),
    markdown: join(options.outDir, 'report.md'),
    html: join(options.outDir, 'report.html'),
    frames: join(options.outDir, 'frames.tsv'),
  };
  await writeFile(files.json, `${JSON.stringify(report, null, 1)}\n`);
  await writeFile(files.markdown, renderMarkdown(report));
  await writeFile(files.html, renderHtml(report, samples));
  log(`bench: done in ${report.durationS.toFixed(0)} s: ${files.html}`);
  return { report, files };
}

