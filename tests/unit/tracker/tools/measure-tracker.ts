// Measures the face tracker: speed (ms/frame, onnxruntime-node, 1 thread), jitter of a still
// face and lag of a moving one, for the tuned One Euro parameters (or a grid of them).
//
//   npx tsx tests/unit/tracker/tools/measure-tracker.ts [--data DIR] [--grid] [--json FILE]
//
// Synthetic sequences are drawn here; real clips (DIR/MANIFEST.tsv, default ../shared/data) are
// decoded with ffmpeg in memory and only aggregate numbers are printed.
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';

import { DEFAULT_SMOOTHING, type FaceTracker } from '../../../../codec/tracker/face-tracker.ts';
import type { ImageLike } from '../../../../codec/tracker/image.ts';
import type { OneEuroParams } from '../../../../codec/tracker/one-euro.ts';
import { centroid, lagFrames, secondDifferenceJitter, smoothSequence, stillJitter, type Sequence } from '../../../helpers/tracker/metrics.ts';
import { loadTracker } from '../../../../codec/runners/shipped-node.ts';
import { drawSyntheticFace } from '../../../helpers/tracker/synthetic-face.ts';
import { clipPath, DATA_DIR, decodeFrames, readManifest } from '../../../helpers/tracker/video.ts';

const args = process.argv.slice(2);
const flag = (name: string): boolean => args.includes(name);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const dataDir = option('--data') ?? DATA_DIR;
const FPS = 25;
const r = (v: number, d = 3): number => Number(v.toFixed(d));

async function rawSequence(tracker: FaceTracker, frames: readonly ImageLike[], fps: number): Promise<Sequence & { faces: number }> {
  tracker.reset();
  const seq: Sequence & { faces: number } = { frames: [], times: [], faces: 0 };
  for (let i = 0; i < frames.length; i++) {
    const res = await tracker.track(frames[i]!);
    if (res.state !== 'face') throw new Error(`no face in frame ${i}: ${res.reason}`);
    seq.frames.push(res.rawLandmarks);
    seq.times.push(i / fps);
    seq.faces++;
  }
  return seq;
}

// ---- synthetic sequences ------------------------------------------------------------------------
const STILL = { width: 256, height: 256, cx: 128, cy: 132, size: 150 };
const NOISE = 3; // 8-bit levels, like a webcam in room light
const stillFrames = (n: number): ImageLike[] => Array.from({ length: n }, (_, i) => drawSyntheticFace({ ...STILL, noise: NOISE, seed: 1000 + i }));

/** 10 still frames, `moving` frames at v px/frame to the right, then 25 still frames: 640x480. */
const RAMP = { still: 10, moving: 40, after: 25 };
function rampFrames(v: number): ImageLike[] {
  const frames: ImageLike[] = [];
  const x0 = 320 - (v * RAMP.moving) / 2;
  for (let i = 0; i < RAMP.still + RAMP.moving + RAMP.after; i++) {
    const t = Math.min(Math.max(i - RAMP.still, 0), RAMP.moving);
    frames.push(drawSyntheticFace({ width: 640, height: 480, cx: x0 + v * t, cy: 250, size: 150, noise: NOISE, seed: 5000 + i }));
  }
  return frames;
}
const SPEEDS = [0.5, 1, 2, 4, 8];

interface SmoothingScore {
  params: OneEuroParams;
  stillJitterRaw: number;
  stillJitter: number;
  stillJitter2dRaw: number;
  stillJitter2d: number;
  realJitterRaw: number | null;
  realJitter: number | null;
  lagFrames: Record<string, number>;
  settleFrames: Record<string, number>;
}

/** Frames after the face stops until the smoothed centroid stays within tolerance of the raw one. */
function settle(raw: readonly Float32Array[], smooth: readonly Float32Array[], stopAt: number, tolerancePx: number): number {
  let last = stopAt;
  for (let t = stopAt; t < raw.length; t++) {
    const [a, b] = centroid(raw[t]!);
    const [c, d] = centroid(smooth[t]!);
    if (Math.hypot(a - c, b - d) > tolerancePx) last = t + 1;
  }
  return last - stopAt;
}

function score(params: OneEuroParams, still: Sequence, ramps: Map<number, Sequence>, quiet: Sequence[]): SmoothingScore {
  const lag: Record<string, number> = {};
  const settled: Record<string, number> = {};
  for (const [v, seq] of ramps) {
    const smooth = smoothSequence(seq, params);
    lag[`${v}px/frame`] = r(lagFrames(seq.frames, smooth, v, 0, RAMP.still + 15, RAMP.still + RAMP.moving), 2);
    settled[`${v}px/frame`] = settle(seq.frames, smooth, RAMP.still + RAMP.moving, 0.5);
  }
  const stillSmooth = smoothSequence(still, params);
  const median = (xs: number[]): number | null => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! : null);
  return {
    params,
    // std around the mean after the first second (the filter starts from frame 0's value)
    stillJitterRaw: r(stillJitter(still.frames.slice(FPS))),
    stillJitter: r(stillJitter(stillSmooth.slice(FPS))),
    stillJitter2dRaw: r(secondDifferenceJitter(still.frames)),
    stillJitter2d: r(secondDifferenceJitter(stillSmooth)),
    realJitterRaw: median(quiet.map((q) => r(secondDifferenceJitter(q.frames)))),
    realJitter: median(quiet.map((q) => r(secondDifferenceJitter(smoothSequence(q, params))))),
    lagFrames: lag,
    settleFrames: settled,
  };
}

/** The quietest `length`-frame window of a sequence (least centroid path). */
function quietestWindow(seq: Sequence, length: number): Sequence {
  let best = 0;
  let bestPath = Infinity;
  for (let s = 0; s + length <= seq.frames.length; s += 5) {
    let path = 0;
    for (let t = s + 1; t < s + length; t++) {
      const [a, b] = centroid(seq.frames[t - 1]!);
      const [c, d] = centroid(seq.frames[t]!);
      path += Math.hypot(a - c, b - d);
    }
    if (path < bestPath) {
      bestPath = path;
      best = s;
    }
  }
  // Smooth the whole clip (the filter's state matters), then cut the window afterwards: see callers.
  return { frames: seq.frames.slice(best, best + length), times: seq.times.slice(best, best + length) };
}

// ---- speed --------------------------------------------------------------------------------------
async function speed(tracker: FaceTracker, frames: readonly ImageLike[]): Promise<Record<string, number>> {
  tracker.reset();
  const t: number[] = [];
  const detectT: number[] = [];
  for (const f of frames) {
    const t0 = performance.now();
    const res = await tracker.track(f);
    const dt = performance.now() - t0;
    (res.detected ? detectT : t).push(dt);
  }
  const sorted = [...t].sort((a, b) => a - b);
  return {
    frames: frames.length,
    tracking_frames: t.length,
    ms_per_frame_mean: r([...t, ...detectT].reduce((a, b) => a + b, 0) / frames.length, 2),
    ms_tracking_median: r(sorted[Math.floor(sorted.length / 2)] ?? NaN, 2),
    ms_tracking_min: r(sorted[0] ?? NaN, 2),
    ms_detection_frame_mean: r(detectT.reduce((a, b) => a + b, 0) / Math.max(detectT.length, 1), 2),
  };
}

async function main(): Promise<void> {
  const raw = await loadTracker({ smoothing: false });
  const report: Record<string, unknown> = {
    onnxruntime: 'onnxruntime-node, 1 thread',
    cpu: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
    load_average_at_start: loadavg().map((v) => r(v, 2)),
    smoothing_params: DEFAULT_SMOOTHING,
    noise_levels: NOISE,
  };

  // Speed first, on a quiet machine state: synthetic moving faces at two sizes, then real clips.
  const move = (w: number, h: number, n: number): ImageLike[] =>
    Array.from({ length: n }, (_, i) => drawSyntheticFace({ width: w, height: h, cx: w / 2 - 20 + i, cy: h / 2, size: Math.min(w, h) * 0.6, noise: NOISE, seed: i }));
  await speed(raw, move(256, 256, 10)); // warm-up
  const speedReport: Record<string, unknown> = {
    synthetic_256x256: await speed(raw, move(256, 256, 60)),
    synthetic_640x480: await speed(raw, move(640, 480, 60)),
  };

  const clips = readManifest(dataDir).filter((c) => c.kind === 'talking-head');
  if (clips.length) {
    const c256 = clips.find((c) => c.width === 256 && c.height === 256 && c.frames >= 300);
    const c640 = clips.find((c) => c.width === 640 && c.height === 480 && c.frames >= 300);
    for (const c of [c256, c640]) {
      if (c) speedReport[`${c.width}x${c.height}: ${c.file}`] = await speed(raw, decodeFrames(clipPath(c.file, dataDir), c.width, c.height, 150));
    }
  } else {
    speedReport.real_clips = `skipped: no MANIFEST.tsv under ${dataDir}`;
  }
  report.speed = speedReport;
  report.load_average_after_speed = loadavg().map((v) => r(v, 2));
  console.error('speed done');

  // Raw landmark sequences (the ROI follows raw landmarks, so smoothing can be applied after).
  const still = await rawSequence(raw, stillFrames(100), FPS);
  const ramps = new Map<number, Sequence>();
  const truthLag: Record<string, number> = {};
  for (const v of SPEEDS) {
    const seq = await rawSequence(raw, rampFrames(v), FPS);
    ramps.set(v, seq);
    // The raw tracker against the true motion: landmarks of the still start, shifted by v * t.
    const base = seq.frames.slice(0, RAMP.still);
    const truth = seq.frames.map((_, i) => {
      const shift = v * Math.min(Math.max(i - RAMP.still, 0), RAMP.moving);
      return Float32Array.from(base[0]!, (_, j) => base.reduce((s, f) => s + f[j]!, 0) / base.length + (j % 3 === 0 ? shift : 0));
    });
    truthLag[`${v}px/frame`] = r(lagFrames(truth, seq.frames, v, 0, RAMP.still + 15, RAMP.still + RAMP.moving), 2);
  }
  report.raw_tracker_lag_vs_true_motion_frames = truthLag;
  console.error('synthetic sequences done');

  // Real clips: 6 talking heads (different people), up to 300 frames each; quietest 2 s window.
  const quiet: Sequence[] = [];
  const quietWindows: Sequence[] = [];
  const people = new Set<string>();
  for (const c of clips) {
    if (quiet.length >= 6) break;
    const person = c.person.split(' ')[0] ?? c.file;
    if (c.width > 640 || c.frames < 150 || people.has(person)) continue;
    const frames = decodeFrames(clipPath(c.file, dataDir), c.width, c.height, 300);
    try {
      const seq = await rawSequence(raw, frames, c.fps);
      people.add(person);
      quiet.push(seq);
      quietWindows.push(quietestWindow(seq, Math.round(2 * c.fps)));
    } catch {
      // a clip where the face leaves the frame: not a quiet-face sample
    }
  }
  report.real_clips_used = quiet.length;
  console.error(`real clips: ${quiet.length}`);

  /** Real-clip score: smooth the whole clip, measure on its quietest window. */
  const realScore = (params: OneEuroParams): { raw: number | null; smooth: number | null } => {
    const values = quiet.map((seq, i) => {
      const w = quietWindows[i]!;
      const start = seq.times.indexOf(w.times[0]!);
      const smooth = smoothSequence(seq, params).slice(start, start + w.frames.length);
      return [secondDifferenceJitter(w.frames), secondDifferenceJitter(smooth)] as const;
    });
    const med = (xs: number[]): number | null => (xs.length ? r([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!) : null);
    return { raw: med(values.map((v) => v[0])), smooth: med(values.map((v) => v[1])) };
  };

  const evaluate = (params: OneEuroParams): SmoothingScore => {
    const s = score(params, still, ramps, []);
    const real = realScore(params);
    return { ...s, realJitterRaw: real.raw, realJitter: real.smooth };
  };
  report.smoothing = evaluate(DEFAULT_SMOOTHING);

  if (flag('--grid')) {
    const grid: SmoothingScore[] = [];
    for (const minCutoff of [0.05, 0.1, 0.3, 0.5, 1, 2]) {
      for (const beta of [0, 3, 10, 20, 30, 50, 80]) {
        grid.push(evaluate({ minCutoff, beta, derivativeCutoff: 1 }));
      }
    }
    for (const derivativeCutoff of [0.3, 0.5, 2, 3]) grid.push(evaluate({ ...DEFAULT_SMOOTHING, derivativeCutoff }));
    report.grid = grid;
    console.log('minCutoff beta dCutoff | still jitter px: std, 2nd-diff (raw->smooth) | real quiet 2nd-diff jitter px | lag frames @0.5,1,2,4,8 px/frame | settle frames (0.5 px)');
    for (const g of grid) {
      const p = g.params;
      console.log(
        `${p.minCutoff} ${p.beta} ${p.derivativeCutoff} | ${g.stillJitterRaw} -> ${g.stillJitter}, ${g.stillJitter2dRaw} -> ${g.stillJitter2d} | ${g.realJitterRaw} -> ${g.realJitter} | ${Object.values(g.lagFrames).join(' ')} | ${Object.values(g.settleFrames).join(' ')}`,
      );
    }
  }
  await raw.close();
  const json = JSON.stringify(report, null, 1);
  const out = option('--json');
  if (out) writeFileSync(out, json);
  console.log(json);
}

await main();
