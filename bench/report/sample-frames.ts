import { access, readFile } from 'node:fs/promises';
import { FFMPEG, FFMPEG_QUIET } from '../ffmpeg-tools.ts';
import { CROP_SIZE } from '../../codec/shipped.ts';
import { runProcess } from '../process.ts';
import { sampleFramePath } from '../sweep.ts';
import type { BenchReport } from './schema.ts';
import { commonFloorKbps, matchedRateRows } from './summary.ts';

/** A raw yuv420p frame as a PNG data URI (lossless, so the picture shows the codec, not us). */
export async function yuvFrameToPngDataUri(yuvPath: string): Promise<string> {
  const frame = await readFile(yuvPath);
  const { stdout } = await runProcess(
    FFMPEG,
    [...FFMPEG_QUIET, '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-video_size', `${CROP_SIZE}x${CROP_SIZE}`, '-i', '-', '-frames:v', '1', '-c:v', 'png', '-f', 'image2pipe', '-'],
    { stdin: frame },
  );
  return `data:image/png;base64,${stdout.toString('base64')}`;
}

export interface SampleImage {
  caption: string;
  dataUri: string;
}

export interface SampleSet {
  clip: string;
  title: string;
  images: SampleImage[];
}

/** The higher matched rate shown below the lowest common one, when the sweep reaches it. */
const SECOND_RATE_KBPS = 40;

/**
 * Side-by-side middle frames: the source, then every codec at the lowest rate all of them
 * reach on that clip, and again near 40 kbit/s.
 */
export async function buildSampleSets(report: BenchReport, outDir: string, clipIds: readonly string[]): Promise<SampleSet[]> {
  const sets: SampleSet[] = [];
  for (const clip of clipIds) {
    const sourcePath = sampleFramePath(outDir, clip, 'source');
    try {
      await access(sourcePath);
    } catch {
      continue;
    }
    const source = await yuvFrameToPngDataUri(sourcePath);
    const first = matchedRateRows(report.rows, clip);
    if (first.length === 0) continue;
    const floor = commonFloorKbps(report.rows, clip);
    const rowsets = [{ rows: first, title: `the lowest rate every codec reaches on this clip (${floor.toFixed(1)} kbit/s)` }];
    if (floor < SECOND_RATE_KBPS * 0.75) {
      rowsets.push({ rows: matchedRateRows(report.rows, clip, SECOND_RATE_KBPS), title: `${SECOND_RATE_KBPS} kbit/s` });
    }
    for (const { rows, title } of rowsets) {
      const images: SampleImage[] = [{ caption: 'source', dataUri: source }];
      for (const r of rows) {
        const label = report.codecs.find((c) => c.id === r.codec)?.label ?? r.codec;
        images.push({
          caption: `${label}: ${r.kbps.toFixed(1)} kbit/s, SSIM ${r.ssim.toFixed(3)}, PSNR ${r.psnr.toFixed(1)} dB`,
          dataUri: await yuvFrameToPngDataUri(sampleFramePath(outDir, clip, `${r.codec}-${r.point.id}`)),
        });
      }
      sets.push({ clip, title: `${clip}, middle frame, each codec at its operating point nearest ${title}`, images });
    }
  }
  return sets;
}
