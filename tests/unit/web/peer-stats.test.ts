import { describe, expect, it } from 'vitest';
import { computePeerFigures, DATACHANNEL_MESSAGE_OVERHEAD, srtpTagBytes, STAT_FIELDS, UDP_IP_OVERHEAD, type StatsEntry } from '../../../web/stats/peer-stats.ts';

const snapshot = (entries: Omit<StatsEntry, 'timestamp'>[], timestamp: number): Map<string, StatsEntry> =>
  new Map(entries.map((e) => [e.id as string, { ...e, timestamp } as StatsEntry]));

const base = (t: number, k: number) =>
  snapshot(
    [
      { id: 'T', type: 'transport', selectedCandidatePairId: 'CP', srtpCipher: 'AES_CM_128_HMAC_SHA1_80' },
      { id: 'CP', type: 'candidate-pair', bytesSent: 20_000 * k, bytesReceived: 10_000 * k, packetsSent: 100 * k, packetsReceived: 50 * k, currentRoundTripTime: 0.012 },
      { id: 'CV', type: 'codec', mimeType: 'video/VP9' },
      { id: 'CA', type: 'codec', mimeType: 'audio/opus' },
      { id: 'IV', type: 'inbound-rtp', kind: 'video', codecId: 'CV', bytesReceived: 6250 * k, headerBytesReceived: 500 * k, packetsReceived: 20 * k, packetsLost: 1 * k, frameWidth: 320, frameHeight: 240, framesPerSecond: 24 },
      { id: 'IA', type: 'inbound-rtp', kind: 'audio', codecId: 'CA', bytesReceived: 1500 * k, headerBytesReceived: 600 * k, packetsReceived: 50 * k, packetsLost: 0 },
      { id: 'OV', type: 'outbound-rtp', kind: 'video', codecId: 'CV', bytesSent: 12_500 * k, headerBytesSent: 0, packetsSent: 10 * k, framesEncoded: 25 * k },
      { id: 'D1', type: 'data-channel', bytesSent: 1000 * k, messagesSent: 10 * k, bytesReceived: 0, messagesReceived: 0 },
      { id: 'D2', type: 'data-channel', bytesSent: 250 * k, messagesSent: 5 * k, bytesReceived: 0, messagesReceived: 0 },
    ],
    t,
  );

describe('computePeerFigures', () => {
  // Two snapshots 2 s apart; every counter doubles (k = 1 -> 2), so each delta equals the first value.
  const figures = computePeerFigures(base(1000, 1), base(3000, 2));

  it('turns byte counters into kbit/s over the interval', () => {
    expect(figures.receive.videoKbps).toBeCloseTo((6250 * 8) / 1000 / 2);
    expect(figures.send.videoKbps).toBeCloseTo(50);
    expect(figures.receive.audioKbps).toBeCloseTo(6);
    expect(figures.send.dataKbps).toBeCloseTo((1250 * 8) / 1000 / 2);
  });

  it('adds RTP headers, SRTP tag and UDP/IP per packet for the wire figure', () => {
    const wireBytes = 6250 + 500 + 20 * (10 + UDP_IP_OVERHEAD);
    expect(figures.receive.videoWireKbps).toBeCloseTo((wireBytes * 8) / 1000 / 2);
    const dataWire = 1250 + 15 * (DATACHANNEL_MESSAGE_OVERHEAD + UDP_IP_OVERHEAD);
    expect(figures.send.dataWireKbps).toBeCloseTo((dataWire * 8) / 1000 / 2);
    expect(figures.send.totalWireKbps).toBeCloseTo(((20_000 + 100 * UDP_IP_OVERHEAD) * 8) / 1000 / 2);
  });

  it('reports codec, resolution, fps, loss and RTT', () => {
    expect(figures.receive.videoCodec).toBe('VP9');
    expect(figures.receive.audioCodec).toBe('opus');
    expect(figures.receive.videoResolution).toBe('320x240');
    expect(figures.receive.videoFps).toBe(24);
    expect(figures.send.videoFps).toBeCloseTo(12.5); // from framesEncoded when framesPerSecond is absent
    expect(figures.receive.videoLossPercent).toBeCloseTo((100 * 1) / 21);
    expect(figures.rttMs).toBeCloseTo(12);
  });

  it('reports zeros, not NaN, for an empty or zero-length interval', () => {
    const empty = computePeerFigures(new Map(), new Map());
    for (const field of STAT_FIELDS) expect(field.read(empty)).not.toContain('NaN');
    const same = computePeerFigures(base(1000, 1), base(1000, 1));
    expect(same.receive.videoKbps).toBe(0);
  });

  it('names every panel figure once', () => {
    const names = STAT_FIELDS.map((f) => f.stat);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(['video-kbps', 'audio-kbps', 'video-fps', 'data-kbps', 'data-wire-kbps', 'rtt-ms', 'video-send-kbps']));
  });

  it('knows the SRTP tag sizes', () => {
    expect(srtpTagBytes('AEAD_AES_128_GCM')).toBe(16);
    expect(srtpTagBytes('AES_CM_128_HMAC_SHA1_32')).toBe(4);
    expect(srtpTagBytes(undefined)).toBe(10);
  });
});
