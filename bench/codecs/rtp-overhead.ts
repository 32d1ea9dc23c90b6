// Wire cost of sending coded frames over WebRTC media (RTP over SRTP over UDP over IPv4).
// A model, stated in the report: each coded frame goes in ceil(bytes / 1200) RTP packets
// (a typical WebRTC payload budget), each packet costs 50 header bytes: IPv4 20 + UDP 8 +
// RTP 12 + SRTP auth tag 10. Header extensions (transport-cc, abs-send-time: ~8-16 bytes) and
// RTCP are not counted, so real calls cost somewhat more.
export const RTP_MAX_PAYLOAD = 1200;
export const RTP_PACKET_OVERHEAD = 20 + 8 + 12 + 10;
export const RTP_WIRE_MODEL = `RTP model: ceil(frame/${RTP_MAX_PAYLOAD}) packets per coded frame, ${RTP_PACKET_OVERHEAD} B IPv4+UDP+RTP+SRTP each, no header extensions or RTCP`;

export function rtpWireBytes(frameSizes: readonly number[]): { wireBytes: number; packets: number } {
  let packets = 0;
  let payload = 0;
  for (const size of frameSizes) {
    packets += Math.max(1, Math.ceil(size / RTP_MAX_PAYLOAD));
    payload += size;
  }
  return { wireBytes: payload + packets * RTP_PACKET_OVERHEAD, packets };
}
