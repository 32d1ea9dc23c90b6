// What a datachannel message costs beyond its bytes, measured with Chromium on loopback
// (../shared/ENVIRONMENT.md): DTLS record + SCTP headers, then UDP and IPv4.
// One place for the numbers: the stats panel, the bench and the rate modes use them.

/** DTLS + SCTP bytes per datachannel message (a 50-byte message cost 102 bytes before UDP/IP). */
export const DATACHANNEL_MESSAGE_OVERHEAD = 52;
/** UDP (8) + IPv4 (20) header bytes per packet. */
export const UDP_IP_OVERHEAD = 28;
/** Everything a datachannel message costs on the wire beyond its payload. */
export const DATACHANNEL_WIRE_OVERHEAD = DATACHANNEL_MESSAGE_OVERHEAD + UDP_IP_OVERHEAD;
/** Datachannel messages go in SCTP packets of at most this much user data (Chromium: ~1200 bytes). */
export const DATACHANNEL_PAYLOAD_PER_PACKET = 1200;

/** Wire bytes of one datachannel message of `bytes` payload. */
export function datachannelWireBytes(bytes: number): number {
  return bytes + Math.max(1, Math.ceil(bytes / DATACHANNEL_PAYLOAD_PER_PACKET)) * DATACHANNEL_WIRE_OVERHEAD;
}
