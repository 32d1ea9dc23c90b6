// How the codec meets the network. The call's transport (P2P or the SFU) gives the codec one
// PacketLink per remote peer; the codec never sees simple-peer, mediasoup or WebRTC objects.

/**
 * The two datachannels every call reserves for the codec:
 * - `frames`: unreliable, unordered (maxRetransmits 0) for per-frame packets: a late packet is
 *   worthless, so it is never retransmitted.
 * - `control`: reliable, ordered, for references (keyframes) and requests.
 */
export type CodecChannel = 'frames' | 'control';

/** Datachannel labels of the two channels (the SFU tells them apart by label: it relays `control`). */
export const CODEC_CHANNEL_LABELS: Record<CodecChannel, string> = { frames: 'kiloface-frames', control: 'kiloface-control' };

export type PacketListener = (channel: CodecChannel, packet: Uint8Array) => void;

/** Codec packets to and from one remote peer. */
export interface PacketLink {
  readonly peerId: string;
  /** True while both channels are open. */
  readonly isOpen: boolean;
  /**
   * Queues one packet. Returns false when it was not sent: channel not open, or (for `frames`)
   * the send buffer is backed up, since a frame that waits behind others is already stale.
   */
  send(channel: CodecChannel, packet: Uint8Array): boolean;
  /** Subscribes to packets from this peer; returns the unsubscribe function. */
  onPacket(listener: PacketListener): () => void;
}

/** The set of links of a call, as peers come and go. */
export interface PacketTransport {
  links(): PacketLink[];
  /**
   * Sends one packet to every open link; returns how many it reached. Through an SFU the
   * channels are shared, so this sends once and the server fans out (and `PacketLink.send`
   * to one peer reaches every peer too, except on `control`, where the server routes a
   * reference request to the peer asked, or answers it itself).
   */
  broadcast(channel: CodecChannel, packet: Uint8Array): number;
  /**
   * True when a relay between the peers (the SFU) keeps each sender's latest reference and hands
   * it to a receiver that asks: a sender then makes no new reference for someone who joins, which
   * would cost every other receiver a picture too.
   */
  readonly relayKeepsReferences: boolean;
  /** Called when a link opens (both channels ready) or closes; returns the unsubscribe function. */
  onLinkChange(listener: (link: PacketLink, open: boolean) => void): () => void;
}
