import { join } from 'node:path';
import type { Codec } from './codecs/codec.ts';
import { ProgressLog } from './progress.ts';
import type { ResultRow } from './results.ts';

export interface DecodeSpeedRow {
  codec: string;
  decoder: string;
  threads: number;
  /** Medians over the measured streams: elapsed time and CPU time (user + system) per frame. */
  msPerFrame: number;
  cpuMsPerFrame: number;
  streams: { clip: string; point: string; kbps: number; msPerFrame: number; cpuMsPerFrame: number }[];
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * Decode speed, measured alone after the sweep (nothing else of ours running), on the
 * operating point nearest the middle of each codec's sweep, for up to `maxClips` clips.
 */
export async function measureDecodeSpeed(
  codecs: readonly Codec[],
  rows: readonly ResultRow[],
  outDir: string,
  threadCounts: readonly number[],
  maxClips: number,
): Promise<DecodeSpeedRow[]> {
  const plan: { codec: Codec; rows: ResultRow[] }[] = codecs.map((codec) => {
    const mine = rows.filter((r) => r.codec === codec.id);
    const clips = [...new Set(mine.map((r) => r.clip))].slice(0, maxClips);
    const picked = clips.map((clip) => {
      const ofClip = mine.filter((r) => r.clip === clip).sort((a, b) => a.kbps - b.kbps);
      return ofClip[Math.floor(ofClip.length / 2)]!;
    });
    return { codec, rows: picked };
  });
  const total = plan.reduce((n, p) => n + p.rows.length, 0) * threadCounts.length;
  const progress = new ProgressLog('decode-speed', Math.max(1, total));
  const out: DecodeSpeedRow[] = [];
  for (const { codec, rows: picked } of plan) {
    if (picked.length === 0) continue;
    for (const threads of threadCounts) {
      const streams = [];
      for (const r of picked) {
        const t = await codec.decodeSpeed(join(outDir, r.stream), r.frames, threads);
        streams.push({ clip: r.clip, point: r.point.id, kbps: r.kbps, msPerFrame: t.wallMsPerFrame, cpuMsPerFrame: t.cpuMsPerFrame });
        progress.tick(`${codec.id} ${threads} thread(s) ${r.clip}: ${t.wallMsPerFrame.toFixed(3)} ms/frame (CPU ${t.cpuMsPerFrame.toFixed(3)})`);
      }
      out.push({
        codec: codec.id,
        decoder: codec.decoder,
        threads,
        msPerFrame: median(streams.map((s) => s.msPerFrame)),
        cpuMsPerFrame: median(streams.map((s) => s.cpuMsPerFrame)),
        streams,
      });
    }
  }
  return out;
}
