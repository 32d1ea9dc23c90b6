// Turns two getStats() snapshots of one peer connection into the figures of the stats panel.
// Pure functions over plain objects, so they are unit-tested without a browser.

export type StatsEntry = { id: string; type: string; timestamp: number } & Record<string, unknown>;
export type StatsSnapshot = ReadonlyMap<string, StatsEntry>;

// Datachannel figures are estimates: Chromium exposes no per-channel wire counter, so they add the
// measured per-message overhead (codec/stream/wire.ts); `total-*` figures come from the ICE
// candidate pair's real byte counts.
import { DATACHANNEL_MESSAGE_OVERHEAD, DATACHANNEL_WIRE_OVERHEAD, UDP_IP_OVERHEAD } from '../../codec/stream/wire.ts';

export { DATACHANNEL_MESSAGE_OVERHEAD, UDP_IP_OVERHEAD };

/** SRTP authentication tag bytes per packet for the negotiated cipher. */
export function srtpTagBytes(cipher: unknown): number {
  if (typeof cipher !== 'string') return 10;
  if (cipher.includes('GCM')) return 16;
  if (cipher.endsWith('_32')) return 4;
  return 10;
}

export interface DirectionFigures {
  audioKbps: number;
  audioWireKbps: number;
  audioCodec: string;
  videoKbps: number;
  videoWireKbps: number;
  videoFps: number;
  videoResolution: string;
  videoCodec: string;
  /** Percent of packets lost in the interval (receive side only; 0 when sending). */
  videoLossPercent: number;
  audioLossPercent: number;
  dataKbps: number;
  dataWireKbps: number;
  /**
   * All traffic on the selected ICE candidate pair, UDP/IP headers included; without a connection
   * of its own (a person reached through the SFU) the sum of their streams' wire figures.
   */
  totalWireKbps: number;
  /**
   * Whether the snapshot holds anything of this direction at all. Through the SFU a person's tile
   * has only what we receive from them (what we send is the same for all: our own tile's totals),
   * and an unmeasured direction shows "–", not zeros.
   */
  measured: boolean;
}

export interface PeerFigures {
  receive: DirectionFigures;
  send: DirectionFigures;
  /** Undefined without a candidate pair of this person's own (through the SFU). */
  rttMs: number | undefined;
}

const num = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

function find(snapshot: StatsSnapshot, predicate: (e: StatsEntry) => boolean): StatsEntry | undefined {
  for (const entry of snapshot.values()) if (predicate(entry)) return entry;
  return undefined;
}

function sum(snapshot: StatsSnapshot, type: string, key: string, kind?: string): number {
  let total = 0;
  for (const entry of snapshot.values()) if (entry.type === type && (!kind || entry.kind === kind)) total += num(entry[key]);
  return total;
}

function codecName(snapshot: StatsSnapshot, rtp: StatsEntry | undefined): string {
  const codec = rtp && typeof rtp.codecId === 'string' ? snapshot.get(rtp.codecId) : undefined;
  const mime = typeof codec?.mimeType === 'string' ? codec.mimeType : '';
  return mime.split('/')[1] ?? '';
}

function selectedPair(snapshot: StatsSnapshot): StatsEntry | undefined {
  const transport = find(snapshot, (e) => e.type === 'transport');
  const id = transport?.selectedCandidatePairId;
  if (typeof id === 'string') return snapshot.get(id);
  return find(snapshot, (e) => e.type === 'candidate-pair' && e.nominated === true && e.state === 'succeeded');
}

const kbps = (bytes: number, seconds: number): number => (seconds > 0 ? Math.max(0, (bytes * 8) / 1000 / seconds) : 0);

function lossPercent(lost: number, received: number): number {
  const expected = lost + received;
  return expected > 0 ? Math.max(0, (100 * lost) / expected) : 0;
}

function direction(prev: StatsSnapshot, curr: StatsSnapshot, seconds: number, receiving: boolean): DirectionFigures {
  const rtpType = receiving ? 'inbound-rtp' : 'outbound-rtp';
  const bytesKey = receiving ? 'bytesReceived' : 'bytesSent';
  const headerKey = receiving ? 'headerBytesReceived' : 'headerBytesSent';
  const packetsKey = receiving ? 'packetsReceived' : 'packetsSent';
  const messagesKey = receiving ? 'messagesReceived' : 'messagesSent';
  const delta = (type: string, key: string, kind?: string): number => sum(curr, type, key, kind) - sum(prev, type, key, kind);
  const tag = srtpTagBytes(find(curr, (e) => e.type === 'transport')?.srtpCipher);

  const rtpKbps = (kind: 'audio' | 'video'): [number, number] => {
    const payload = delta(rtpType, bytesKey, kind);
    const wire = payload + delta(rtpType, headerKey, kind) + delta(rtpType, packetsKey, kind) * (tag + UDP_IP_OVERHEAD);
    return [kbps(payload, seconds), kbps(wire, seconds)];
  };
  const [audioKbps, audioWireKbps] = rtpKbps('audio');
  const [videoKbps, videoWireKbps] = rtpKbps('video');

  const video = find(curr, (e) => e.type === rtpType && e.kind === 'video');
  const prevVideo = video ? prev.get(video.id) : undefined;
  const framesKey = receiving ? 'framesDecoded' : 'framesEncoded';
  const fps =
    num(video?.framesPerSecond) || (prevVideo ? Math.max(0, num(video?.[framesKey]) - num(prevVideo[framesKey])) / seconds : 0);
  const width = num(video?.frameWidth);
  const height = num(video?.frameHeight);

  const dataPayload = delta('data-channel', receiving ? 'bytesReceived' : 'bytesSent');
  const dataMessages = delta('data-channel', messagesKey);
  const pair = selectedPair(curr);
  const prevPair = pair ? prev.get(pair.id) : undefined;
  const pairBytes = pair && prevPair ? num(pair[bytesKey]) - num(prevPair[bytesKey]) : 0;
  const pairPackets = pair && prevPair ? num(pair[packetsKey]) - num(prevPair[packetsKey]) : 0;
  const dataWireKbps = kbps(dataPayload + dataMessages * DATACHANNEL_WIRE_OVERHEAD, seconds);
  const measured = !!pair || !!find(curr, (e) => e.type === rtpType || (e.type === 'data-channel' && num(e[messagesKey]) > 0));

  return {
    audioKbps,
    audioWireKbps,
    audioCodec: codecName(curr, find(curr, (e) => e.type === rtpType && e.kind === 'audio')),
    videoKbps,
    videoWireKbps,
    videoFps: seconds > 0 ? fps : 0,
    videoResolution: width && height ? `${width}x${height}` : '',
    videoCodec: codecName(curr, video),
    videoLossPercent: receiving ? lossPercent(delta(rtpType, 'packetsLost', 'video'), delta(rtpType, packetsKey, 'video')) : 0,
    audioLossPercent: receiving ? lossPercent(delta(rtpType, 'packetsLost', 'audio'), delta(rtpType, packetsKey, 'audio')) : 0,
    dataKbps: kbps(dataPayload, seconds),
    dataWireKbps,
    totalWireKbps: pair ? kbps(pairBytes + pairPackets * UDP_IP_OVERHEAD, seconds) : audioWireKbps + videoWireKbps + dataWireKbps,
    measured,
  };
}

/** Figures for the interval between two snapshots of the same connection. */
export function computePeerFigures(prev: StatsSnapshot, curr: StatsSnapshot): PeerFigures {
  const timestamp = (s: StatsSnapshot): number => {
    let t = 0;
    for (const entry of s.values()) t = Math.max(t, num(entry.timestamp));
    return t;
  };
  const seconds = (timestamp(curr) - timestamp(prev)) / 1000;
  const pair = selectedPair(curr);
  return {
    receive: direction(prev, curr, seconds, true),
    send: direction(prev, curr, seconds, false),
    rttMs: pair ? num(pair.currentRoundTripTime) * 1000 : undefined,
  };
}

/** The panel's cells: data-stat name -> how to read it. One list, so panel, tests and docs agree. */
export const STAT_FIELDS: ReadonlyArray<{ stat: string; label: string; read: (f: PeerFigures) => string }> = [
  ...(['receive', 'send'] as const).flatMap((dir) => {
    const p = dir === 'send' ? '-send' : '';
    const f = (read: (d: DirectionFigures) => number | string, digits = 1) => (figures: PeerFigures) => {
      if (!figures[dir].measured) return '';
      const v = read(figures[dir]);
      return typeof v === 'number' ? v.toFixed(digits) : v;
    };
    return [
      { stat: `audio${p}-kbps`, label: 'audio kbit/s', read: f((d) => d.audioKbps) },
      { stat: `audio${p}-wire-kbps`, label: 'audio wire kbit/s', read: f((d) => d.audioWireKbps) },
      { stat: `audio${p}-codec`, label: 'audio codec', read: f((d) => d.audioCodec) },
      { stat: `video${p}-kbps`, label: 'video kbit/s', read: f((d) => d.videoKbps) },
      { stat: `video${p}-wire-kbps`, label: 'video wire kbit/s', read: f((d) => d.videoWireKbps) },
      { stat: `video${p}-fps`, label: 'video fps', read: f((d) => d.videoFps) },
      { stat: `video${p}-resolution`, label: 'resolution', read: f((d) => d.videoResolution) },
      { stat: `video${p}-codec`, label: 'video codec', read: f((d) => d.videoCodec) },
      { stat: `data${p}-kbps`, label: 'data kbit/s', read: f((d) => d.dataKbps) },
      { stat: `data${p}-wire-kbps`, label: 'data wire kbit/s (est.)', read: f((d) => d.dataWireKbps) },
      { stat: `total${p}-wire-kbps`, label: 'all traffic, wire kbit/s', read: f((d) => d.totalWireKbps) },
      ...(dir === 'receive'
        ? [
            { stat: 'video-loss', label: 'video loss %', read: f((d) => d.videoLossPercent) },
            { stat: 'audio-loss', label: 'audio loss %', read: f((d) => d.audioLossPercent) },
          ]
        : []),
    ];
  }),
  { stat: 'rtt-ms', label: 'RTT ms', read: (f) => f.rttMs?.toFixed(0) ?? '' },
];
