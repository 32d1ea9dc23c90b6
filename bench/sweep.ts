import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Codec, OperatingPoint } from './codecs/codec.ts';
import { measureFrame, meanQuality, type FrameQuality } from './metrics/frame-metrics.ts';
import { averageKeypointDistance, type LandmarkModel } from './metrics/landmark-distance.ts';
import { planeFromBytes } from './metrics/plane.ts';
import { CROP_SIZE } from '../codec/shipped.ts';
import { BENCH_FPS, loadY4m, type PreparedClip } from './prepared-clip.ts';
import { ProgressLog } from './progress.ts';
import type { FailedJob, ResultRow } from './results.ts';

export interface SweepJob {
  codec: Codec;
  clip: PreparedClip;
  point: OperatingPoint;
}

export interface SweepSettings {
  outDir: string;
  jobs: number;
  threads: number;
  /** Clips whose middle frame is kept from every job, for side-by-side pictures. */
  sampleClipIds: ReadonlySet<string>;
  /** AKD's landmark model; null = AKD not measured (rows get akd: null). */
  landmarkModel: LandmarkModel | null;
}

export interface SweepOutcome {
  rows: ResultRow[];
  failures: FailedJob[];
  /** The commands of one run per codec, so the report shows exactly what ran. */
  commandsByCodec: Map<string, string[]>;
}

export const FRAMES_TSV_HEADER = 'codec\tclip\tpoint\tframe\tpsnr\tssim\tmsssim\tgmsd\n';

export const sampleFrameIndex = (clip: PreparedClip): number => Math.floor(clip.frameCount / 2);
export const sampleFramePath = (outDir: string, clipId: string, name: string): string =>
  join(outDir, 'samples', clipId, `${name}.yuv`);

/** Source frames per clip, loaded once and shared by that clip's jobs. */
class SourceFrames {
  private readonly loaded = new Map<string, Promise<Uint8Array[]>>();
  private readonly landmarks = new Map<string, Promise<(Float32Array | null)[]>>();
  get(clip: PreparedClip): Promise<Uint8Array[]> {
    let p = this.loaded.get(clip.id);
    if (!p) {
      p = loadY4m(clip.y4mPath).then((v) => v.frames);
      this.loaded.set(clip.id, p);
    }
    return p;
  }
  /** The source's landmarks for AKD, found once per clip. */
  landmarksOf(clip: PreparedClip, model: LandmarkModel): Promise<(Float32Array | null)[]> {
    let p = this.landmarks.get(clip.id);
    if (!p) {
      p = this.get(clip).then((frames) => model.landmarks(frames, CROP_SIZE, CROP_SIZE));
      this.landmarks.set(clip.id, p);
    }
    return p;
  }
  release(clipId: string): void {
    this.loaded.delete(clipId);
    this.landmarks.delete(clipId);
  }
}

function lumaPlane(frame: Uint8Array) {
  return planeFromBytes(CROP_SIZE, CROP_SIZE, frame.subarray(0, CROP_SIZE * CROP_SIZE));
}

interface JobOutcome {
  row: ResultRow;
  perFrame: FrameQuality[];
  commands: string[];
}

async function runJob(job: SweepJob, sources: SourceFrames, settings: SweepSettings): Promise<JobOutcome> {
  const { codec, clip, point } = job;
  const workDir = join(settings.outDir, 'streams', clip.id);
  const run = await codec.run({ clip, point, workDir, threads: settings.threads });
  const source = await sources.get(clip);
  if (run.decodedFrames.length !== source.length) {
    throw new Error(`${codec.id} decoded ${run.decodedFrames.length} frames, the input has ${source.length}`);
  }
  const perFrame = source.map((frame, i) => measureFrame(lumaPlane(frame), lumaPlane(run.decodedFrames[i]!)));
  const mean = meanQuality(perFrame);
  let akd: number | null = null;
  const notes = [...run.notes];
  if (settings.landmarkModel) {
    const sourceLandmarks = await sources.landmarksOf(clip, settings.landmarkModel);
    const r = await averageKeypointDistance(settings.landmarkModel, sourceLandmarks, run.decodedFrames, CROP_SIZE, CROP_SIZE);
    if (r.available) {
      akd = r.meanPx;
      if (r.decodedMissing > 0) {
        notes.push(`AKD: no face found in ${r.decodedMissing} of the ${r.sourceFaces} decoded frames whose source has one (left out of the mean)`);
      }
      if (r.sourceFaces === 0) notes.push('AKD: no face found in the source frames');
    }
  }
  if (settings.sampleClipIds.has(clip.id)) {
    const i = sampleFrameIndex(clip);
    await mkdir(join(settings.outDir, 'samples', clip.id), { recursive: true });
    await writeFile(sampleFramePath(settings.outDir, clip.id, `${codec.id}-${point.id}`), run.decodedFrames[i]!);
  }
  const seconds = clip.frameCount / BENCH_FPS;
  const row: ResultRow = {
    codec: codec.id,
    clip: clip.id,
    point,
    frames: clip.frameCount,
    kbps: (run.bits.payloadBytes * 8) / 1000 / seconds,
    wireKbps: (run.bits.wireBytes * 8) / 1000 / seconds,
    payloadBytes: run.bits.payloadBytes,
    wireBytes: run.bits.wireBytes,
    packets: run.bits.packets,
    breakdown: run.bits.breakdown ?? null,
    ...mean,
    akd,
    encodeMs: run.encodeMs,
    decodeMs: run.decodeMs,
    stream: relative(settings.outDir, run.streamPath),
    notes,
  };
  return { row, perFrame, commands: run.commands };
}

/**
 * Run every job, `settings.jobs` at a time, clip by clip (so one clip's frames are in memory
 * at a time, give or take the overlap), writing per-frame metrics to frames.tsv as they come.
 */
export async function runSweep(jobs: readonly SweepJob[], settings: SweepSettings): Promise<SweepOutcome> {
  const sources = new SourceFrames();
  const framesTsv = join(settings.outDir, 'frames.tsv');
  await writeFile(framesTsv, FRAMES_TSV_HEADER);
  for (const clipId of settings.sampleClipIds) {
    const clip = jobs.find((j) => j.clip.id === clipId)?.clip;
    if (!clip) continue;
    await mkdir(join(settings.outDir, 'samples', clipId), { recursive: true });
    await writeFile(sampleFramePath(settings.outDir, clipId, 'source'), (await sources.get(clip))[sampleFrameIndex(clip)]!);
  }
  const remainingPerClip = new Map<string, number>();
  for (const j of jobs) remainingPerClip.set(j.clip.id, (remainingPerClip.get(j.clip.id) ?? 0) + 1);
  const progress = new ProgressLog('sweep', jobs.length);
  const rows: ResultRow[] = [];
  const failures: FailedJob[] = [];
  const commandsByCodec = new Map<string, string[]>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      const name = `${job.codec.id} ${job.point.id} ${job.clip.id}`;
      try {
        const { row, perFrame, commands } = await runJob(job, sources, settings);
        rows.push(row);
        if (!commandsByCodec.has(row.codec)) commandsByCodec.set(row.codec, commands);
        await appendFile(
          framesTsv,
          perFrame
            .map((q, i) => `${row.codec}\t${row.clip}\t${row.point.id}\t${i}\t${q.psnr.toFixed(4)}\t${q.ssim.toFixed(6)}\t${q.msssim.toFixed(6)}\t${q.gmsd.toFixed(6)}\n`)
            .join(''),
        );
        progress.tick(`${name}: ${row.kbps.toFixed(1)} kbit/s, PSNR ${row.psnr.toFixed(2)} dB, SSIM ${row.ssim.toFixed(4)}`);
      } catch (e) {
        failures.push({ codec: job.codec.id, clip: job.clip.id, point: job.point.id, error: (e as Error).message });
        progress.tick(`${name}: FAILED ${(e as Error).message}`);
      }
      const left = remainingPerClip.get(job.clip.id)! - 1;
      remainingPerClip.set(job.clip.id, left);
      if (left === 0) sources.release(job.clip.id);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, settings.jobs) }, worker));
  return { rows, failures, commandsByCodec };
}
