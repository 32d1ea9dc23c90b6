// What a kiloface stream costs on the wire, sent the way a call sends it by default
// (docs/ARCHITECTURE.md "One frame, camera to canvas", step 13):
//   - `frames` packets (FRAMES and NoFace bundles) ride at the end of the call's Opus frames
//     (codec/audio-bundle-trailer.ts): no packet headers of their own, only the trailer (2 bytes
//     of length per bundle, 5 per audio frame that carries any). The audio packets go out anyway,
//     so their RTP/UDP/IP headers are the audio's cost, not the video's. A bundle too big for an
//     audio frame goes by datachannel, as in the call.
//   - `control` packets (reference pictures, anchors) go on the reliable datachannel: each
//     message in ceil(bytes/1200) packets with the measured DTLS+SCTP and UDP/IPv4 cost
//     (codec/stream/wire.ts).
// Assumes speech throughout (an Opus frame every OPUS_PTIME_MS): in silence (DTX) the call sends
// the bundles by datachannel, which the datachannel-only figure below prices.
import { MAX_BUNDLE_BYTES_PER_FRAME, MAX_BUNDLES_PER_FRAME, trailerOverhead } from '../../codec/audio-bundle-trailer.ts';
import { PacketType } from '../../codec/bitstream/packet.ts';
import { OPUS_PTIME_MS } from '../../protocol/opus-speech.ts';
import { packetType } from '../../codec/stream/reference-packet.ts';
import { DATACHANNEL_MESSAGE_OVERHEAD, DATACHANNEL_PAYLOAD_PER_PACKET, datachannelWireBytes, UDP_IP_OVERHEAD } from '../../codec/stream/wire.ts';
import type { BitCount } from './codec.ts';

/** One packet as the sender emitted it, and when (ms of stream time). */
export interface SentPacket {
  channel: 'frames' | 'control';
  sendMs: number;
  bytes: Uint8Array;
}

export const KILOFACE_WIRE_MODEL =
  `the call's default path: frames/NoFace bundles inside the Opus frames (${OPUS_PTIME_MS} ms, speech throughout assumed), ` +
  `paying only the audio trailer (2 B per bundle + 5 B per carrying audio frame; audio headers are the audio's cost); ` +
  `reference pictures and anchors on the datachannel: ceil(bytes/${DATACHANNEL_PAYLOAD_PER_PACKET}) packets per message, each ` +
  `${DATACHANNEL_MESSAGE_OVERHEAD} B DTLS+SCTP (measured, codec/stream/wire.ts) + ${UDP_IP_OVERHEAD} B UDP/IPv4; SCTP acknowledgements not counted`;

function datachannelPackets(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / DATACHANNEL_PAYLOAD_PER_PACKET));
}

/** Payload by packet type (PacketType from codec/bitstream/packet.ts). */
function breakdown(packets: readonly SentPacket[]): Record<'reference' | 'anchors' | 'frames' | 'noFace', number> {
  const out = { reference: 0, anchors: 0, frames: 0, noFace: 0 };
  for (const p of packets) {
    const type = packetType(p.bytes);
    if (type === PacketType.ReferencePicture) out.reference += p.bytes.length;
    else if (type === PacketType.GeometryAnchor) out.anchors += p.bytes.length;
    else if (type === PacketType.GeometryFrames || type === PacketType.GeometryFramesGuided) out.frames += p.bytes.length; // guide pictures ride in the bundles
    else if (type === PacketType.NoFace) out.noFace += p.bytes.length;
    else throw new Error(`a packet of type ${type} in a sender's stream`);
  }
  return out;
}

/** Every packet as its own datachannel message (the call with `?audioBundles=off`, or in silence). */
export function datachannelOnlyWireBytes(packets: readonly SentPacket[]): number {
  return packets.reduce((sum, p) => sum + datachannelWireBytes(p.bytes.length), 0);
}

/** Payload and wire bytes of a sender's packets, sent as a call sends them by default. */
export function kilofaceBits(packets: readonly SentPacket[]): BitCount {
  let payload = 0;
  let wire = 0;
  let ownPackets = 0;
  // Bundles wait for the next audio frame; each takes what fits (the trailer's limits).
  const queue: Uint8Array[] = [];
  let audioFrameMs = 0;
  const carryUpTo = (timeMs: number): void => {
    for (; audioFrameMs <= timeMs; audioFrameMs += OPUS_PTIME_MS) {
      let count = 0;
      let bytes = 0;
      while (count < queue.length && count < MAX_BUNDLES_PER_FRAME && bytes + queue[count]!.length <= MAX_BUNDLE_BYTES_PER_FRAME) bytes += queue[count++]!.length;
      queue.splice(0, count);
      wire += bytes + trailerOverhead(count);
    }
  };
  for (const p of packets) {
    payload += p.bytes.length;
    carryUpTo(p.sendMs - 1); // audio frames before this packet was sent
    if (p.channel === 'frames' && p.bytes.length <= MAX_BUNDLE_BYTES_PER_FRAME) queue.push(p.bytes);
    else {
      wire += datachannelWireBytes(p.bytes.length);
      ownPackets += datachannelPackets(p.bytes.length);
    }
  }
  while (queue.length > 0) carryUpTo(audioFrameMs);
  return { payloadBytes: payload, wireBytes: wire, wireModel: KILOFACE_WIRE_MODEL, breakdown: breakdown(packets), packets: ownPackets };
}
