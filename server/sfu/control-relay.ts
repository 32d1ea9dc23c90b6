// The codec's control channel through the SFU (issue 16): which peer gets each control packet.
//
// Without it, every browser consumed every other browser's control channel: a reference that one
// receiver asked for (joining, a lost one) was a new picture for every receiver, and with three
// people each receiver paid ~10 kbit/s of references. Here the server reads each control packet's
// header (codec/bitstream/packet.ts, the wire format), keeps every sender's latest reference and
// its anchor, and answers a receiver's request from that copy, to that receiver alone.
import { PacketType, readPacket } from '../../codec/bitstream/packet.ts';
import { readReferenceRequest } from '../../codec/stream/reference-packet.ts';

/** One packet to send on `from`'s relayed control channel, to everyone or to one peer. */
export interface Delivery {
  /** Whose control channel it appears on: the sender's for its pictures, the asker's for a request. */
  from: string;
  to: 'everyone' | { peer: string };
  bytes: Uint8Array;
}

export interface ControlRelayStats {
  /** Pictures, anchors and other packets forwarded to everyone. */
  forwarded: number;
  /** Requests answered from the cached reference, the sender never hearing of them. */
  answeredFromCache: number;
  /** Requests passed on to the sender (nothing cached yet, or the cached picture failed to decode). */
  requestsPassedOn: number;
  /** Malformed packets, requests to nobody, and requests repeated faster than MIN_ANSWER_GAP_MS. */
  dropped: number;
}

interface LatestReference {
  referenceId: number;
  picture: Uint8Array;
  /** The anchor of this reference, once it has come (it follows the picture). */
  anchor?: Uint8Array;
}

/** One answer per asker and sender per second at most: receivers ask every 2 s; a hostile one may not flood. */
const MIN_ANSWER_GAP_MS = 1000;

export class ControlRelay {
  readonly stats: ControlRelayStats = { forwarded: 0, answeredFromCache: 0, requestsPassedOn: 0, dropped: 0 };
  private readonly latest = new Map<string, LatestReference>();
  /** Last answer time per `asker → sender` pair. */
  private readonly answeredAt = new Map<string, number>();

  /** Where a control packet from `from` goes. Nothing here throws on bad bytes. */
  route(from: string, bytes: Uint8Array, nowMs: number): Delivery[] {
    const packet = readPacket(bytes);
    if (!packet.ok) return this.drop();
    const { type, referenceId } = packet.value;
    if (type === PacketType.ReferenceRequest) return this.answer(from, bytes, nowMs);
    if (type === PacketType.ReferencePicture) this.latest.set(from, { referenceId, picture: bytes });
    if (type === PacketType.GeometryAnchor) {
      const latest = this.latest.get(from);
      if (latest?.referenceId === referenceId) latest.anchor = bytes;
    }
    this.stats.forwarded++;
    return [{ from, to: 'everyone', bytes }];
  }

  /** A peer left: its cached reference and its answer times go. */
  forget(peer: string): void {
    this.latest.delete(peer);
    for (const key of this.answeredAt.keys()) if (key.split('\n').slice(0, 2).includes(peer)) this.answeredAt.delete(key);
  }

  private answer(asker: string, bytes: Uint8Array, nowMs: number): Delivery[] {
    const request = readReferenceRequest(bytes);
    if (!request.ok || request.value.target === asker) return this.drop();
    const sender = request.value.target;
    // Guide keyframe requests are paced on their own: a reference request must not swallow one.
    const guide = request.value.reason === 'guide-keyframe';
    const key = `${asker}\n${sender}${guide ? '\nguide' : ''}`;
    if (nowMs - (this.answeredAt.get(key) ?? -Infinity) < MIN_ANSWER_GAP_MS) return this.drop();
    this.answeredAt.set(key, nowMs);
    const latest = this.latest.get(sender);
    // A picture that failed to decode would fail again, and a guide keyframe is made by the
    // sender's encoder: only the sender can answer these.
    if (latest && request.value.reason !== 'decode-failed' && !guide) {
      this.stats.answeredFromCache++;
      const to = { peer: asker };
      // Without its anchor yet, the picture alone: the anchor is on its way to everyone.
      return [{ from: sender, to, bytes: latest.picture }, ...(latest.anchor ? [{ from: sender, to, bytes: latest.anchor }] : [])];
    }
    this.stats.requestsPassedOn++;
    return [{ from: asker, to: { peer: sender }, bytes }];
  }

  private drop(): Delivery[] {
    this.stats.dropped++;
    return [];
  }
}
