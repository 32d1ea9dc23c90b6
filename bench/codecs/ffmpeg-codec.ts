import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FFMPEG, FFMPEG_QUIET, ffmpegEncoders, packetSizes } from '../ffmpeg-tools.ts';
import { CROP_SIZE } from '../../codec/shipped.ts';
import { renderCommand, runProcess } from '../process.ts';
import { splitRawYuv420 } from '../y4m.ts';
import type { Availability, Codec, CodecJob, CodecRun, DecodeTiming, OperatingPoint } from './codec.ts';
import { decodeFilter, encodeFilter, ladderPoints, picturesTaken, playbackAt25, rungOf, type LadderRung } from './ladder.ts';
import { RTP_WIRE_MODEL, rtpWireBytes } from './rtp-overhead.ts';

/** How one standard codec is driven through ffmpeg. */
export interface FfmpegCodecSpec {
  id: string;
  label: string;
  encoder: string;
  settings: string;
  /** Output muxer and file extension of the elementary stream. */
  muxer: 'h264' | 'hevc' | 'ivf';
  extension: string;
  /** Encoder options for a target rate (kbit/s), shared by both passes. */
  encoderArgs(kbps: number, threads: number): string[];
  /** Options for pass 1 and 2 of a two-pass encode; absent = one pass. */
  passArgs?(pass: 1 | 2, statsPrefix: string): string[];
  /** Bitstream filter applied to the final stream (e.g. drop the encoder's info SEI). */
  bitstreamFilter?: string;
  decoder: string;
  decoderArgs: string[];
  /** Where the library version shows up in a 1-frame probe (stderr, or the stream's bytes). */
  versionPattern: RegExp;
  /** Also coded at the bench's ladder of lower sizes and frame rates (the adaptive anchor, bench/codecs/ladder.ts). */
  ladder?: boolean;
}

const MIN_TIMED_FRAMES = 1000;

/** Two-pass statistics files are large and useless after the encode. */
async function removePassLogs(dir: string, prefix: string): Promise<void> {
  for (const name of await readdir(dir)) if (name.startsWith(prefix)) await rm(join(dir, name), { force: true });
}

export class FfmpegCodec implements Codec {
  /** `ladder`: the rungs this codec is coded at besides full size (empty: full size only). */
  constructor(
    private readonly spec: FfmpegCodecSpec,
    private readonly ladder: readonly LadderRung[] = [],
  ) {}

  /** Whether this codec's curve is the convex hull over a ladder (else its plain sweep). */
  get hasLadder(): boolean {
    return this.ladder.length > 0;
  }

  get id(): string {
    return this.spec.id;
  }
  get label(): string {
    return this.spec.label;
  }
  get settings(): string {
    return this.spec.settings;
  }
  get decoder(): string {
    return this.spec.decoder;
  }

  async checkAvailable(): Promise<Availability> {
    let encoders: Set<string>;
    try {
      encoders = await ffmpegEncoders();
    } catch (e) {
      return { ok: false, reason: `ffmpeg not runnable: ${(e as Error).message}` };
    }
    if (!encoders.has(this.spec.encoder)) return { ok: false, reason: `this ffmpeg has no ${this.spec.encoder}` };
    // One tiny frame tells the library version (and proves the encoder works).
    const probe = await runProcess(FFMPEG, [
      '-hide_banner', '-nostdin', '-loglevel', 'info', '-f', 'lavfi', '-i', 'testsrc2=s=64x64:d=0.04',
      '-frames:v', '1', '-c:v', this.spec.encoder, '-f', this.spec.muxer, '-',
    ]).catch((e: Error) => e);
    if (probe instanceof Error) return { ok: false, reason: probe.message };
    const text = `${probe.stderr}\n${probe.stdout.toString('latin1')}`;
    const version = this.spec.versionPattern.exec(text)?.[1] ?? 'version not reported';
    return { ok: true, version: `${this.spec.encoder} ${version}` };
  }

  operatingPoints(targetsKbps: readonly number[]): OperatingPoint[] {
    return ladderPoints(targetsKbps, this.ladder);
  }

  async run(job: CodecJob): Promise<CodecRun> {
    const kbps = job.point.targetKbps;
    if (kbps === null) throw new Error(`${this.id} needs a target bitrate`);
    await mkdir(job.workDir, { recursive: true });
    const stream = join(job.workDir, `${this.id}-${job.point.id}.${this.spec.extension}`);
    const stats = join(job.workDir, `${this.id}-${job.point.id}-pass`);
    const filter = encodeFilter(rungOf(job.point));
    const input = [...FFMPEG_QUIET, '-i', job.clip.y4mPath, '-an', ...(filter ? ['-vf', filter] : [])];
    const common = this.spec.encoderArgs(kbps, job.threads);
    const output = [
      ...(this.spec.bitstreamFilter ? ['-bsf:v', this.spec.bitstreamFilter] : []),
      '-f', this.spec.muxer, stream,
    ];
    const passes: string[][] = this.spec.passArgs
      ? [
          [...input, ...common, ...this.spec.passArgs(1, stats), '-f', 'null', '-'],
          [...input, ...common, ...this.spec.passArgs(2, stats), ...output],
        ]
      : [[...input, ...common, ...output]];
    let encodeMs = 0;
    for (const args of passes) encodeMs += (await runProcess(FFMPEG, args, { nice: true })).wallMs;
    await removePassLogs(job.workDir, `${this.id}-${job.point.id}-pass`);
    return this.measure(stream, job, encodeMs, passes.map((a) => renderCommand('ffmpeg', a)));
  }

  private async measure(stream: string, job: CodecJob, encodeMs: number, commands: string[]): Promise<CodecRun> {
    const sizes = await packetSizes(stream);
    const payloadBytes = sizes.reduce((a, b) => a + b, 0);
    // One RTP frame per coded picture: a lower frame rate pays fewer packet headers.
    const wire = rtpWireBytes(sizes);
    const rung = rungOf(job.point);
    const expected = picturesTaken(job.clip.frameCount, rung.fps);
    const notes: string[] = [];
    let decoded = await this.decode(stream, job.threads, rung, 'passthrough');
    if (decoded.frames.length < expected) {
      // Frames the encoder dropped: a receiver keeps showing the last one, which is what
      // constant-rate output (timestamp-driven repeats) reproduces.
      notes.push(`decoder returned ${decoded.frames.length} of ${expected} pictures; measured with repeats filled in by timestamp`);
      decoded = await this.decode(stream, job.threads, rung, 'cfr');
    }
    commands.push(renderCommand('ffmpeg', decoded.args));
    return {
      streamPath: stream,
      bits: { payloadBytes, wireBytes: wire.wireBytes, wireModel: RTP_WIRE_MODEL, packets: wire.packets },
      decodedFrames: playbackAt25(decoded.frames.slice(0, expected), job.clip.frameCount, rung.fps),
      encodeMs,
      decodeMs: decoded.wallMs,
      commands,
      notes,
    };
  }

  /** Decode to CROP_SIZE yuv420p pictures at the rung's own rate (scaled back up when the rung is smaller). */
  async decode(stream: string, threads: number, rung: LadderRung, mode: 'passthrough' | 'cfr'): Promise<{ frames: Uint8Array[]; wallMs: number; args: string[] }> {
    const timing = mode === 'cfr' ? ['-fps_mode', 'cfr', '-r', String(rung.fps)] : ['-fps_mode', 'passthrough'];
    // Raw H.264/HEVC carry no timing: the receiver knows the rate (RTP timestamps), so tell the demuxer.
    const rate = this.spec.muxer === 'ivf' ? [] : ['-r', String(rung.fps)];
    const filter = decodeFilter(rung);
    const args = [
      ...FFMPEG_QUIET, '-threads', String(threads), ...this.spec.decoderArgs, ...rate, '-i', stream, ...timing,
      ...(filter ? ['-vf', filter] : []), '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-',
    ];
    const { stdout, wallMs } = await runProcess(FFMPEG, args, { nice: true });
    return { frames: splitRawYuv420(new Uint8Array(stdout.buffer, stdout.byteOffset, stdout.length), CROP_SIZE, CROP_SIZE), wallMs, args };
  }

  /**
   * Decode speed from ffmpeg's own -benchmark clock (which starts after start-up and file
   * opening), over at least 1000 frames so the timer's resolution and scheduling noise do not
   * matter: the stream is looped (-stream_loop for IVF; Annex B streams, which cannot seek, are
   * concatenated with themselves, still a valid stream since each copy starts with an IDR).
   * Best of three runs.
   */
  async decodeSpeed(streamPath: string, frameCount: number, threads: number): Promise<DecodeTiming> {
    const copies = Math.max(1, Math.ceil(MIN_TIMED_FRAMES / frameCount));
    let input = streamPath;
    let loopArgs: string[] = [];
    if (this.spec.muxer === 'ivf') {
      loopArgs = ['-stream_loop', String(copies - 1)];
    } else {
      input = `${streamPath}.looped`;
      const once = await readFile(streamPath);
      await writeFile(input, Buffer.concat(Array.from({ length: copies }, () => once)));
    }
    try {
      let best: DecodeTiming = { wallMsPerFrame: Infinity, cpuMsPerFrame: Infinity };
      for (let i = 0; i < 3; i++) {
        const { stderr } = await runProcess(FFMPEG, [
          '-hide_banner', '-nostdin', '-loglevel', 'info', '-benchmark', '-threads', String(threads),
          ...this.spec.decoderArgs, ...loopArgs, '-i', input, '-f', 'null', '-',
        ]);
        const m = /bench: utime=([\d.]+)s stime=([\d.]+)s rtime=([\d.]+)s/.exec(stderr);
        if (!m) throw new Error('ffmpeg -benchmark printed no timing');
        const frames = frameCount * copies;
        best = {
          wallMsPerFrame: Math.min(best.wallMsPerFrame, (Number(m[3]) * 1000) / frames),
          cpuMsPerFrame: Math.min(best.cpuMsPerFrame, ((Number(m[1]) + Number(m[2])) * 1000) / frames),
        };
      }
      return best;
    } finally {
      if (input !== streamPath) await rm(input, { force: true });
    }
  }
}
