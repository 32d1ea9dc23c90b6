// kiloface in the bench: the call's stream (codec/stream NeuralSender and NeuralReceiver, through
// bench/codecs/kiloface-stream.ts) with file-backed hooks, the codec's models on onnxruntime-node,
// every byte counted.
//
// Sender hooks, on the prepared 256x256 clip every codec gets (the "camera"):
//   tracker (codec/tracker, One Euro smoothing as in a call) -> 468 landmarks per frame
//   makeReference: the sender's crop of the frame, coded by ffmpeg (libwebp or mjpeg), decoded,
//   its landmarks found again by the tracker (what the receiver will find)
// Receiver hooks: loadReference decodes the picture (ffmpeg), finds its landmarks, and
// NeuralDecoder.setReference; each shown frame -> landmarks -> frame.onnx -> the refined picture,
// mapped back onto the input grid when the sender's crop is not the whole prepared frame.
// Frames without a face to show hold the last picture (mid-grey before the first reference).
//
// The packets go to a .kfs file exactly as sent, and run() decodes that file. The kiloface
// command line (cli/kiloface.ts) runs the same send() and decodeStreamTo() on video files.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { imageTensor, NeuralDecoder } from '../../codec/decoder/neural-decoder.ts';
import type { CropBox } from '../../codec/geometry/reference-crop.ts';
import { geometryCodingConfig, MAX_FRAMES_PER_PACKET } from '../../codec/geometry/geometry-coder.ts';
import { onnxNodeRuntime } from '../../codec/runners/onnx-node.ts';
import { CROP_SIZE, DECODER_DIR, DECODER_FILES } from '../../codec/shipped.ts';
import type { PreparedReference } from '../../codec/stream/neural-sender.ts';
import { DEFAULT_TARGET_KBPS, RATE_MODES, rateModeFor, type RateMode } from '../../codec/stream/rate-modes.ts';
import { decoderFilesIn, loadFaceGeometry, missingFaceModels, REPO_ROOT } from '../../codec/runners/shipped-node.ts';
import { TrackerPool, trackYuvSequence } from '../face-models.ts';
import { FFMPEG, FFMPEG_QUIET, ffmpegEncoders } from '../ffmpeg-tools.ts';
import { BENCH_FPS, cropFilters, loadY4m } from '../prepared-clip.ts';
import { renderCommand, runProcess } from '../process.ts';
import type { Availability, Codec, CodecJob, CodecRun, DecodeTiming, OperatingPoint } from './codec.ts';
import { readStream, receiveClip, sendClip, writeStream, type ReceiverStep, type StreamInfo } from './kiloface-stream.ts';
import { datachannelOnlyWireBytes, kilofaceBits } from './kiloface-wire.ts';
import { areaDownscale } from '../../codec/stream/guide-codec.ts';
import { i420ToRgb } from '../../codec/yuv420.ts';
import { ffmpegGuideCodecs, GUIDE_CODEC_ARGS, guideEncoderArgs, GUIDE_VARIANTS } from './guide-ffmpeg.ts';

export const DEFAULT_KILOFACE_MODEL = join(REPO_ROOT, DECODER_DIR);

export type ReferenceFormat = 'webp' | 'jpeg';

export interface KilofacePoint {
  /** Geometry quantiser 0-31 (step x 2^(q/4)). */
  quantizer: number;
  /** Frames per FRAMES packet (1-16): 25 / this = packets per second. */
  framesPerPacket: number;
  referenceFormat: ReferenceFormat;
  /** libwebp -quality 0-100, or for JPEG the mjpeg -q:v 2-31 (lower = better). */
  referenceQuality: number;
  /** A new reference every this many seconds; 0 = one reference per clip. */
  refreshSeconds: number;
  /** The guide layer: a guides.py variant tag (GUIDE_VARIANTS), e.g. "av1-48-10-6"; absent: geometry only. */
  guide?: string;
  /**
   * The sender tracks only every n-th frame while it follows a face, as a call does on a device
   * short of CPU (web/neural/tracking-pace.ts), and interpolates the rest; absent: every frame.
   */
  trackEvery?: number;
}

export function kilofacePointId(p: KilofacePoint): string {
  const ref = p.referenceFormat === 'webp' ? `w${p.referenceQuality}` : `j${p.referenceQuality}`;
  return `${ref}-q${p.quantizer}-f${p.framesPerPacket}${p.refreshSeconds > 0 ? `-r${p.refreshSeconds}s` : ''}${p.guide ? `-g${p.guide}` : ''}${(p.trackEvery ?? 1) > 1 ? `-t${p.trackEvery}` : ''}`;
}

export function kilofaceOperatingPoint(p: KilofacePoint): OperatingPoint {
  const rate = BENCH_FPS / p.framesPerPacket;
  return {
    id: kilofacePointId(p),
    label: `reference ${p.referenceFormat} ${p.referenceFormat === 'webp' ? 'quality' : 'q:v'} ${p.referenceQuality}, quantiser ${p.quantizer}, ${p.framesPerPacket} frames/packet (${rate} packets/s), ${p.refreshSeconds > 0 ? `new reference every ${p.refreshSeconds} s` : 'one reference'}${p.guide ? `, guide ${guideLabel(p.guide)}` : ', geometry only'}${(p.trackEvery ?? 1) > 1 ? `, tracked every ${p.trackEvery} frames` : ''}`,
    targetKbps: null,
    params: { ...p, packetsPerSecond: rate },
  };
}

function guideLabel(tag: string): string {
  const g = GUIDE_VARIANTS[tag];
  return g ? `${g.codec} ${g.side} px ${g.fps}/s ${g.kbps} kbit/s` : `unknown variant ${tag}`;
}

const point = (referenceQuality: number, quantizer: number, framesPerPacket = 5, refreshSeconds = 0, guide?: string): KilofacePoint => ({
  quantizer,
  framesPerPacket,
  referenceFormat: 'webp',
  referenceQuality,
  refreshSeconds,
  ...(guide ? { guide } : {}),
});

/** The guide modes' points: the call's guide settings (reference quality, quantiser, frames/packet of rate-modes.ts) with each trained variant. */
const callGuideMode = RATE_MODES.find((m) => m.guide)!;
const guidePoints = (tags: readonly string[]): KilofacePoint[] =>
  tags.map((tag) => point(Math.round(callGuideMode.referenceQuality * 100), callGuideMode.quantizer, callGuideMode.framesPerPacket, 0, tag));

/**
 * The sweeps. The reference picture dominates the rate of a short clip (a 256x256 WebP face is
 * 2-6 kB, the geometry 1-3 kbit/s), so the reference quality is the main rate knob; the
 * quantiser sets how exactly the motion arrives; packet rate trades latency for header bytes.
 */
export const QUICK_KILOFACE_POINTS: readonly KilofacePoint[] = [
  point(75, 4),
  point(75, 4, 1), // 25 packets/s: lowest latency, most headers (same pictures as the point before)
  point(40, 8),
  point(75, 12),
  point(90, 8),
  point(75, 8, 5, 2), // a new reference every 2 s
  { ...point(40, 8), trackEvery: 2 }, // a call on a device short of CPU: what tracking every other frame costs
  // The guide layer (issue 17): the AV1 rungs of the call's modes, so kiloface draws a curve.
  ...guidePoints(['av1-32-10-3', 'av1-48-10-6', 'av1-64-10-12', 'av1-64-12.5-24']),
];
export const FULL_KILOFACE_POINTS: readonly KilofacePoint[] = [
  ...[30, 50, 75, 90].flatMap((r) => [4, 8, 12, 16].map((q) => point(r, q))),
  point(75, 8, 1),
  point(75, 8, 10),
  point(75, 8, 5, 5),
  ...guidePoints(Object.keys(GUIDE_VARIANTS)),
];

/**
 * The call's rate mode for a bench point: every frame coded (stride 1), the point's packetisation,
 * quantiser and refresh; references for motion or quality no closer together than in the call's
 * default mode. WebP quality goes through the mode as the browser's 0-1 scale.
 */
export function kilofaceRateMode(p: KilofacePoint): RateMode {
  const guide = p.guide === undefined ? undefined : GUIDE_VARIANTS[p.guide];
  if (p.guide !== undefined && !guide) throw new RangeError(`unknown guide variant ${p.guide}; known: ${Object.keys(GUIDE_VARIANTS).join(', ')}`);
  return {
    ...(guide ? { guide } : {}),
    targetKbps: 0,
    frameStride: 1,
    framesPerPacket: p.framesPerPacket,
    quantizer: p.quantizer,
    referenceQuality: p.referenceFormat === 'webp' ? p.referenceQuality / 100 : p.referenceQuality,
    refreshSeconds: p.refreshSeconds > 0 ? p.refreshSeconds : Infinity,
    minReferenceGapSeconds: rateModeFor(DEFAULT_TARGET_KBPS).minReferenceGapSeconds,
  };
}

/** Frames decode speed times (after 3 warm-up frames): enough for a stable mean at ~30-100 ms each. */
export const DECODE_SPEED_FRAMES = 50;

export interface KilofaceCodecOptions {
  modelDir?: string;
  quick?: boolean;
  points?: readonly KilofacePoint[];
}

// --- helpers ------------------------------------------------------------------------------

function referenceEncoderArgs(format: ReferenceFormat, quality: number): string[] {
  return format === 'webp'
    ? ['-c:v', 'libwebp', '-quality', String(quality), '-compression_level', '6', '-preset', 'photo', '-f', 'webp']
    : ['-c:v', 'mjpeg', '-q:v', String(quality), '-pix_fmt', 'yuvj420p', '-f', 'mjpeg'];
}

const FULL_FRAME: CropBox = { x: 0, y: 0, size: CROP_SIZE };
const isFullFrame = (box: CropBox): boolean => box.x === 0 && box.y === 0 && box.size === CROP_SIZE;

/** The sender's crop `box` of one yuv420p input frame -> image file bytes (ffmpeg), and the command for the report. */
async function encodePicture(frameYuv: Uint8Array, box: CropBox, format: ReferenceFormat, quality: number): Promise<{ bytes: Uint8Array; command: string }> {
  // Cropped in 4:4:4: on yuv420p, ffmpeg's pad and crop round odd offsets down to the chroma
  // grid, which would put the picture a pixel away from its landmarks (luma stays exact in 4:4:4).
  const crop = isFullFrame(box) ? [] : ['-vf', ['format=yuv444p', ...cropFilters(box, CROP_SIZE, CROP_SIZE)].join(',')];
  const args = [
    ...FFMPEG_QUIET, '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${CROP_SIZE}x${CROP_SIZE}`, '-i', '-',
    ...crop, ...referenceEncoderArgs(format, quality), '-',
  ];
  const { stdout } = await runProcess(FFMPEG, args, { stdin: frameYuv, nice: true });
  if (stdout.length === 0) throw new Error(`ffmpeg wrote an empty ${format} picture`);
  return { bytes: new Uint8Array(stdout), command: renderCommand('ffmpeg', args.map((a) => (a === '-' ? 'PIPE' : a))) };
}

/**
 * A picture of the sender's crop `box` (RGB24, CROP_SIZE square) back onto the input frame's
 * grid (bilinear; outside the box the edge repeats), so that it is measured against the input.
 */
export function uncropToFrame(rgb: Uint8Array, box: CropBox): Uint8Array {
  if (isFullFrame(box)) return rgb;
  const k = CROP_SIZE / box.size;
  return resampleRgb(rgb, (u) => (u + 0.5 - box.x) * k - 0.5, (v) => (v + 0.5 - box.y) * k - 0.5);
}

/**
 * The sender's crop `box` of an RGB24 input frame at CROP_SIZE (bilinear, the edge repeated
 * outside the frame): the guide picture's source, before areaDownscale.
 */
export function cropRgb(rgb: Uint8Array, box: CropBox): Uint8Array {
  if (isFullFrame(box)) return rgb;
  const k = box.size / CROP_SIZE;
  return resampleRgb(rgb, (u) => box.x + (u + 0.5) * k - 0.5, (v) => box.y + (v + 0.5) * k - 0.5);
}

/** A CROP_SIZE square RGB24 picture sampled bilinearly at source position (x(u), y(v)) for each output pixel, edges repeated. */
function resampleRgb(rgb: Uint8Array, x: (u: number) => number, y: (v: number) => number): Uint8Array {
  const n = CROP_SIZE;
  const out = new Uint8Array(n * n * 3);
  for (let v = 0; v < n; v++) {
    const sy = Math.min(n - 1, Math.max(0, y(v)));
    const y0 = Math.floor(sy);
    const y1 = Math.min(n - 1, y0 + 1);
    const fy = sy - y0;
    for (let u = 0; u < n; u++) {
      const sx = Math.min(n - 1, Math.max(0, x(u)));
      const x0 = Math.floor(sx);
      const x1 = Math.min(n - 1, x0 + 1);
      const fx = sx - x0;
      for (let c = 0; c < 3; c++) {
        const top = rgb[(y0 * n + x0) * 3 + c]! * (1 - fx) + rgb[(y0 * n + x1) * 3 + c]! * fx;
        const bottom = rgb[(y1 * n + x0) * 3 + c]! * (1 - fx) + rgb[(y1 * n + x1) * 3 + c]! * fx;
        out[(v * n + u) * 3 + c] = Math.round(top * (1 - fy) + bottom * fy);
      }
    }
  }
  return out;
}

/** Image file bytes -> the decoded picture as yuv420p (what the receiver's image decoder gives). */
async function decodePicture(file: Uint8Array): Promise<Uint8Array> {
  const { stdout } = await runProcess(FFMPEG, [...FFMPEG_QUIET, '-i', '-', '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { stdin: file, nice: true });
  if (stdout.length !== CROP_SIZE * CROP_SIZE * 3) throw new Error(`reference picture decoded to ${stdout.length} bytes, expected 256x256 RGB`);
  return new Uint8Array(stdout);
}

/** RGB24 frames -> yuv420p through ffmpeg (the same conversion family the inputs went through). */
async function rgbToYuv420(frames: readonly Uint8Array[], y4mPath: string): Promise<Uint8Array[]> {
  await runProcess(
    FFMPEG,
    [...FFMPEG_QUIET, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${CROP_SIZE}x${CROP_SIZE}`, '-r', String(BENCH_FPS), '-i', '-', '-pix_fmt', 'yuv420p', '-f', 'yuv4mpegpipe', y4mPath],
    { stdin: Buffer.concat(frames), nice: true },
  );
  return (await loadY4m(y4mPath)).frames;
}

/** Planar [0,1] RGB (1x3x256x256) -> packed RGB24. */
function planarToRgb24(planar: Float32Array): Uint8Array {
  const n = CROP_SIZE * CROP_SIZE;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      const v = planar[c * n + i]!;
      out[i * 3 + c] = Math.round(255 * (v < 0 ? 0 : v > 1 ? 1 : v));
    }
  }
  return out;
}

/** frame.onnx time (elapsed, and process CPU) over networkFrames frames, warm-up left out. */
export interface NetworkTiming {
  networkMs: number;
  networkCpuMs: number;
  networkFrames: number;
}

export interface DecodedStream extends NetworkTiming {
  /** RGB24 pictures, one per frame. */
  frames: Uint8Array[];
  reused: boolean;
}

const WARM_UP_CALLS = 3;

/** A reference picture as the bench's receiver keeps it: the decoded picture, its landmarks, the sender's crop. */
interface BenchReference {
  rgb: Uint8Array;
  landmarks: Float32Array;
  box: CropBox;
}

const pictureKey = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const GREY_RGB = new Uint8Array(CROP_SIZE * CROP_SIZE * 3).fill(128);

// --- the codec ----------------------------------------------------------------------------

export class KilofaceCodec implements Codec {
  readonly id = 'kiloface';
  readonly label = 'kiloface (neural)';
  readonly decoder: string;
  readonly settings: string;
  private readonly modelDir: string;
  private readonly points: readonly KilofacePoint[];
  /** The sender's tracker (One Euro smoothing on, as in a call). */
  private readonly senderTrackers = new TrackerPool();
  /** The receiver's tracker for the reference picture (one still picture: no smoothing). */
  private readonly pictureTrackers = new TrackerPool({ smoothing: false });
  /** The sender's landmarks by clip and tracker pace ("clip/every"). */
  private readonly senderLandmarks = new Map<string, Promise<(Float32Array | null | undefined)[]>>();
  /**
   * Decoded pictures by what determines them (reference pictures + decoded geometry): points
   * that differ only in packetization (frames per packet) give the receiver the same numbers,
   * so the network runs once for them. A few entries, oldest dropped first.
   */
  private readonly decodedCache = new Map<string, Promise<DecodedStream>>();

  constructor(options: KilofaceCodecOptions = {}) {
    this.modelDir = resolve(options.modelDir ?? process.env.KILOFACE_MODEL ?? DEFAULT_KILOFACE_MODEL);
    this.points = options.points ?? (options.quick ? QUICK_KILOFACE_POINTS : FULL_KILOFACE_POINTS);
    const where = relative(REPO_ROOT, this.modelDir).startsWith('..') ? this.modelDir : relative(REPO_ROOT, this.modelDir);
    this.decoder = `kiloface NeuralDecoder (${where}/${DECODER_FILES.frame}, onnxruntime-node CPU)`;
    this.settings =
      'the call\'s NeuralSender and NeuralReceiver (codec/stream) on the frame-slot clock; ' +
      'sweep of reference picture quality (libwebp), geometry quantiser, frames per packet and reference refresh, and the guide layer (guides.py variants: area-downscaled crop, ffmpeg realtime encoder, inside the bundles); ' +
      'counted: reference pictures (+7-byte ReferencePicture header each), anchors, FRAMES and NoFace packets (6-byte headers included); ' +
      'the receiver finds the reference landmarks by running the tracker on the decoded reference picture (no bits)';
  }

  private file(name: string): string {
    return join(this.modelDir, name);
  }

  async checkAvailable(): Promise<Availability> {
    const missing = [DECODER_FILES.reference, DECODER_FILES.frame, 'model.json'].filter((f) => !existsSync(this.file(f)));
    if (missing.length > 0) return { ok: false, reason: `decoder model missing: ${missing.map((f) => join(this.modelDir, f)).join(', ')} (train/export it, or pass --model DIR)` };
    const face = missingFaceModels(['detector', 'landmarks', 'canonical', 'basis']);
    if (face.length > 0) return { ok: false, reason: `face models missing: ${face.join(', ')}` };
    const encoders = await ffmpegEncoders().catch(() => new Set<string>());
    const formats = new Set(this.points.map((p) => p.referenceFormat));
    if (formats.has('webp') && !encoders.has('libwebp')) return { ok: false, reason: 'this ffmpeg has no libwebp (reference pictures)' };
    if (formats.has('jpeg') && !encoders.has('mjpeg')) return { ok: false, reason: 'this ffmpeg has no mjpeg (reference pictures)' };
    const guideEncoders = new Set(this.points.flatMap((p) => (p.guide ? [GUIDE_CODEC_ARGS[GUIDE_VARIANTS[p.guide]?.codec ?? 'av1'][1]!] : [])));
    for (const name of guideEncoders) if (!encoders.has(name)) return { ok: false, reason: `this ffmpeg has no ${name} (the guide layer)` };
    const meta = JSON.parse(await readFile(this.file('model.json'), 'utf8')) as { name?: string };
    const sha = createHash('sha256').update(await readFile(this.file(DECODER_FILES.frame))).digest('hex').slice(0, 12);
    return { ok: true, version: `${meta.name ?? 'kiloface'} (frame.onnx sha256 ${sha}), geometry ${loadFaceGeometry().model.version}` };
  }

  operatingPoints(): OperatingPoint[] {
    return this.points.map(kilofaceOperatingPoint);
  }

  /** The sender's landmarks of a prepared clip, tracked once per clip. */
  private landmarksOf(clipId: string, frames: readonly Uint8Array[], onTracked?: (index: number) => void, trackEvery = 1): Promise<(Float32Array | null | undefined)[]> {
    const key = `${clipId}/${trackEvery}`;
    let p = this.senderLandmarks.get(key);
    if (!p) {
      p = trackYuvSequence(this.senderTrackers, frames, CROP_SIZE, CROP_SIZE, onTracked, trackEvery);
      this.senderLandmarks.set(key, p);
    }
    return p;
  }

  /** The reference landmarks both ends find on the decoded reference picture (undefined: no face on it). */
  private async pictureLandmarks(rgb: Uint8Array): Promise<Float32Array | undefined> {
    const r = await this.pictureTrackers.use((t) => t.track({ data: rgb, width: CROP_SIZE, height: CROP_SIZE, channels: 3 }));
    return r.state === 'face' ? r.landmarks : undefined;
  }

  /**
   * The sender over a prepared clip (yuv420p frames, CROP_SIZE square, on the frame-slot clock):
   * the tracker's landmarks of every frame (`onTracked` after each; of every `trackEvery`-th while
   * it follows a face), then the call's NeuralSender with the bench's picture hooks. Returns the
   * packets and the stream file's info.
   */
  async send(
    clipId: string,
    source: readonly Uint8Array[],
    mode: RateMode,
    referenceFormat: ReferenceFormat,
    onTracked?: (index: number) => void,
    trackEvery = 1,
  ): Promise<{ sent: Awaited<ReturnType<typeof sendClip>>; landmarks: (Float32Array | null | undefined)[]; info: StreamInfo; pictureCommand: string }> {
    const landmarks = await this.landmarksOf(clipId, source, onTracked, trackEvery);
    // The sender's crop of each picture it sent: the receiver does not need it, the measurement does.
    const referenceBoxes: Record<string, CropBox> = {};
    let pictureCommand = '';
    const { geometry } = loadFaceGeometry();
    const sent = await sendClip({
      geometry,
      coding: geometryCodingConfig(geometry),
      mode,
      landmarks,
      hooks: {
        makeReference: async (index, box, quality): Promise<PreparedReference | undefined> => {
          const q = referenceFormat === 'webp' ? Math.round(quality * 100) : quality;
          const picture = await encodePicture(source[index]!, box, referenceFormat, q);
          pictureCommand = picture.command;
          const found = await this.pictureLandmarks(await decodePicture(picture.bytes));
          if (!found) return undefined;
          referenceBoxes[pictureKey(picture.bytes)] = box;
          return { format: referenceFormat, bytes: picture.bytes, landmarks: found };
        },
        guidePicture: (index, box, side) => areaDownscale(cropRgb(i420ToRgb(source[index]!, CROP_SIZE, CROP_SIZE), box), side),
      },
      guideCodecs: ffmpegGuideCodecs,
    });
    return { sent, landmarks, info: { referenceBoxes }, pictureCommand };
  }

  async run(job: CodecJob): Promise<CodecRun> {
    const params = job.point.params as unknown as KilofacePoint;
    if (!(params.framesPerPacket >= 1 && params.framesPerPacket <= MAX_FRAMES_PER_PACKET)) throw new RangeError(`framesPerPacket must be 1..${MAX_FRAMES_PER_PACKET}`);
    await mkdir(job.workDir, { recursive: true });
    const base = join(job.workDir, `${this.id}-${job.point.id}`);
    const source = (await loadY4m(job.clip.y4mPath)).frames;

    const t0 = performance.now();
    const { sent, landmarks, info, pictureCommand } = await this.send(job.clip.id, source, kilofaceRateMode(params), params.referenceFormat, undefined, params.trackEvery);
    const boxes = Object.values(info.referenceBoxes);
    const streamPath = `${base}.kfs`;
    await writeFile(streamPath, writeStream(sent.packets, source.length, info));
    const encodeMs = performance.now() - t0;

    const d0 = performance.now();
    const decoded = await this.decodeStream(await readFile(streamPath), job.threads, true);
    const decodedFrames = await rgbToYuv420(decoded.frames, `${base}.y4m`);
    const decodeMs = performance.now() - d0;

    const bits = kilofaceBits(sent.packets);
    const notes: string[] = [];
    const firstFace = landmarks.findIndex((l) => l !== null);
    if (firstFace > 0) notes.push(`no face before frame ${firstFace}: those frames are mid-grey (nothing to show yet)`);
    const noFace = landmarks.filter((l, i) => l === null && i > firstFace).length;
    if (noFace > 0) notes.push(`${noFace} frame(s) without a face after the reference: NoFace packets, the receiver holds the last picture`);
    const { references, referencesByCause, referenceFailures, lastError } = sent.stats;
    const causes = Object.entries(referencesByCause).filter(([, n]) => n > 0).map(([cause, n]) => `${n} ${cause}`).join(', ');
    notes.push(`${references} reference(s) (${causes}); sender's crop box(es) ${boxes.map((b) => `${b.x},${b.y},${b.size}`).join(' ')} of the ${CROP_SIZE}x${CROP_SIZE} input`);
    if (boxes.some((b) => !isFullFrame(b))) notes.push('decoded pictures of a crop box other than the whole input are mapped back onto the input grid (bilinear) before measuring');
    if (referenceFailures > 0) notes.push(`${referenceFailures} reference(s) could not be made (last: ${lastError?.message}); the sender retried`);
    if (sent.stats.guidePictures > 0) notes.push(`guide: ${sent.stats.guidePictures} pictures (${sent.stats.guideKeyframes} keyframes), ${((sent.stats.guideBytes * 8) / 1000 / (source.length / BENCH_FPS)).toFixed(2)} kbit/s of guide payload`);
    notes.push(`wire with every packet on the datachannel instead (audio bundles off, or silence): ${((datachannelOnlyWireBytes(sent.packets) * 8) / 1000 / (source.length / BENCH_FPS)).toFixed(2)} kbit/s`);
    if (decoded.reused) notes.push('same reference pictures and shown geometry as another point of this clip: its decoded pictures are reused (packetization changes bits, not pictures)');
    return {
      streamPath,
      bits,
      decodedFrames,
      encodeMs,
      decodeMs,
      commands: [
        `codec/stream NeuralSender (bench/codecs/kiloface-stream.ts) over the tracker's landmarks (codec/tracker, onnxruntime-node) of the prepared clip; reference picture: ${pictureCommand}`,
        `codec/stream NeuralReceiver; geometry quantiser ${params.quantizer}, ${params.framesPerPacket} frames/packet; reference: ffmpeg -i ref.${params.referenceFormat} -f rawvideo -pix_fmt rgb24 -, tracker on it, NeuralDecoder (${this.decoder})`,
        ...(params.guide ? [`guide ${params.guide}: areaDownscale of the crop, then per picture (bench/codecs/guide-ffmpeg.ts) ${renderCommand('ffmpeg', guideEncoderArgs(GUIDE_VARIANTS[params.guide]!).map((a) => (a === '-' ? 'PIPE' : a)))}; decoded by ffmpeg, guideTo64 (bicubic) into frame.onnx`] : []),
      ],
      notes,
    };
  }

  /** Pass 1 of the receiver (no network): what it shows, in order, with the references it loads. */
  private async receive(buf: Uint8Array): Promise<{ frameCount: number; steps: ReceiverStep<BenchReference>[] }> {
    const { frameCount, packets, info } = readStream(buf);
    const { geometry } = loadFaceGeometry();
    const { steps } = await receiveClip<BenchReference>(packets, frameCount, {
      coding: geometryCodingConfig(geometry),
      referenceShape: (l) => geometry.referenceShape(l),
      guideCodecs: ffmpegGuideCodecs,
      landmarks: (values, shape) => geometry.decode(values, shape),
      loadReference: async (_id, _format, picture) => {
        const rgb = await decodePicture(picture);
        const landmarks = await this.pictureLandmarks(rgb);
        if (!landmarks) throw new Error('the tracker finds no face in the decoded reference picture');
        return { landmarks, reference: { rgb, landmarks, box: info.referenceBoxes[pictureKey(picture)] ?? FULL_FRAME } };
      },
    });
    return { frameCount, steps };
  }

  /**
   * The receiver: decodes a stream file to RGB24 frames (on the input grid, by the sender's crop
   * boxes the file carries). Times frame.onnx alone (wall and process CPU), which is what
   * decodeSpeed reports. `reuse`: take the pictures from an earlier decode with the same reference
   * pictures and shown geometry (see decodedCache).
   */
  async decodeStream(buf: Uint8Array, threads: number, reuse = false, maxNetworkFrames = Infinity): Promise<DecodedStream> {
    const { frameCount, steps } = await this.receive(buf);
    const key = createHash('sha256');
    for (const step of steps) {
      if (step.kind === 'reference') key.update(`R${step.reference.box.x},${step.reference.box.y},${step.reference.box.size}:`).update(step.reference.rgb);
      else if (step.frame.state === 'face') {
        key.update(`F${step.index}:`).update(new Uint8Array(step.frame.values.buffer, step.frame.values.byteOffset, step.frame.values.byteLength));
        if (step.frame.guide) key.update('G').update(step.frame.guide.picture).update(new Uint8Array(step.frame.guide.landmarks.buffer, step.frame.guide.landmarks.byteOffset, step.frame.guide.landmarks.byteLength));
      }
    }
    const cacheKey = `${frameCount}:${key.digest('hex')}`;
    if (reuse) {
      const cached = this.decodedCache.get(cacheKey);
      if (cached) return { ...(await cached), reused: true };
    }
    const work = (async (): Promise<DecodedStream> => {
      const frames: Uint8Array[] = [];
      const timing = await this.runNetwork(steps, frameCount, threads, maxNetworkFrames, (_index, rgb) => void frames.push(rgb));
      return { frames, ...timing, reused: false };
    })();
    if (reuse) {
      this.decodedCache.set(cacheKey, work);
      work.catch(() => this.decodedCache.delete(cacheKey));
      while (this.decodedCache.size > 4) this.decodedCache.delete(this.decodedCache.keys().next().value!);
    }
    return work;
  }

  /**
   * The receiver for a long stream: each frame's picture goes to `onFrame` in order as soon as it
   * is made, none is kept. Returns the frame count and frame.onnx's timing.
   */
  async decodeStreamTo(buf: Uint8Array, threads: number, onFrame: (index: number, rgb: Uint8Array) => void | Promise<void>): Promise<NetworkTiming & { frameCount: number }> {
    const { frameCount, steps } = await this.receive(buf);
    return { frameCount, ...(await this.runNetwork(steps, frameCount, threads, Infinity, onFrame)) };
  }

  /**
   * frame.onnx over the receiver's steps; every frame goes to `onFrame` in order. Frames without
   * a face to show hold the last picture (mid-grey before the first one).
   */
  private async runNetwork(
    steps: readonly ReceiverStep<BenchReference>[],
    frameCount: number,
    threads: number,
    maxNetworkFrames: number,
    onFrame: (index: number, rgb: Uint8Array) => void | Promise<void>,
  ): Promise<NetworkTiming> {
    const { geometry } = loadFaceGeometry();
    const decoder = await NeuralDecoder.load(onnxNodeRuntime, decoderFilesIn(this.modelDir), { threads });
    let box = FULL_FRAME;
    let networkMs = 0;
    let networkCpuMs = 0;
    let networkFrames = 0;
    let calls = 0;
    let last: Uint8Array = GREY_RGB;
    let next = 0;
    const holdUntil = async (end: number): Promise<void> => {
      for (; next < end; next++) await onFrame(next, last);
    };
    try {
      for (const step of steps) {
        if (step.kind === 'reference') {
          await decoder.setReference(imageTensor(step.reference.rgb), step.reference.landmarks);
          box = step.reference.box;
          continue;
        }
        if (step.frame.state !== 'face') continue; // no face, or nothing yet: hold
        if (networkFrames >= maxNetworkFrames) break;
        const target = geometry.decode(step.frame.values, step.frame.shape);
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        const out = await decoder.decode(target, step.frame.guide);
        const wall = performance.now() - t0;
        const c = process.cpuUsage(c0);
        // The first calls of a session pay one-off allocation: not part of the per-frame cost.
        if (calls++ >= WARM_UP_CALLS) {
          networkMs += wall;
          networkCpuMs += (c.user + c.system) / 1000;
          networkFrames++;
        }
        await holdUntil(step.index);
        last = uncropToFrame(planarToRgb24(out.image), box);
        await holdUntil(step.index + 1);
      }
      await holdUntil(frameCount);
    } finally {
      await decoder.close();
    }
    return { networkMs, networkCpuMs, networkFrames };
  }

  /** ms per frame of frame.onnx (the per-frame network; reference.onnx runs once per reference). */
  async decodeSpeed(streamPath: string, _frameCount: number, threads: number): Promise<DecodeTiming> {
    const r = await this.decodeStream(await readFile(streamPath), threads, false, DECODE_SPEED_FRAMES);
    if (r.networkFrames === 0) throw new Error('no frames decoded');
    return { wallMsPerFrame: r.networkMs / r.networkFrames, cpuMsPerFrame: r.networkCpuMs / r.networkFrames };
  }

  async close(): Promise<void> {
    await Promise.all([this.senderTrackers.close(), this.pictureTrackers.close()]);
  }
}
