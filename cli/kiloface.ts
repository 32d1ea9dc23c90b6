// The kiloface command: the codec on video files, with the stream code a call runs.
//
//   kiloface encode IN.mp4 OUT.kf [--mode KBPS | --kbps N] [--max-frames N]
//   kiloface decode IN.kf OUT.mp4 [--compare ORIGINAL.mp4]
//
// encode: the codec's crop rule on the video (bench/crop.ts findFaceCrop: the tracker's first face
// fixes a square box), the box cut out at 25 fps and scaled to 256x256 (bench/prepared-clip.ts),
// then the bench's kiloface sender (bench/codecs/kiloface-codec.ts send(): tracker, then
// codec/stream NeuralSender with file-backed hooks) writes the packets to a KFS3 stream file
// (bench/codecs/kiloface-stream.ts). decode: codec/stream NeuralReceiver and the shipped decoder
// (the shipped decoder, codec/shipped.ts DECODER_DIR, on onnxruntime-node) through decodeStreamTo(), each picture piped to ffmpeg.
//
// Progress goes to stderr, the summary to stdout. Errors are one line on stderr: exit 1 for a
// file or video that cannot be used, 2 for a command line that cannot be understood.
import { spawn } from 'node:child_process';
import { constants, existsSync, readFileSync, statSync } from 'node:fs';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { KilofaceCodec } from '../bench/codecs/kiloface-codec.ts';
import { readStream, StreamFileError, writeStream, type StreamInfo } from '../bench/codecs/kiloface-stream.ts';
import { kilofaceBits, type SentPacket } from '../bench/codecs/kiloface-wire.ts';
import { FFMPEG, FFMPEG_QUIET, ffmpegEncoders, FFPROBE } from '../bench/ffmpeg-tools.ts';
import type { ClipEntry } from '../bench/manifest.ts';
import { planeFromBytes } from '../bench/metrics/plane.ts';
import { psnr } from '../bench/metrics/psnr.ts';
import { ssim } from '../bench/metrics/ssim.ts';
import { BENCH_FPS, loadY4m, preparationArgs } from '../bench/prepared-clip.ts';
import { runProcess } from '../bench/process.ts';
import { formatDuration, ProgressBar } from '../bench/progress.ts';
import { CROP_SIZE, DECODER_DIR, FRAME_SLOT_MS } from '../codec/shipped.ts';
import { DEFAULT_TARGET_KBPS, RATE_MODES, rateModeFor, type RateMode } from '../codec/stream/rate-modes.ts';

/** The guide modes for the usage text. */
const GUIDE_MODES = `(modes ${RATE_MODES.filter((m) => m.guide).map((m) => `${m.targetKbps}: ${m.guide!.side} px ${m.guide!.fps}/s ${m.guide!.kbps} kbit/s`).join(', ')})`;

const PACKAGE = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

const USAGE = `kiloface ${PACKAGE.version}: the kiloface neural video codec on video files

usage:
  kiloface encode IN.mp4 OUT.kf [--mode KBPS | --kbps N] [--max-frames N]
  kiloface decode IN.kf OUT.mp4 [--compare ORIGINAL.mp4]
  kiloface --help | --version

encode   finds the face (the codec's crop rule: the first face the tracker sees fixes a square
         box), cuts it out at ${BENCH_FPS} fps as ${CROP_SIZE}x${CROP_SIZE}, and codes it with the stream code a call runs:
         one reference picture (WebP) now and then, face geometry for every frame, and in the
         guide modes a small AV1 picture of the face ${GUIDE_MODES} (ffmpeg).
  --mode KBPS        the call's rate mode for this target (${RATE_MODES.map((m) => m.targetKbps).join(', ')} kbit/s; default ${DEFAULT_TARGET_KBPS})
  --kbps N           the richest of those modes that fits N kbit/s (as a call picks it)
  --max-frames N     code at most the first N frames (${BENCH_FPS} per second)

decode   rebuilds every frame with the shipped decoder (${DECODER_DIR}) and writes a
         ${CROP_SIZE}x${CROP_SIZE} H.264 video at ${BENCH_FPS} fps.
  --compare ORIGINAL the video that was encoded: PSNR-Y and SSIM-Y of the decoded frames
                     against its face crop (the box the encoder chose)

Progress goes to stderr, the summary to stdout. Exit status: 0 done, 1 a file or video that
cannot be used (the message says why), 2 a command line that cannot be understood.`;

/** A failure the user can act on: printed as one line, no stack. */
class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

const usageError = (message: string): CliError => new CliError(`${message} (see kiloface --help)`, 2);

/**
 * `npm run kiloface -- …` runs in the package folder; paths the user typed are relative to where
 * they typed them (npm's INIT_CWD).
 */
const CWD = process.env.npm_lifecycle_event === 'kiloface' && process.env.INIT_CWD ? process.env.INIT_CWD : process.cwd();
const userPath = (p: string): string => resolve(CWD, p);

function parse(command: string, args: string[], options: NonNullable<ParseArgsConfig['options']>, names: [string, string]) {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    const text = (error as Error).message;
    const unknown = /Unknown option '([^']+)'/.exec(text);
    throw usageError(unknown ? `${command}: unknown option ${unknown[1]}` : `${command}: ${text.split('. ')[0]}`);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help) return undefined;
  const [a, b, ...extra] = parsed.positionals;
  if (!a || !b) throw usageError(`${command} needs ${names[0]} and ${names[1]}`);
  if (extra.length > 0) throw usageError(`${command}: unexpected argument ${extra[0]}`);
  return { values, input: userPath(a), output: userPath(b) };
}

// --- files ---------------------------------------------------------------------------------

function mustBeFile(path: string, what: string): void {
  if (!existsSync(path)) throw new CliError(`${path}: no such file (${what})`);
  if (!statSync(path).isFile()) throw new CliError(`${path}: not a file (${what})`);
}

/** Before any work: the output's folder exists and can be written, and the output is not a folder. */
async function mustBeWritable(path: string): Promise<void> {
  if (existsSync(path) && statSync(path).isDirectory()) throw new CliError(`cannot write ${path}: it is a directory`);
  const dir = dirname(path);
  if (!existsSync(dir)) throw new CliError(`cannot write ${path}: the directory ${dir} does not exist`);
  try {
    await access(existsSync(path) ? path : dir, constants.W_OK);
  } catch {
    throw new CliError(`cannot write ${path}: permission denied`);
  }
}

interface VideoInfo {
  width: number;
  height: number;
  /** Seconds, when the container says. */
  duration: number | undefined;
}

async function probeVideo(path: string): Promise<VideoInfo> {
  let out: string;
  try {
    const r = await runProcess(FFPROBE, ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height,duration:format=duration', '-of', 'json', path]);
    out = r.stdout.toString('utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new CliError(`${FFPROBE} is not installed (kiloface needs ffmpeg and ffprobe)`);
    throw new CliError(`${path}: not a video ffmpeg can read (${(error as Error).message.replace(/^\S+ exited with \d+: /, '')})`);
  }
  const json = JSON.parse(out) as { streams?: { width?: number; height?: number; duration?: string }[]; format?: { duration?: string } };
  const stream = json.streams?.[0];
  if (!stream?.width || !stream.height) throw new CliError(`${path}: has no video stream`);
  const duration = Number(stream.duration ?? json.format?.duration);
  return { width: stream.width, height: stream.height, duration: Number.isFinite(duration) && duration > 0 ? duration : undefined };
}

/** What bench/prepared-clip.ts needs to know of a file that is not in a manifest. */
function clipEntry(path: string, video: VideoInfo): ClipEntry {
  return { file: basename(path), kind: 'talking-head', width: video.width, height: video.height, fps: BENCH_FPS, frames: 0, personId: '', person: '', licence: '', sha256: '' };
}

/** The face crop of `path` at 25 fps, 256x256 yuv420p (the encoder's input and --compare's truth). */
async function cropFrames(path: string, video: VideoInfo, crop: StreamInfo['referenceBoxes'][string], maxFrames: number, work: string, name: string): Promise<Uint8Array[]> {
  const y4m = join(work, `${name}.y4m`);
  await runProcess(FFMPEG, preparationArgs(path, clipEntry(path, video), crop, maxFrames, y4m));
  return (await loadY4m(y4m)).frames;
}

async function withWorkDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'kiloface-'));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// The codec and the tracker load onnxruntime: imported only once the command line and the files
// have been checked, so --help and usage errors answer at once.
async function availableCodec(): Promise<KilofaceCodec> {
  const { DEFAULT_KILOFACE_MODEL, KilofaceCodec } = await import('../bench/codecs/kiloface-codec.ts');
  const codec = new KilofaceCodec({ modelDir: DEFAULT_KILOFACE_MODEL });
  const available = await codec.checkAvailable();
  if (!available.ok) throw new CliError(`cannot run the codec: ${available.reason}`);
  return codec;
}

// --- figures -------------------------------------------------------------------------------

const kbps = (bytes: number, frames: number): string => ((bytes * 8) / 1000 / (frames / BENCH_FPS)).toFixed(2);
const kB = (bytes: number): string => (bytes < 1000 ? `${bytes} B` : `${(bytes / 1000).toFixed(1)} kB`);

/** Frames, duration, payload and wire rate of a stream: the lines both commands print. */
function streamLines(packets: readonly SentPacket[], frames: number): string[] {
  const bits = kilofaceBits(packets);
  const b = bits.breakdown as Record<'reference' | 'anchors' | 'frames' | 'noFace', number>;
  return [
    `  frames     ${frames} (${((frames * FRAME_SLOT_MS) / 1000).toFixed(2)} s at ${BENCH_FPS} fps), ${CROP_SIZE}x${CROP_SIZE}`,
    `  payload    ${kbps(bits.payloadBytes, frames)} kbit/s (${kB(bits.payloadBytes)}: reference pictures ${kB(b.reference)}, anchors ${kB(b.anchors)}, geometry ${kB(b.frames)}, no-face ${kB(b.noFace)})`,
    `  wire       ${kbps(bits.wireBytes, frames)} kbit/s as a call sends it by default (geometry inside the Opus packets, pictures on the datachannel; bench wire model)`,
  ];
}

// --- encode --------------------------------------------------------------------------------

async function encode(args: string[]): Promise<void> {
  const parsed = parse('encode', args, { mode: { type: 'string' }, kbps: { type: 'string' }, 'max-frames': { type: 'string' } }, ['IN (a video)', 'OUT (the .kf file to write)']);
  if (!parsed) return void console.log(USAGE);
  const { values, input, output } = parsed;
  if (values.mode !== undefined && values.kbps !== undefined) throw usageError('give --mode or --kbps, not both');
  let mode: RateMode | undefined;
  if (values.kbps !== undefined) {
    const kbps = Number(values.kbps);
    if (!(Number.isFinite(kbps) && kbps > 0)) throw usageError(`--kbps must be a number above 0, not "${String(values.kbps)}"`);
    mode = rateModeFor(kbps);
  } else {
    const target = values.mode === undefined ? DEFAULT_TARGET_KBPS : Number(values.mode);
    mode = RATE_MODES.find((m) => m.targetKbps === target);
    if (!mode) throw usageError(`--mode must be one of ${RATE_MODES.map((m) => m.targetKbps).join(', ')} (kbit/s), not "${String(values.mode)}"`);
  }
  const maxFrames = values['max-frames'] === undefined ? Infinity : Number(values['max-frames']);
  if (!(maxFrames === Infinity || (Number.isInteger(maxFrames) && maxFrames > 0))) throw usageError(`--max-frames must be a whole number above 0, not "${String(values['max-frames'])}"`);

  mustBeFile(input, 'the video to encode');
  await mustBeWritable(output);
  const video = await probeVideo(input);
  const started = performance.now();
  const codec = await availableCodec();
  try {
    process.stderr.write(`kiloface: looking for a face in ${basename(input)}…\n`);
    const { findFaceCrop } = await import('../bench/crop.ts');
    const crop = await findFaceCrop(input, video).catch((error: Error) => {
      throw new CliError(error.message);
    });
    if (!crop.ok) throw new CliError(`${input}: no face found (${crop.reason})`);
    const box = crop.box;
    await withWorkDir(async (work) => {
      // 2^31-1: "all of it" for ffmpeg's -frames:v
      const frames = await cropFrames(input, video, box, Number.isFinite(maxFrames) ? maxFrames : 2 ** 31 - 1, work, 'input');
      if (frames.length === 0) throw new CliError(`${input}: ffmpeg read no frames from it`);
      const bar = new ProgressBar('encode', frames.length);
      const { sent, info } = await codec.send(basename(input), frames, mode, 'webp', (i) => bar.update(i + 1));
      bar.finish();
      if (sent.stats.references === 0) {
        throw new CliError(`${input}: no reference picture could be made (the tracker found a face at first, but not on any coded picture${sent.stats.lastError ? `: ${sent.stats.lastError.message}` : ''})`);
      }
      const file = writeStream(sent.packets, frames.length, { ...info, source: { file: basename(input), width: video.width, height: video.height, crop: box } });
      try {
        await writeFile(output, file);
      } catch (error) {
        throw new CliError(`cannot write ${output}: ${(error as Error).message}`);
      }
      const causes = Object.entries(sent.stats.referencesByCause).filter(([, n]) => n > 0).map(([cause, n]) => `${n} ${cause}`).join(', ');
      const seconds = (performance.now() - started) / 1000;
      console.log(
        [
          `kiloface encode: ${input} -> ${output}`,
          `  input      ${video.width}x${video.height}; face crop ${box.size}x${box.size} at (${box.x}, ${box.y}), scaled to ${CROP_SIZE}x${CROP_SIZE}`,
          ...streamLines(sent.packets, frames.length),
          `  mode       ${mode.targetKbps} kbit/s: every ${mode.frameStride === 1 ? '' : `${mode.frameStride}nd `}frame coded, ${mode.framesPerPacket} frames/packet, quantiser ${mode.quantizer}, WebP quality ${Math.round(mode.referenceQuality * 100)}, new reference every ${mode.refreshSeconds} s${mode.guide ? `, guide ${mode.guide.codec} ${mode.guide.side} px ${mode.guide.fps}/s ${mode.guide.kbps} kbit/s` : ', geometry only'}`,
          ...(sent.stats.guidePictures > 0 ? [`  guide      ${sent.stats.guidePictures} pictures (${sent.stats.guideKeyframes} keyframes), ${kB(sent.stats.guideBytes)} inside the geometry bundles`] : []),
          `  references ${sent.stats.references} (${causes})`,
          `  file       ${kB(file.length)}`,
          `  time       ${formatDuration(seconds * 1000)} (${(frames.length / seconds).toFixed(1)} frames/s)`,
        ].join('\n'),
      );
    });
  } finally {
    await codec.close();
  }
}

// --- decode --------------------------------------------------------------------------------

/** ffmpeg taking RGB24 frames on stdin: H.264 into `output`, and yuv420p into `y4m` for --compare. */
function videoWriter(output: string, y4m: string | undefined) {
  const args = [
    ...FFMPEG_QUIET, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${CROP_SIZE}x${CROP_SIZE}`, '-r', String(BENCH_FPS), '-i', '-',
    '-c:v', 'libx264', '-preset', 'medium', '-crf', '18', '-pix_fmt', 'yuv420p', output,
    ...(y4m ? ['-pix_fmt', 'yuv420p', '-f', 'yuv4mpegpipe', y4m] : []),
  ];
  const child = spawn(FFMPEG, args, { stdio: ['pipe', 'ignore', 'pipe'] });
  const stderr: Buffer[] = [];
  child.stderr.on('data', (d: Buffer) => stderr.push(d));
  let failure: Error | undefined;
  child.stdin.on('error', (error) => (failure ??= error));
  const exited = new Promise<void>((resolveExit, reject) => {
    child.on('error', (error) => reject((error as NodeJS.ErrnoException).code === 'ENOENT' ? new CliError(`${FFMPEG} is not installed (kiloface needs ffmpeg)`) : error));
    child.on('close', (code) => {
      if (code === 0) resolveExit();
      else reject(new CliError(`ffmpeg could not write ${output}: ${Buffer.concat(stderr).toString('utf8').trim().split('\n').slice(-2).join(' | ') || `exit code ${code}`}`));
    });
  });
  exited.catch(() => undefined); // awaited in close(); a write error shows up there too
  return {
    async write(rgb: Uint8Array): Promise<void> {
      if (failure) return; // close() reports why
      if (!child.stdin.write(rgb)) await new Promise<void>((r) => child.stdin.once('drain', r).once('close', r));
    },
    async close(): Promise<void> {
      child.stdin.end();
      await exited;
    },
  };
}

async function decode(args: string[]): Promise<void> {
  const parsed = parse('decode', args, { compare: { type: 'string' } }, ['IN (a .kf file)', 'OUT (the video to write)']);
  if (!parsed) return void console.log(USAGE);
  const { values, input, output } = parsed;
  const original = typeof values.compare === 'string' ? userPath(values.compare) : undefined;

  mustBeFile(input, 'the stream to decode');
  const bytes = new Uint8Array(await readFile(input));
  let stream: ReturnType<typeof readStream>;
  try {
    stream = readStream(bytes);
  } catch (error) {
    if (error instanceof StreamFileError) throw new CliError(`${input}: ${error.message}`);
    throw error;
  }
  if (stream.frameCount === 0) throw new CliError(`${input}: the stream holds no frames`);
  let originalVideo: VideoInfo | undefined;
  const source = stream.info.source;
  if (original) {
    mustBeFile(original, 'the video to compare with');
    if (!source) throw new CliError(`${input}: does not say where its input was cut from (not made by kiloface encode), so --compare has no crop to compare with`);
    originalVideo = await probeVideo(original);
    if (originalVideo.width !== source.width || originalVideo.height !== source.height) {
      throw new CliError(`${original}: is ${originalVideo.width}x${originalVideo.height}, but ${basename(input)} was encoded from a ${source.width}x${source.height} video (${source.file})`);
    }
  }
  await mustBeWritable(output);
  if (!(await ffmpegEncoders().catch(() => new Set<string>())).has('libx264')) throw new CliError(`this ffmpeg (${FFMPEG}) has no libx264 encoder, which decode writes with`);
  const started = performance.now();
  const codec = await availableCodec();
  try {
    await withWorkDir(async (work) => {
      const decodedY4m = original ? join(work, 'decoded.y4m') : undefined;
      const writer = videoWriter(output, decodedY4m);
      const bar = new ProgressBar('decode', stream.frameCount);
      // The decoder's own threads: the machine's cores, at most 4 (more gains little at 256x256).
      const timing = await codec.decodeStreamTo(bytes, Math.min(4, availableParallelism()), async (index, rgb) => {
        await writer.write(rgb);
        bar.update(index + 1);
      }).catch(async (error: Error) => {
        await writer.close().catch(() => undefined);
        throw new CliError(`${input}: could not be decoded: ${error.message}`);
      });
      await writer.close();
      bar.finish();
      const seconds = (performance.now() - started) / 1000;
      const lines = [
        `kiloface decode: ${input} -> ${output}`,
        ...streamLines(stream.packets, stream.frameCount),
        `  decoder    ${codec.decoder}: ${timing.networkFrames > 0 ? `${(timing.networkMs / timing.networkFrames).toFixed(1)} ms/frame` : 'too few frames to time'}`,
        `  time       ${formatDuration(seconds * 1000)} (${(stream.frameCount / seconds).toFixed(1)} frames/s)${original ? ', before the comparison' : ''}`,
      ];
      if (original && decodedY4m && source && originalVideo) {
        const truth = await cropFrames(original, originalVideo, source.crop, stream.frameCount, work, 'original');
        const decoded = (await loadY4m(decodedY4m)).frames;
        const n = Math.min(truth.length, decoded.length);
        if (n === 0) throw new CliError(`${original}: ffmpeg read no frames from it`);
        const luma = (frame: Uint8Array) => planeFromBytes(CROP_SIZE, CROP_SIZE, frame.subarray(0, CROP_SIZE * CROP_SIZE));
        let psnrSum = 0;
        let ssimSum = 0;
        for (let i = 0; i < n; i++) {
          psnrSum += psnr(luma(truth[i]!), luma(decoded[i]!));
          ssimSum += ssim(luma(truth[i]!), luma(decoded[i]!));
        }
        const short = truth.length < stream.frameCount ? ` (the original has only ${truth.length} of the stream's ${stream.frameCount} frames)` : '';
        lines.push(`  quality    PSNR-Y ${(psnrSum / n).toFixed(2)} dB, SSIM-Y ${(ssimSum / n).toFixed(4)} against ${basename(original)}'s face crop, mean of ${n} frames${short}`);
      }
      console.log(lines.join('\n'));
    });
  } finally {
    await codec.close();
  }
}

// --- main ----------------------------------------------------------------------------------

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') return void console.log(USAGE);
  if (command === '--version' || command === '-v') return void console.log(`kiloface ${PACKAGE.version}`);
  if (command === 'encode') return encode(rest);
  if (command === 'decode') return decode(rest);
  if (command === undefined) throw usageError('no command given: encode or decode');
  throw usageError(command.startsWith('-') ? `unknown option ${command}` : `unknown command "${command}": encode or decode`);
}

main(process.argv.slice(2)).then(
  () => process.exit(0), // onnxruntime-node's threads would otherwise keep the process a moment
  (error: unknown) => {
    if (process.env.KILOFACE_DEBUG) console.error(error);
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`kiloface: ${message.split('\n')[0]}\n`);
    process.exit(error instanceof CliError ? error.exitCode : 1);
  },
);
