// The call's stream, replayed off-line on the frame-slot clock: codec/stream's NeuralSender makes
// the packets (packetisation, flush, NoFace, sequence numbers, references, anchors: the call's
// code) and codec/stream's NeuralReceiver turns them back into what a receiver shows. The bench
// supplies the hooks (file-backed frames, ffmpeg pictures, onnxruntime-node) and the clock.
//
// The .kfs / .kf file holds the packets exactly as the sender emitted them, in order:
//   "KFS3 <frames> <packets>\n", one line of JSON (StreamInfo: what the file's reader needs
//   beside the packets), then per packet: channel (u8: 0 frames, 1 control), send time (u32 ms),
//   length (u32), the packet bytes (codec/bitstream/packet.ts: its own PacketType in byte 0).
// The packet count makes a file cut at a record boundary read as truncated, not as a shorter
// stream. Files of the older "KFS2 <frames>\n" form (no count, no info) still read.
// The container's own bytes are not counted.
import { PacketType } from '../../codec/bitstream/packet.ts';
import type { CropBox } from '../../codec/geometry/reference-crop.ts';
import type { FaceGeometry } from '../../codec/geometry/face-geometry.ts';
import type { GeometryCodingConfig } from '../../codec/geometry/geometry-coder.ts';
import { FRAME_SLOT_MS } from '../../codec/shipped.ts';
import { NeuralReceiver, type DisplayFrame, type ReceiverHooks, type ReceiverStats } from '../../codec/stream/neural-receiver.ts';
import { NeuralSender, type SenderHooks, type SenderStats } from '../../codec/stream/neural-sender.ts';
import type { RateMode } from '../../codec/stream/rate-modes.ts';
import type { GuideCodecs } from '../../codec/stream/guide-codec.ts';
import { packetType } from '../../codec/stream/reference-packet.ts';
import type { SentPacket } from './kiloface-wire.ts';

const MAGIC = 'KFS3';
const OLD_MAGIC = 'KFS2';
const CHANNELS = ['frames', 'control'] as const;
/** A header line longer than this is not ours (the JSON line has its own bound). */
const MAX_HEADER_BYTES = 64;
const MAX_INFO_BYTES = 1 << 20;

/** What a stream file carries beside the packets; none of it is sent in a call. */
export interface StreamInfo {
  /**
   * The sender's crop box of each reference picture (in pixels of its 256x256 input), by the
   * picture's sha256 (hex): where the receiver's pictures go back onto the input grid.
   */
  referenceBoxes: Record<string, CropBox>;
  /** Where the 256x256 input came from, when it was cut from a video (the kiloface CLI). */
  source?: { file: string; width: number; height: number; crop: CropBox };
}

/** A file that is not a stream file, or one that ends early: the message says which. */
export class StreamFileError extends Error {
  constructor(
    readonly kind: 'foreign' | 'truncated',
    message: string,
  ) {
    super(message);
  }
}

export function writeStream(packets: readonly SentPacket[], frameCount: number, info: StreamInfo = { referenceBoxes: {} }): Uint8Array {
  const parts: Uint8Array[] = [Buffer.from(`${MAGIC} ${frameCount} ${packets.length}\n${JSON.stringify(info)}\n`, 'utf8')];
  for (const p of packets) {
    const h = Buffer.alloc(9);
    h.writeUInt8(CHANNELS.indexOf(p.channel), 0);
    h.writeUInt32BE(p.sendMs, 1);
    h.writeUInt32BE(p.bytes.length, 5);
    parts.push(h, p.bytes);
  }
  return Buffer.concat(parts);
}

const count = (token: string | undefined): number => (token !== undefined && /^\d{1,9}$/.test(token) ? Number(token) : NaN);

export function readStream(buf: Uint8Array): { frameCount: number; packets: SentPacket[]; info: StreamInfo } {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  const nl = b.subarray(0, MAX_HEADER_BYTES).indexOf(0x0a);
  const [magic, frames, packetCount, ...rest] = b.subarray(0, Math.max(0, nl)).toString('latin1').split(' ');
  const frameCount = count(frames);
  const expected = magic === MAGIC ? count(packetCount) : 0;
  if (nl < 0 || (magic !== MAGIC && magic !== OLD_MAGIC) || !Number.isFinite(frameCount) || !Number.isFinite(expected) || rest.length > 0 || (magic === OLD_MAGIC && packetCount !== undefined)) {
    throw new StreamFileError('foreign', 'not a kiloface stream file (it does not start with a KFS3 header)');
  }
  let pos = nl + 1;
  let info: StreamInfo = { referenceBoxes: {} };
  if (magic === MAGIC) {
    const end = b.subarray(pos, pos + MAX_INFO_BYTES).indexOf(0x0a);
    if (end < 0) throw new StreamFileError('truncated', 'truncated kiloface stream file: it ends inside its header');
    try {
      info = JSON.parse(b.subarray(pos, pos + end).toString('utf8')) as StreamInfo;
    } catch {
      throw new StreamFileError('foreign', 'not a kiloface stream file (its header line is not JSON)');
    }
    if (typeof info !== 'object' || info === null || typeof info.referenceBoxes !== 'object' || info.referenceBoxes === null) {
      throw new StreamFileError('foreign', 'not a kiloface stream file (its header has no referenceBoxes)');
    }
    pos += end + 1;
  }
  const packets: SentPacket[] = [];
  const truncated = (): StreamFileError =>
    new StreamFileError('truncated', `truncated kiloface stream file: ${packets.length} whole packet(s)${magic === MAGIC ? ` of ${expected}` : ''}, then ${b.length - pos} stray byte(s)`);
  while (pos < b.length) {
    if (pos + 9 > b.length) throw truncated();
    const channel = CHANNELS[b.readUInt8(pos)];
    if (!channel) throw new StreamFileError('foreign', `not a kiloface stream file (unknown channel ${b.readUInt8(pos)} in packet ${packets.length + 1})`);
    const length = b.readUInt32BE(pos + 5);
    if (pos + 9 + length > b.length) throw truncated();
    packets.push({ channel, sendMs: b.readUInt32BE(pos + 1), bytes: new Uint8Array(b.subarray(pos + 9, pos + 9 + length)) });
    pos += 9 + length;
  }
  if (magic === MAGIC && packets.length !== expected) {
    if (packets.length < expected) throw new StreamFileError('truncated', `truncated kiloface stream file: ${packets.length} of ${expected} packets`);
    throw new StreamFileError('foreign', `not a kiloface stream file (${packets.length} packets where its header says ${expected})`);
  }
  return { frameCount, packets, info };
}

export interface SendClipOptions {
  geometry: FaceGeometry;
  coding: GeometryCodingConfig;
  mode: RateMode;
  /**
   * The tracker's landmarks of each frame (frame pixels), null where it sees no face, undefined
   * where it left the frame out (its pace on a busy device: the sender interpolates the slot).
   */
  landmarks: readonly (Float32Array | null | undefined)[];
  /** The call's makeReference, checkQuality and guidePicture, for frame `index` of the clip. */
  hooks: Omit<SenderHooks<number>, 'send'>;
  /** The guide layer's codec, for modes with one. */
  guideCodecs?: GuideCodecs;
}

/**
 * Runs the call's sender over a clip, one frame slot after the other. A reference the sender
 * starts is finished before the next slot (making one takes no stream time here, where a
 * camera keeps running in a call), so the stream does not depend on this machine's speed.
 */
export async function sendClip(options: SendClipOptions): Promise<{ packets: SentPacket[]; stats: SenderStats }> {
  const packets: SentPacket[] = [];
  let nowMs = 0;
  const sender = new NeuralSender<number>(
    { geometry: options.geometry, coding: options.coding, mode: options.mode, guideCodecs: options.guideCodecs },
    {
      ...options.hooks,
      send(channel, bytes) {
        packets.push({ channel, sendMs: nowMs, bytes: bytes.slice() });
        return true;
      },
    },
  );
  for (const [index, landmarks] of options.landmarks.entries()) {
    if (landmarks === undefined) continue;
    nowMs = index * FRAME_SLOT_MS;
    sender.pushFrame(nowMs, landmarks, index);
    await sender.settled();
  }
  sender.flush(); // the clip ends: the last partial bundle goes out
  await sender.close(); // after its guide pictures are coded
  return { packets, stats: { ...sender.stats } };
}

/** What the receiver shows for each frame of the clip, and the references it loaded, in order. */
export type ReceiverStep<Reference> = { kind: 'reference'; reference: Reference } | { kind: 'frame'; index: number; frame: DisplayFrame };

export interface ReceiveClipOptions<Reference> {
  coding: GeometryCodingConfig;
  referenceShape(landmarks: Float32Array): Float64Array;
  /** The call's loadReference, returning what the bench keeps of the picture beside its landmarks. */
  loadReference(...args: Parameters<ReceiverHooks['loadReference']>): Promise<{ landmarks: Float32Array; reference: Reference }>;
  /** The guide layer's decoder and the geometry's landmarks (FaceGeometry.decode), for streams with guide pictures. */
  guideCodecs?: GuideCodecs;
  landmarks?(values: Float32Array, shape: Float64Array): Float32Array;
}

/**
 * Runs the call's receiver over a sender's packets on a lossless, jitter-free link: each packet
 * arrives when it was sent; references load at once. Each frame is shown as soon as its geometry
 * has arrived (NeuralReceiver.frameAtSenderTime at that frame's time), and before a new reference
 * takes over, the frames coded for the old one are shown with it.
 */
export async function receiveClip<Reference>(
  packets: readonly SentPacket[],
  frameCount: number,
  options: ReceiveClipOptions<Reference>,
): Promise<{ steps: ReceiverStep<Reference>[]; stats: ReceiverStats }> {
  const steps: ReceiverStep<Reference>[] = [];
  const receiver = new NeuralReceiver(
    { coding: options.coding, referenceShape: options.referenceShape, guideCodecs: options.guideCodecs, landmarks: options.landmarks },
    {
      async loadReference(id, format, picture) {
        const loaded = await options.loadReference(id, format, picture);
        steps.push({ kind: 'reference', reference: loaded.reference });
        return loaded.landmarks;
      },
      requestReference: () => undefined, // counted in stats.requestsSent; nobody to ask off-line
    },
  );
  let next = 0;
  /** Shows frames up to `untilMs`; unless `final`, stops at the first whose geometry has not arrived. */
  const show = (untilMs: number, final: boolean): void => {
    for (; next < frameCount && next * FRAME_SLOT_MS <= untilMs; next++) {
      const frame = receiver.frameAtSenderTime(next * FRAME_SLOT_MS);
      if (!final && frame.state === 'face' && frame.concealed) return;
      steps.push({ kind: 'frame', index: next, frame });
    }
  };
  for (let i = 0; i < packets.length; ) {
    const sendMs = packets[i]!.sendMs;
    for (; i < packets.length && packets[i]!.sendMs === sendMs; i++) {
      const packet = packets[i]!;
      if (packetType(packet.bytes) === PacketType.ReferencePicture) show(sendMs - 1, true);
      receiver.onPacket(packet.channel, packet.bytes, sendMs);
      await receiver.settled();
    }
    show(sendMs, false);
  }
  show(Infinity, true);
  await receiver.close();
  return { steps, stats: receiver.stats };
}
