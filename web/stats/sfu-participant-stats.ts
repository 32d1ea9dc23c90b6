import type { StatsEntry, StatsSnapshot } from './peer-stats.ts';

/**
 * One person's share of our SFU receive transport's getStats(): the RTP streams of their
 * consumers (matched by track id), the codecs those name, and their data consumers' channels
 * (matched by SCTP stream id). Everyone else's streams, what we send (the same for everyone:
 * our own tile's totals) and the transport's candidate pair (all people's traffic together)
 * stay out. The transport entry stays for its SRTP cipher, without its pair.
 */
export function participantStats(recvTransport: StatsSnapshot, theirs: { trackIds: ReadonlySet<string>; dataStreamIds: ReadonlySet<number | undefined> }): Map<string, StatsEntry> {
  const out = new Map<string, StatsEntry>();
  for (const [id, entry] of recvTransport) {
    if (entry.type === 'inbound-rtp' && typeof entry.trackIdentifier === 'string' && theirs.trackIds.has(entry.trackIdentifier)) {
      out.set(id, entry);
      const codec = typeof entry.codecId === 'string' ? recvTransport.get(entry.codecId) : undefined;
      if (codec) out.set(codec.id, codec);
    } else if (entry.type === 'data-channel' && typeof entry.dataChannelIdentifier === 'number' && theirs.dataStreamIds.has(entry.dataChannelIdentifier)) {
      out.set(id, entry);
    } else if (entry.type === 'transport') {
      const { selectedCandidatePairId: _pair, ...transport } = entry;
      out.set(id, transport as StatsEntry);
    }
  }
  return out;
}
