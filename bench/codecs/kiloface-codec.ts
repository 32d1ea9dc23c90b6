// kiloface in the bench: the codec's own pieces (codec/) on onnxruntime-node, driven as a call
// would drive them, every byte counted.
//
// Sender, on the prepared 256x256 clip every codec gets:
//   tracker (codec/tracker, One Euro smoothing as in a call) -> 468 landmarks per frame
//   reference picture: the first face frame, coded as an image by ffmpeg (libwebp or mjpeg)
//   anchor: that frame's geometry, coded without prediction (reliable channel)
//   FRAMES packets: 1-16 frames each, predicted from the anchor (unreliable channel)
//   NoFace packets where the tracker sees no face; optional reference refresh every N seconds
// Receiver: decode the reference picture (the DECODED image, never the original) -> run the same
// tracker on it for the reference's landmarks (both ends can, so they cost no bits) ->
// NeuralDecoder.setReference; every FRAMES packet -> geometry -> landmarks -> frame.onnx ->
// the refined picture. Frames without geometry (no face, or before the first reference) show
// the last picture (mid-grey before any).
//
// The coded stream is written as a .kfs file (bench container: records of kind, frame index,
// length, bytes; the container's own bytes are not counted), and run() decodes that file, so
// what is measured is what the bytes carry.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { writePacket, PacketType } from '../../codec/bitstream/packet.ts';
import { readReferencePicture, writeReferencePicture } from '../../codec/stream/reference-packet.ts';
import { imageTensor, NeuralDecoder } from '../../codec/decoder/neural-decoder.ts';
import { GeometryDecoder, GeometryEncoder, geometryCodingConfig, MAX_FRAMES_PER_PACKET } from '../../codec/geometry-coder.ts';
import { onnxNodeRuntime } from '../../codec/runners/onnx-node.ts';
import { CROP_SIZE, DECODER_DIR, DECODER_FILES, FRAME_SLOT_MS } from '../../codec/shipped.ts';
import { DATACHANNEL_MESSAGE_OVERHEAD, DATACHANNEL_PAYLOAD_PER_PACKET, datachannelWireBytes, UDP_IP_OVERHEAD } from '../../codec/stream/wire.ts';
import { loadFaceGeometry, missingFaceModels, REPO_ROOT, TrackerPool, trackYuvSequence } from '../face-models.ts';
import { FFMPEG, FFMPEG_QUIET, ffmpegEncoders } from '../ffmpeg-tools.ts';
import { BENCH_FPS, loadY4m } from '../prepared-clip.ts';
import { renderCommand, runProcess } from '../process.ts';
import type { Availability, BitCount, Codec, CodecJob, CodecRun, DecodeTiming, OperatingPoint } from './codec.ts';

export const DEFAULT_KILOFACE_MODEL = join(REPO_ROOT, DECODER_DIR);

export const KILOFACE_WIRE_MODEL =
  `datachannel: each message in ceil(bytes/${DATACHANNEL_PAYLOAD_PER_PACKET}) packets, each ${DATACHANNEL_MESSAGE_OVERHEAD} B DTLS+SCTP (measured, codec/stream/wire.ts) + ${UDP_IP_OVERHEAD} B UDP/IPv4; SCTP acknowledgements from the receiver not counted`;

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
}

export function kilofacePointId(p: KilofacePoint): string {
  const ref = p.referenceFormat === 'webp' ? `w${p.referenceQuality}` : `j${p.referenceQuality}`;
  return `${ref}-q${p.quantizer}-f${p.framesPerPacket}${p.refreshSeconds > 0 ? `-r${p.refreshSeconds}s` : ''}`;
}

export function kilofaceOperatingPoint(p: KilofacePoint): OperatingPoint {
  const rate = BENCH_FPS / p.framesPerPacket;
  return {
    id: kilofacePointId(p),
    label: `reference ${p.referenceFormat} ${p.referenceFormat === 'webp' ? 'quality' : 'q:v'} ${p.referenceQuality}, quantiser ${p.quantizer}, ${p.framesPerPacket} frames/packet (${rate} packets/s), ${p.refreshSeconds > 0 ? `new reference every ${p.refreshSeconds} s` : 'one reference'}`,
    targetKbps: null,
    params: { ...p, packetsPerSecond: rate },
  };
}

const point = (referenceQuality: number, quantizer: number, framesPerPacket = 5, refreshSeconds = 0): KilofacePoint => ({
  quantizer,
  framesPerPacket,
  referenceFormat: 'webp',
  referenceQuality,
  refreshSeconds,
});

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
];
export const FULL_KILOFACE_POINTS: readonly KilofacePoint[] = [
  ...[30, 50, 75, 90].flatMap((r) => [4, 8, 12, 16].map((q) => point(r, q))),
  point(75, 8, 1),
  point(75, 8, 10),
  point(75, 8, 5, 5),
];

/** Frames decode speed times (after 3 warm-up frames): enough for a stable mean at ~30-100 ms each. */
export const DECODE_SPEED_FRAMES = 50;

export interface KilofaceCodecOptions {
  modelDir?: string;
  quick?: boolean;
  points?: readonly KilofacePoint[];
}

// --- the .kfs bench container -------------------------------------------------------------

export enum RecordKind {
  ReferencePicture = 1,
  Anchor = 2,
  Frames = 3,
  NoFace = 4,
}

export interface StreamRecord {
  kind: RecordKind;
  /** Index of the (first) frame the record belongs to. */
  frame: number;
  /** The message as sent: a codec packet (references: a ReferencePicture packet, codec/stream/reference-packet.ts). */
  bytes: Uint8Array;
}

const MAGIC = 'KFS1';

export function writeStream(records: readonly StreamRecord[], format: ReferenceFormat, frameCount: number): Uint8Array {
  const head = Buffer.from(`${MAGIC} ${format} ${frameCount}\n`, 'latin1');
  const parts: Uint8Array[] = [head];
  for (const r of records) {
    const h = Buffer.alloc(9);
    h.writeUInt8(r.kind, 0);
    h.writeUInt32BE(r.frame, 1);
    h.writeUInt32BE(r.bytes.length, 5);
    parts.push(h, r.bytes);
  }
  return Buffer.concat(parts);
}

export function readStream(buf: Uint8Array): { format: ReferenceFormat; frameCount: number; records: StreamRecord[] } {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  const nl = b.indexOf(0x0a);
  const [magic, format, frames] = b.subarray(0, nl).toString('latin1').split(' ');
  if (magic !== MAGIC || (format !== 'webp' && format !== 'jpeg')) throw new Error('not a kiloface bench stream');
  const records: StreamRecord[] = [];
  let pos = nl + 1;
  while (pos < b.length) {
    if (pos + 9 > b.length) throw new Error('truncated stream record');
    const length = b.readUInt32BE(pos + 5);
    records.push({ kind: b.readUInt8(pos) as RecordKind, frame: b.readUInt32BE(pos + 1), bytes: new Uint8Array(b.subarray(pos + 9, pos + 9 + length)) });
    pos += 9 + length;
  }
  return { format, frameCount: Number(frames), records };
}

/** Payload and wire bytes of a list of datachannel messages. */
export function datachannelBits(records: readonly StreamRecord[]): BitCount {
  let payload = 0;
  let wire = 0;
  let packets = 0;
  const breakdown = { reference: 0, anchors: 0, frames: 0, noFace: 0 };
  for (const r of records) {
    payload += r.bytes.length;
    wire += datachannelWireBytes(r.bytes.length);
    packets += Math.max(1, Math.ceil(r.bytes.length / DATACHANNEL_PAYLOAD_PER_PACKET));
    if (r.kind === RecordKind.ReferencePicture) breakdown.reference += r.bytes.length;
    else if (r.kind === RecordKind.Anchor) breakdown.anchors += r.bytes.length;
    else if (r.kind === RecordKind.Frames) breakdown.frames += r.bytes.length;
    else breakdown.noFace += r.bytes.length;
  }
  return {
    payloadBytes: payload,
    wireBytes: wire,
    wireModel: KILOFACE_WIRE_MODEL,
    breakdown,
    packets,
  };
}

// --- helpers ------------------------------------------------------------------------------

function referenceEncoderArgs(format: ReferenceFormat, quality: number): string[] {
  return format === 'webp'
    ? ['-c:v', 'libwebp', '-quality', String(quality), '-compression_level', '6', '-preset', 'photo', '-f', 'webp']
    : ['-c:v', 'mjpeg', '-q:v', String(quality), '-pix_fmt', 'yuvj420p', '-f', 'mjpeg'];
}

/** One yuv420p frame -> image file bytes (ffmpeg), and the command for the report. */
async function encodePicture(frameYuv: Uint8Array, format: ReferenceFormat, quality: number): Promise<{ bytes: Uint8Array; command: string; ms: number }> {
  const args = [
    ...FFMPEG_QUIET, '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${CROP_SIZE}x${CROP_SIZE}`, '-i', '-',
    ...referenceEncoderArgs(format, quality), '-',
  ];
  const { stdout, wallMs } = await runProcess(FFMPEG, args, { stdin: frameYuv, nice: true });
  if (stdout.length === 0) throw new Error(`ffmpeg wrote an empty ${format} picture`);
  return { bytes: new Uint8Array(stdout), command: renderCommand('ffmpeg', args.map((a) => (a === '-' ? 'PIPE' : a))), ms: wallMs };
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

export interface DecodedStream {
  /** RGB24 pictures, one per frame. */
  frames: Uint8Array[];
  /** frame.onnx time (elapsed, and process CPU) over networkFrames frames, warm-up left out. */
  networkMs: number;
  networkCpuMs: number;
  networkFrames: number;
  reused: boolean;
}

const WARM_UP_CALLS = 3;
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
  private readonly senderLandmarks = new Map<string, Promise<(Float32Array | null)[]>>();
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
      'sweep of reference picture quality (libwebp), geometry quantiser, frames per packet and reference refresh; ' +
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
    const meta = JSON.parse(await readFile(this.file('model.json'), 'utf8')) as { name?: string };
    const sha = createHash('sha256').update(await readFile(this.file(DECODER_FILES.frame))).digest('hex').slice(0, 12);
    return { ok: true, version: `${meta.name ?? 'kiloface'} (frame.onnx sha256 ${sha}), geometry ${loadFaceGeometry().model.version}` };
  }

  operatingPoints(): OperatingPoint[] {
    return this.points.map(kilofaceOperatingPoint);
  }

  /** The sender's landmarks of a prepared clip, tracked once per clip. */
  private landmarksOf(clipId: string, frames: readonly Uint8Array[]): Promise<(Float32Array | null)[]> {
    let p = this.senderLandmarks.get(clipId);
    if (!p) {
      p = trackYuvSequence(this.senderTrackers, frames, CROP_SIZE, CROP_SIZE);
      this.senderLandmarks.set(clipId, p);
    }
    return p;
  }

  /** The reference landmarks both ends find on the decoded reference picture. */
  private async pictureLandmarks(rgb: Uint8Array): Promise<Float32Array> {
    const r = await this.pictureTrackers.use((t) => t.track({ data: rgb, width: CROP_SIZE, height: CROP_SIZE, channels: 3 }));
    if (r.state !== 'face') throw new Error(`the tracker finds no face in the decoded reference picture (${r.reason})`);
    return r.landmarks;
  }

  async run(job: CodecJob): Promise<CodecRun> {
    const params = job.point.params as unknown as KilofacePoint;
    await mkdir(job.workDir, { recursive: true });
    const base = join(job.workDir, `${this.id}-${job.point.id}`);
    const source = (await loadY4m(job.clip.y4mPath)).frames;

    const t0 = performance.now();
    const landmarks = await this.landmarksOf(job.clip.id, source);
    const encoded = await this.encode(source, landmarks, params);
    const streamPath = `${base}.kfs`;
    await writeFile(streamPath, writeStream(encoded.records, params.referenceFormat, source.length));
    const encodeMs = performance.now() - t0;

    const d0 = performance.now();
    const decoded = await this.decodeStream(await readFile(streamPath), job.threads, true);
    const decodedFrames = await rgbToYuv420(decoded.frames, `${base}.y4m`);
    const decodeMs = performance.now() - d0;

    const notes: string[] = [];
    const firstFace = landmarks.findIndex((l) => l !== null);
    if (firstFace > 0) notes.push(`no face before frame ${firstFace}: those frames are mid-grey (nothing to show yet)`);
    const noFace = landmarks.filter((l, i) => l === null && i > firstFace).length;
    if (noFace > 0) notes.push(`${noFace} frame(s) without a face after the reference: NoFace packets, the receiver holds the last picture`);
    if (decoded.reused) notes.push('same reference pictures and decoded geometry as another point of this clip: its decoded pictures are reused (packetization changes bits, not pictures)');
    return {
      streamPath,
      bits: datachannelBits(encoded.records),
      decodedFrames,
      encodeMs,
      decodeMs,
      commands: [
        `tracker (codec/tracker, onnxruntime-node) on the prepared clip; reference picture: ${encoded.pictureCommand}`,
        `geometry: codec/geometry-coder.ts GeometryEncoder quantiser ${params.quantizer}, ${params.framesPerPacket} frames/packet; decode: ffmpeg -i ref.${params.referenceFormat} -f rawvideo -pix_fmt rgb24 -, tracker on it, NeuralDecoder (${this.decoder})`,
      ],
      notes,
    };
  }

  /** The sender: reference pictures, anchors, FRAMES and NoFace packets, in send order. */
  private async encode(
    source: readonly Uint8Array[],
    landmarks: readonly (Float32Array | null)[],
    p: KilofacePoint,
  ): Promise<{ records: StreamRecord[]; pictureCommand: string }> {
    if (!(p.framesPerPacket >= 1 && p.framesPerPacket <= MAX_FRAMES_PER_PACKET)) throw new RangeError(`framesPerPacket must be 1..${MAX_FRAMES_PER_PACKET}`);
    const { geometry } = loadFaceGeometry();
    const encoder = new GeometryEncoder(geometryCodingConfig(geometry));
    encoder.quantizer = p.quantizer;
    const records: StreamRecord[] = [];
    const refreshFrames = p.refreshSeconds > 0 ? Math.round(p.refreshSeconds * BENCH_FPS) : Infinity;
    const intervalMs = FRAME_SLOT_MS;
    let sequence = 0;
    let referenceId = -1;
    let referenceFrame = -Infinity;
    let yRef: Float64Array | null = null;
    let pending: { index: number; values: Float32Array }[] = [];
    let pictureCommand = '';
    const header = (index: number) => ({ sequence: sequence++ % 65536, timestampMs: index * intervalMs, referenceId: referenceId % 256 });
    const flush = (): void => {
      if (pending.length === 0) return;
      const first = pending[0]!.index;
      const { packet } = encoder.encodeFrames(pending.map((f) => f.values), intervalMs, header(first));
      records.push({ kind: RecordKind.Frames, frame: first, bytes: packet });
      pending = [];
    };
    let noFaceRun = 0;
    for (let i = 0; i < source.length; i++) {
      const l = landmarks[i];
      if (!l) {
        flush();
        // One NoFace packet per packet slot of a run without a face.
        if (referenceId >= 0 && noFaceRun % p.framesPerPacket === 0) {
          records.push({ kind: RecordKind.NoFace, frame: i, bytes: writePacket({ type: PacketType.NoFace, ...header(i) }, new Uint8Array(0)) });
        }
        noFaceRun++;
        continue;
      }
      noFaceRun = 0;
      if (i - referenceFrame >= refreshFrames || referenceId < 0) {
        flush();
        referenceId++;
        referenceFrame = i;
        // The reference as the receiver will have it: coded, decoded, its landmarks found again.
        const picture = await encodePicture(source[i]!, p.referenceFormat, p.referenceQuality);
        pictureCommand = picture.command;
        const refLandmarks = await this.pictureLandmarks(await decodePicture(picture.bytes));
        yRef = geometry.referenceShape(refLandmarks);
        const message = writeReferencePicture(header(i), p.referenceFormat, picture.bytes);
        records.push({ kind: RecordKind.ReferencePicture, frame: i, bytes: message });
        const anchor = encoder.encodeAnchor(geometry.encode(l, yRef), header(i));
        records.push({ kind: RecordKind.Anchor, frame: i, bytes: anchor.packet });
      }
      pending.push({ index: i, values: geometry.encode(l, yRef!) });
      if (pending.length === p.framesPerPacket) flush();
    }
    flush();
    return { records, pictureCommand };
  }

  /**
   * The receiver: decodes a .kfs stream to RGB24 frames. Times frame.onnx alone (wall and
   * process CPU), which is what decodeSpeed reports. `reuse`: take the pictures from an earlier
   * decode with the same reference pictures and decoded geometry (see decodedCache).
   */
  async decodeStream(buf: Uint8Array, threads: number, reuse = false, maxNetworkFrames = Infinity): Promise<DecodedStream> {
    const { frameCount, records } = readStream(buf);
    const { geometry } = loadFaceGeometry();
    const geometryDecoder = new GeometryDecoder(geometryCodingConfig(geometry));
    // Pass 1 (cheap): what the network will be asked, in order.
    type Step = { kind: 'reference'; picture: Uint8Array } | { kind: 'frame'; index: number; values: Float32Array };
    const steps: Step[] = [];
    const key = createHash('sha256');
    for (const r of records) {
      if (r.kind === RecordKind.ReferencePicture) {
        const parsed = readReferencePicture(r.bytes);
        if (!parsed.ok) throw new Error(`reference picture at frame ${r.frame}: ${parsed.error.message}`);
        const picture = parsed.value.picture;
        steps.push({ kind: 'reference', picture });
        key.update(`R${picture.length}:`).update(picture);
        continue;
      }
      const g = geometryDecoder.decode(r.bytes);
      if (!g.ok) throw new Error(`geometry packet at frame ${r.frame} did not decode: ${g.error.message}`);
      if (g.value.kind !== 'frames') continue; // anchors are kept by the geometry decoder; NoFace: hold
      for (const [j, frame] of g.value.frames.entries()) {
        steps.push({ kind: 'frame', index: r.frame + j, values: frame.values });
        key.update(`F${r.frame + j}:`).update(new Uint8Array(frame.values.buffer, frame.values.byteOffset, frame.values.byteLength));
      }
    }
    const cacheKey = `${frameCount}:${key.digest('hex')}`;
    if (reuse) {
      const cached = this.decodedCache.get(cacheKey);
      if (cached) return { ...(await cached), reused: true };
    }
    const work = this.runNetwork(steps, frameCount, threads, maxNetworkFrames);
    if (reuse) {
      this.decodedCache.set(cacheKey, work);
      work.catch(() => this.decodedCache.delete(cacheKey));
      while (this.decodedCache.size > 4) this.decodedCache.delete(this.decodedCache.keys().next().value!);
    }
    return work;
  }

  private async runNetwork(
    steps: readonly ({ kind: 'reference'; picture: Uint8Array } | { kind: 'frame'; index: number; values: Float32Array })[],
    frameCount: number,
    threads: number,
    maxNetworkFrames: number,
  ): Promise<DecodedStream> {
    const { geometry } = loadFaceGeometry();
    const decoder = await NeuralDecoder.load(onnxNodeRuntime, { reference: this.file(DECODER_FILES.reference), frame: this.file(DECODER_FILES.frame) }, { threads });
    const shown: (Uint8Array | null)[] = new Array<Uint8Array | null>(frameCount).fill(null);
    let yRef: Float64Array | null = null;
    let networkMs = 0;
    let networkCpuMs = 0;
    let networkFrames = 0;
    let calls = 0;
    try {
      for (const step of steps) {
        if (step.kind === 'reference') {
          const rgb = await decodePicture(step.picture);
          const refLandmarks = await this.pictureLandmarks(rgb);
          yRef = geometry.referenceShape(refLandmarks);
          await decoder.setReference(imageTensor(rgb), refLandmarks);
          continue;
        }
        if (!yRef) throw new Error('FRAMES packet before any reference picture');
        if (networkFrames >= maxNetworkFrames) break;
        const target = geometry.decode(step.values, yRef);
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        const out = await decoder.decode(target);
        const wall = performance.now() - t0;
        const c = process.cpuUsage(c0);
        // The first calls of a session pay one-off allocation: not part of the per-frame cost.
        if (calls++ >= WARM_UP_CALLS) {
          networkMs += wall;
          networkCpuMs += (c.user + c.system) / 1000;
          networkFrames++;
        }
        if (step.index < frameCount) shown[step.index] = planarToRgb24(out.image);
      }
    } finally {
      await decoder.close();
    }
    // Frames without new geometry hold the last picture (grey before the first one).
    let last: Uint8Array = GREY_RGB;
    const frames = shown.map((f) => (f ? (last = f) : last));
    return { frames, networkMs, networkCpuMs, networkFrames, reused: false };
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
