// The call's stream, replayed off-line on the frame-slot clock: codec/stream's NeuralSender makes
// the packets (packetisation, flush, NoFace, sequence numbers, references, anchors: the call's
// code) and codec/stream's NeuralReceiver turns them back into what a receiver shows. The bench
// supplies the hooks (file-backed frames, ffmpeg pictures, onnxruntime-node) and the clock.
//
// The .kfs file holds the packets exactly as the sender emitted them, in order:
//   "KFS2 <frames>\n", then per packet: channel (u8: 0 frames, 1 control), send time (u32 ms),
//   length (u32), the packet bytes (codec/bitstream/packet.ts: its own PacketType in byte 0).
// The container's own bytes are not counted.
import { PacketType } from '../../codec/bitstream/packet.ts';
import type { FaceGeometry } from '../../codec/geometry/face-geometry.ts';
import type { GeometryCodingConfig } from '../../codec/geometry-coder.ts';
import { FRAME_SLOT_MS } from '../../codec/shipped.ts';
import { NeuralReceiver, type DisplayFrame, type ReceiverHooks, type ReceiverStats } from '../../codec/stream/neural-receiver.ts';
import { NeuralSender, type SenderHooks, type SenderStats } from '../../codec/stream/neural-sender.ts';
import type { RateMode } from '../../codec/stream/rate-modes.ts';
import { packetType } from '../../codec/stream/reference-packet.ts';
import type { SentPacket } from './kiloface-wire.ts';

const MAGIC = 'KFS2';
const CHANNELS = ['frames', 'control'] as const;

export function writeStream(packets: readonly SentPacket[], frameCount: number): Uint8Array {
  const parts: Uint8Array[] = [Buffer.from(`${MAGIC} ${frameCount}\n`, 'latin1')];
  for (const p of packets) {
    const h = Buffer.alloc(9);
    h.writeUInt8(CHANNELS.indexOf(p.channel), 0);
    h.writeUInt32BE(p.sendMs, 1);
    h.writeUInt32BE(p.bytes.length, 5);
    parts.push(h, p.bytes);
  }
  return Buffer.concat(parts);
}

export function readStream(buf: Uint8Array): { frameCount: number; packets: SentPacket[] } {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  const nl = b.indexOf(0x0a);
  const [magic, frames] = b.subarray(0, Math.max(0, nl)).toString('latin1').split(' ');
  if (nl < 0 || magic !== MAGIC) throw new Error('not a kiloface bench stream (KFS2)');
  const packets: SentPacket[] = [];
  let pos = nl + 1;
  while (pos < b.length) {
    if (pos + 9 > b.length) throw new Error('truncated stream record');
    const channel = CHANNELS[b.readUInt8(pos)];
    if (!channel) throw new Error(`unknown channel ${b.readUInt8(pos)} in stream record`);
    const length = b.readUInt32BE(pos + 5);
    if (pos + 9 + length > b.length) throw new Error('truncated stream record');
    packets.push({ channel, sendMs: b.readUInt32BE(pos + 1), bytes: new Uint8Array(b.subarray(pos + 9, pos + 9 + length)) });
    pos += 9 + length;
  }
  return { frameCount: Number(frames), packets };
}

export interface SendClipOptions {
  geometry: FaceGeometry;
  coding: GeometryCodingConfig;
  mode: RateMode;
  /** The tracker's landmarks of each frame (frame pixels), null where it sees no face. */
  landmarks: readonly (Float32Array | null)[];
  /** The call's makeReference and checkQuality, for frame `index` of the clip. */
  hooks: Omit<SenderHooks<number>, 'send'>;
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
    { geometry: options.geometry, coding: options.coding, mode: options.mode },
    {
      ...options.hooks,
      send(channel, bytes) {
        packets.push({ channel, sendMs: nowMs, bytes: bytes.slice() });
        return true;
      },
    },
  );
  for (const [index, landmarks] of options.landmarks.entries()) {
    nowMs = index * FRAME_SLOT_MS;
    sender.pushFrame(nowMs, landmarks, index);
    await sender.settled();
  }
  sender.flush(); // the clip ends: the last partial bundle goes out
  return { packets, stats: { ...sender.stats } };
}

/** What the receiver shows for each frame of the clip, and the references it loaded, in order. */
export type ReceiverStep<Reference> = { kind: 'reference'; reference: Reference } | { kind: 'frame'; index: number; frame: DisplayFrame };

export interface ReceiveClipOptions<Reference> {
  coding: GeometryCodingConfig;
  referenceShape(landmarks: Float32Array): Float64Array;
  /** The call's loadReference, returning what the bench keeps of the picture beside its landmarks. */
  loadReference(...args: Parameters<ReceiverHooks['loadReference']>): Promise<{ landmarks: Float32Array; reference: Reference }>;
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
    { coding: options.coding, referenceShape: options.referenceShape },
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
  return { steps, stats: receiver.stats };
}
