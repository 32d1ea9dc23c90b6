// The guide layer's codec in Node (issue 17): ffmpeg with exactly the arguments the training
// guides were made with (models/train/data/guide-variants.json, read by guides.py too), for the
// bench and the kiloface CLI (the browser codes guides with WebCodecs, web/neural/).
//
// Encoder: one long-running ffmpeg per keyframe run. Each picture goes in as raw RGB; with no
// look-ahead (lag-in-frames 0) ffmpeg writes its IVF frame at once, so every chunk is what a
// real-time encoder sends for that picture, before the next picture exists. A forced keyframe
// (a receiver's request, a new crop box) starts a fresh encoder: its first picture is a keyframe.
// Decoder: likewise one running ffmpeg per keyframe run, fed the IVF stream a chunk at a time, one
// thread for its decoder and its output (with more, each held a picture back), so each picture
// comes out as its chunk goes in. Only the keyframe's picture waits for the next chunk (ffmpeg
// reads two packets to learn the stream), so the keyframe is also decoded alone. One process per
// run, not one per picture: a long `kiloface decode` stays linear in its length.
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
/** How long a running ffmpeg may take to give an input's output (a loaded machine: seconds). */
const OUTPUT_TIMEOUT_MS = 30_000;

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

/** Splits ffmpeg's raw video output into pictures of a fixed size. */
class RawPictureReader {
  private buffer = Buffer.alloc(0);
  readonly frames: Uint8Array[] = [];

  constructor(private readonly pictureBytes: number) {}

  push(data: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, data]);
    while (this.buffer.length >= this.pictureBytes) {
      this.frames.push(new Uint8Array(this.buffer.subarray(0, this.pictureBytes)));
      this.buffer = this.buffer.subarray(this.pictureBytes);
    }
  }
}

/**
 * A running ffmpeg that turns each input it is given into one output as it comes (a guide
 * picture into its chunk, or a chunk into its picture): input k resolves with output k. Anything
 * ffmpeg writes on stderr (it runs at -loglevel error) fails the run: a picture it could not make
 * would shift every later one onto the wrong input.
 */
class FfmpegRun {
  private readonly child: ChildProcessWithoutNullStreams;
  private waiters: Array<{ index: number; resolve: (data: Uint8Array) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }> = [];
  private failure: Error | undefined;
  sent = 0;

  constructor(
    private readonly what: string,
    args: readonly string[],
    private readonly reader: { push(data: Buffer): void; readonly frames: Uint8Array[] },
  ) {
    this.child = spawn('nice', ['-n', '10', FFMPEG, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (d: Buffer) => {
      try {
        this.reader.push(d);
      } catch (error) {
        this.fail(error as Error);
      }
      this.wake();
    });
    let stderr = '';
    this.child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString('utf8')).slice(-2000);
      this.fail(new Error(`${what} (ffmpeg): ${stderr.trim()}`));
    });
    this.child.on('error', (error) => this.fail(error));
    this.child.on('close', (code) => this.fail(new Error(`${what} (ffmpeg) exited with ${code}${stderr ? `: ${stderr.trim()}` : ''}`)));
    this.child.stdin.on('error', () => undefined); // reported by 'close'
  }

  /** Writes `bytes` (which need not be a whole input: a stream header) without waiting for an output. */
  write(bytes: Uint8Array): void {
    this.child.stdin.write(bytes);
  }

  /** Writes one input and resolves with its output. */
  next(input: Uint8Array): Promise<Uint8Array> {
    const index = this.sent++;
    const done = new Promise<Uint8Array>((resolve, reject) => {
      // Should ffmpeg ever hold an output back, fail rather than wait for good.
      const timer = setTimeout(() => this.fail(new Error(`${this.what} (ffmpeg) gave no output for input ${index} in ${OUTPUT_TIMEOUT_MS / 1000} s`)), OUTPUT_TIMEOUT_MS);
      this.waiters.push({ index, resolve, reject, timer });
    });
    if (!this.failure) this.child.stdin.write(input);
    this.wake();
    return done;
  }

  private wake(): void {
    this.waiters = this.waiters.filter((w) => {
      const frame = this.reader.frames[w.index];
      if (frame) w.resolve(frame);
      else if (this.failure) w.reject(this.failure);
      else return true;
      clearTimeout(w.timer);
      return false;
    });
  }

  private fail(error: Error): void {
    if (!this.failure) {
      this.failure = error;
      this.child.kill();
    }
    this.wake();
  }

  close(): void {
    this.failure ??= new Error(`${this.what} closed`);
    this.child.stdin.end();
    this.wake();
  }
}

export class FfmpegGuideEncoder implements GuideEncoder {
  private run: FfmpegRun | undefined;

  constructor(readonly layer: GuideLayer) {}

  async encode(rgb: Uint8Array, keyframe: boolean): Promise<GuideChunk> {
    const { side } = this.layer;
    if (rgb.length !== side * side * 3) throw new RangeError(`guide picture of ${rgb.length} bytes, expected ${side}x${side} RGB`);
    if (keyframe || !this.run) {
      this.run?.close();
      this.run = new FfmpegRun('guide encoder', guideEncoderArgs(this.layer), new IvfReader());
    }
    const first = this.run.sent === 0;
    const data = await this.run.next(rgb);
    return { keyframe: first, data };
  }

  close(): void {
    this.run?.close();
    this.run = undefined;
  }
}

/** An IVF file of `chunks` (the decoder's input): its 32-byte header, then each chunk's frame. */
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
  return Buffer.concat([header, ...chunks.map((c, i) => ivfFrame(i, c))]);
}

/** One IVF frame: 12-byte header (size, timestamp) and the chunk. */
function ivfFrame(index: number, chunk: Uint8Array): Uint8Array {
  const h = Buffer.alloc(IVF_FRAME_HEADER_BYTES);
  h.writeUInt32LE(chunk.length, 0);
  h.writeBigUInt64LE(BigInt(index), 4);
  return Buffer.concat([h, chunk]);
}

/** The ffmpeg decoder command: an IVF stream on stdin, rgb24 pictures on stdout. */
function guideDecoderArgs(): string[] {
  return [
    ...FFMPEG_QUIET.filter((a) => a !== '-nostdin'),
    '-probesize', '32', '-threads', '1', '-f', 'ivf', '-i', '-',
    '-threads', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-flush_packets', '1', '-',
  ];
}

export class FfmpegGuideDecoder implements GuideDecoder {
  /** The running decoder of the chunks since the last keyframe; undefined: waiting for one. */
  private run: FfmpegRun | undefined;
  private chunks = 0;

  constructor(readonly layer: GuideLayer) {}

  async decode(chunk: GuideChunk): Promise<Uint8Array> {
    const { side, codec, fps } = this.layer;
    if (chunk.keyframe) {
      this.reset();
      const run = new FfmpegRun('guide decoder', guideDecoderArgs(), new RawPictureReader(side * side * 3));
      run.write(ivfFile(codec, side, fps, []));
      run.next(ivfFrame(0, chunk.data)).catch(() => undefined); // the same picture as below, but late
      this.run = run;
      this.chunks = 1;
      const { stdout } = await runProcess(FFMPEG, guideDecoderArgs(), { stdin: ivfFile(codec, side, fps, [chunk.data]), nice: true }).catch((error: unknown) => {
        if (this.run === run) this.reset();
        throw error;
      });
      if (stdout.length !== side * side * 3) {
        if (this.run === run) this.reset();
        throw new Error(`guide decoder (ffmpeg) gave ${stdout.length} bytes for a ${side}x${side} keyframe`);
      }
      return new Uint8Array(stdout);
    }
    const run = this.run;
    if (!run) throw new GuideChainError('a guide delta picture without the pictures before it: waiting for a keyframe');
    try {
      return await run.next(ivfFrame(this.chunks++, chunk.data));
    } catch (error) {
      if (this.run === run) this.reset();
      throw error;
    }
  }

  reset(): void {
    this.run?.close();
    this.run = undefined;
  }

  close(): void {
    this.reset();
  }
}

/** GuideCodecs through ffmpeg: the bench, the CLI and the Node tests. */
export const ffmpegGuideCodecs: GuideCodecs = {
  encoder: async (layer) => new FfmpegGuideEncoder(layer),
  decoder: async (layer) => new FfmpegGuideDecoder(layer),
};
