// The guide layer's codec in Node (issue 17): ffmpeg with exactly the arguments the training
// guides were made with (models/train/data/guide-variants.json, read by guides.py too), for the
// bench and the kiloface CLI (the browser codes guides with WebCodecs, web/neural/).
//
// Encoder: one long-running ffmpeg per keyframe run. Each picture goes in as raw RGB; with no
// look-ahead (lag-in-frames 0) ffmpeg writes its IVF frame at once, so every chunk is what a
// real-time encoder sends for that picture, before the next picture exists. A forced keyframe
// (a receiver's request, a new crop box) starts a fresh encoder: its first picture is a keyframe.
// Decoder: the IVF of the chunks since the last keyframe through ffmpeg, the newest picture kept
// (decoding these 32-64 px pictures costs far less than starting ffmpeg; the bench is off-line).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../codec/runners/shipped-node.ts';
import { GuideChainError, type GuideChunk, type GuideCodecName, type GuideCodecs, type GuideDecoder, type GuideEncoder, type GuideLayer } from '../../codec/stream/guide-codec.ts';
import { FFMPEG, FFMPEG_QUIET } from '../ffmpeg-tools.ts';
import { runProcess } from '../process.ts';

interface GuideVariantsFile {
  variants: Record<string, [number, number, GuideCodecName, number]>;
  codec_args: Record<GuideCodecName, string[]>;
}

export const GUIDE_VARIANTS_FILE = join(REPO_ROOT, 'models/train/data/guide-variants.json');
const shared = JSON.parse(readFileSync(GUIDE_VARIANTS_FILE, 'utf8')) as GuideVariantsFile;

/** ffmpeg encoder arguments per guide codec, as guides.py uses them. */
export const GUIDE_CODEC_ARGS: Readonly<Record<GuideCodecName, readonly string[]>> = shared.codec_args;

/** The guide variants decoder v2 was trained on, by guides.py's tag. */
export const GUIDE_VARIANTS: Readonly<Record<string, GuideLayer>> = Object.fromEntries(
  Object.entries(shared.variants).map(([tag, [side, fps, codec, kbps]]) => [tag, { codec, side, fps, kbps }]),
);

/** guides.py's tag of a layer ("av1-48-10-6"), or undefined when the decoder never learned it. */
export function guideVariantTag(layer: GuideLayer): string | undefined {
  return Object.entries(GUIDE_VARIANTS).find(([, v]) => v.codec === layer.codec && v.side === layer.side && v.fps === layer.fps && v.kbps === layer.kbps)?.[0];
}

const FOURCC: Record<GuideCodecName, string> = { av1: 'AV01', vp9: 'VP90' };
const IVF_HEADER_BYTES = 32;
const IVF_FRAME_HEADER_BYTES = 12;

/** The ffmpeg encoder command for a layer (rgb24 side x side on stdin, IVF on stdout). */
export function guideEncoderArgs(layer: GuideLayer): string[] {
  return [
    ...FFMPEG_QUIET.filter((a) => a !== '-nostdin'),
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${layer.side}x${layer.side}`, '-r', String(layer.fps), '-i', '-',
    '-pix_fmt', 'yuv420p', ...GUIDE_CODEC_ARGS[layer.codec], '-b:v', `${layer.kbps}k`, '-an', '-flush_packets', '1', '-f', 'ivf', '-',
  ];
}

/** Splits an IVF byte stream into frames as they come: 32-byte file header, then 12-byte frame headers. */
class IvfReader {
  private buffer = Buffer.alloc(0);
  private headerSeen = false;
  readonly frames: Uint8Array[] = [];

  push(data: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, data]);
    if (!this.headerSeen) {
      if (this.buffer.length < IVF_HEADER_BYTES) return;
      if (this.buffer.toString('latin1', 0, 4) !== 'DKIF') throw new Error('ffmpeg did not write an IVF stream');
      this.buffer = this.buffer.subarray(this.buffer.readUInt16LE(6));
      this.headerSeen = true;
    }
    while (this.buffer.length >= IVF_FRAME_HEADER_BYTES) {
      const size = this.buffer.readUInt32LE(0);
      if (this.buffer.length < IVF_FRAME_HEADER_BYTES + size) return;
      this.frames.push(new Uint8Array(this.buffer.subarray(IVF_FRAME_HEADER_BYTES, IVF_FRAME_HEADER_BYTES + size)));
      this.buffer = this.buffer.subarray(IVF_FRAME_HEADER_BYTES + size);
    }
  }
}

/** One keyframe run: a running ffmpeg that codes each picture as it comes. */
class EncoderRun {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly reader = new IvfReader();
  private waiters: Array<{ index: number; resolve: (data: Uint8Array) => void; reject: (e: Error) => void }> = [];
  private failure: Error | undefined;
  private stderr = '';
  sent = 0;

  constructor(layer: GuideLayer) {
    this.child = spawn('nice', ['-n', '10', FFMPEG, ...guideEncoderArgs(layer)], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (d: Buffer) => {
      try {
        this.reader.push(d);
      } catch (error) {
        this.fail(error as Error);
      }
      this.wake();
    });
    this.child.stderr.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString('utf8')).slice(-2000)));
    this.child.on('error', (error) => this.fail(error));
    this.child.on('close', (code) => this.fail(new Error(`guide encoder (ffmpeg) exited with ${code}${this.stderr ? `: ${this.stderr.trim()}` : ''}`)));
    this.child.stdin.on('error', () => undefined); // reported by 'close'
  }

  encode(rgb: Uint8Array): Promise<Uint8Array> {
    const index = this.sent++;
    const done = new Promise<Uint8Array>((resolve, reject) => this.waiters.push({ index, resolve, reject }));
    this.child.stdin.write(rgb);
    this.wake();
    return done;
  }

  private wake(): void {
    this.waiters = this.waiters.filter((w) => {
      const frame = this.reader.frames[w.index];
      if (frame) w.resolve(frame);
      else if (this.failure) w.reject(this.failure);
      else return true;
      return false;
    });
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.wake();
  }

  close(): void {
    this.failure ??= new Error('guide encoder closed');
    this.child.stdin.end();
    this.wake();
  }
}

export class FfmpegGuideEncoder implements GuideEncoder {
  private run: EncoderRun | undefined;

  constructor(readonly layer: GuideLayer) {}

  async encode(rgb: Uint8Array, keyframe: boolean): Promise<GuideChunk> {
    const { side } = this.layer;
    if (rgb.length !== side * side * 3) throw new RangeError(`guide picture of ${rgb.length} bytes, expected ${side}x${side} RGB`);
    if (keyframe || !this.run) {
      this.run?.close();
      this.run = new EncoderRun(this.layer);
    }
    const first = this.run.sent === 0;
    const data = await this.run.encode(rgb);
    return { keyframe: first, data };
  }

  close(): void {
    this.run?.close();
    this.run = undefined;
  }
}

/** An IVF file of `chunks` (the decoder's input). */
export function ivfFile(codec: GuideCodecName, side: number, fps: number, chunks: readonly Uint8Array[]): Uint8Array {
  const header = Buffer.alloc(IVF_HEADER_BYTES);
  header.write('DKIF', 0, 'latin1');
  header.writeUInt16LE(0, 4);
  header.writeUInt16LE(IVF_HEADER_BYTES, 6);
  header.write(FOURCC[codec], 8, 'latin1');
  header.writeUInt16LE(side, 12);
  header.writeUInt16LE(side, 14);
  header.writeUInt32LE(fps * 2, 16); // time base: rate / scale = fps
  header.writeUInt32LE(2, 20);
  header.writeUInt32LE(chunks.length, 24);
  const parts: Uint8Array[] = [header];
  chunks.forEach((c, i) => {
    const h = Buffer.alloc(IVF_FRAME_HEADER_BYTES);
    h.writeUInt32LE(c.length, 0);
    h.writeBigUInt64LE(BigInt(i), 4);
    parts.push(h, c);
  });
  return Buffer.concat(parts);
}

export class FfmpegGuideDecoder implements GuideDecoder {
  /** The chunks since the last keyframe; empty: waiting for one. */
  private run: Uint8Array[] = [];

  constructor(readonly layer: GuideLayer) {}

  async decode(chunk: GuideChunk): Promise<Uint8Array> {
    if (chunk.keyframe) this.run = [];
    else if (this.run.length === 0) throw new GuideChainError('a guide delta picture without the pictures before it: waiting for a keyframe');
    const run = [...this.run, chunk.data];
    const { side, codec, fps } = this.layer;
    const picture = side * side * 3;
    const { stdout } = await runProcess(
      FFMPEG,
      [...FFMPEG_QUIET, '-f', 'ivf', '-i', '-', '-threads', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
      { stdin: ivfFile(codec, side, fps, run), nice: true },
    ).catch((error: unknown) => {
      this.run = [];
      throw error;
    });
    if (stdout.length !== run.length * picture) {
      this.run = [];
      throw new Error(`guide decoder (ffmpeg) gave ${stdout.length / picture} pictures for ${run.length} chunks`);
    }
    this.run = run;
    return new Uint8Array(stdout.subarray(stdout.length - picture));
  }

  reset(): void {
    this.run = [];
  }

  close(): void {
    this.run = [];
  }
}

/** GuideCodecs through ffmpeg: the bench, the CLI and the Node tests. */
export const ffmpegGuideCodecs: GuideCodecs = {
  encoder: async (layer) => new FfmpegGuideEncoder(layer),
  decoder: async (layer) => new FfmpegGuideDecoder(layer),
};
