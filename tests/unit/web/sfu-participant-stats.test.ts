import { describe, expect, it } from 'vitest';
import { computePeerFigures, STAT_FIELDS, type StatsEntry } from '../../../web/stats/peer-stats.ts';
import { participantStats } from '../../../web/stats/sfu-participant-stats.ts';

// Our SFU receive transport with Bob (audio + video + one data channel) and Carol (audio only,
// one data channel) in the room; every counter grows k-fold between snapshots 1 s apart.
const recvTransport = (t: number, k: number): Map<string, StatsEntry> =>
  new Map(
    (
      [
        { id: 'T', type: 'transport', selectedCandidatePairId: 'CP', srtpCipher: 'AES_CM_128_HMAC_SHA1_80' },
        { id: 'CP', type: 'candidate-pair', nominated: true, state: 'succeeded', bytesReceived: 90_000 * k, packetsReceived: 300 * k, currentRoundTripTime: 0.02 },
        { id: 'CO', type: 'codec', mimeType: 'audio/opus' },
        { id: 'CV', type: 'codec', mimeType: 'video/VP8' },
        { id: 'bob-a', type: 'inbound-rtp', kind: 'audio', trackIdentifier: 'bob-audio', codecId: 'CO', bytesReceived: 1000 * k, headerBytesReceived: 0, packetsReceived: 10 * k },
        { id: 'bob-v', type: 'inbound-rtp', kind: 'video', trackIdentifier: 'bob-video', codecId: 'CV', bytesReceived: 10_000 * k, headerBytesReceived: 0, packetsReceived: 20 * k },
        { id: 'carol-a', type: 'inbound-rtp', kind: 'audio', trackIdentifier: 'carol-audio', codecId: 'CO', bytesReceived: 3000 * k, headerBytesReceived: 0, packetsReceived: 10 * k },
        { id: 'dc-bob', type: 'data-channel', dataChannelIdentifier: 4, bytesReceived: 500 * k, messagesReceived: 5 * k, bytesSent: 0, messagesSent: 0 },
        { id: 'dc-carol', type: 'data-channel', dataChannelIdentifier: 6, bytesReceived: 700 * k, messagesReceived: 7 * k, bytesSent: 0, messagesSent: 0 },
      ] as Omit<StatsEntry, 'timestamp'>[]
    ).map((e) => [e.id as string, { ...e, timestamp: t } as StatsEntry]),
  );

const bob = { trackIds: new Set(['bob-audio', 'bob-video']), dataStreamIds: new Set([4]) };
const carol = { trackIds: new Set(['carol-audio']), dataStreamIds: new Set([6]) };

describe('SFU: each remote tile shows that person only (issue 15 item 3)', () => {
  it("keeps a person's own streams, codecs and data channels, and none of the others' or the shared pair", () => {
    const own = participantStats(recvTransport(1000, 1), bob);
    expect([...own.keys()].sort()).toEqual(['CO', 'CV', 'T', 'bob-a', 'bob-v', 'dc-bob']);
    expect(own.get('T')?.selectedCandidatePairId).toBeUndefined();
    expect(own.get('T')?.srtpCipher).toBe('AES_CM_128_HMAC_SHA1_80');
    expect([...participantStats(recvTransport(1000, 1), carol).keys()].sort()).toEqual(['CO', 'T', 'carol-a', 'dc-carol']);
  });

  it("each tile's figures are that person's, and what we send is not on it", () => {
    const figures = (who: typeof bob) => computePeerFigures(participantStats(recvTransport(1000, 1), who), participantStats(recvTransport(2000, 2), who));
    const b = figures(bob);
    const c = figures(carol);
    expect(b.receive.audioKbps).toBeCloseTo(8);
    expect(b.receive.videoKbps).toBeCloseTo(80);
    expect(c.receive.audioKbps).toBeCloseTo(24);
    expect(c.receive.videoKbps).toBe(0);
    expect(b.receive.dataKbps).toBeCloseTo(4);
    expect(c.receive.dataKbps).toBeCloseTo(5.6);
    // Their own total: the sum of their streams' wire figures, not the transport's 720 kbit/s.
    expect(b.receive.totalWireKbps).toBeCloseTo(b.receive.audioWireKbps + b.receive.videoWireKbps + b.receive.dataWireKbps);
    expect(b.receive.totalWireKbps).toBeLessThan(200);
    // Nothing "to them" is measured through the SFU: the panel shows "–" there, not zeros.
    const read = (figs: typeof b, stat: string): string => STAT_FIELDS.find((f) => f.stat === stat)!.read(figs);
    expect(read(b, 'video-send-kbps')).toBe('');
    expect(read(b, 'total-send-wire-kbps')).toBe('');
    expect(read(b, 'rtt-ms')).toBe('');
    expect(read(c, 'video-kbps')).toBe('0.0');
  });
});
