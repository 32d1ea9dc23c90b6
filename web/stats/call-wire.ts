// The whole call on the wire, per direction, and what the link looks like to the sender: from
// getStats() of every connection the call has (P2P: one per peer; SFU: the send and receive
// transports). Pure functions over snapshots, unit-tested without a browser.
import { UDP_IP_OVERHEAD } from '../../codec/stream/wire.ts';
import type { StatsEntry, StatsSnapshot } from './peer-stats.ts';
import type { LinkSample } from '../call/video-mode-policy.ts';

/** Byte and packet counters of one connection's transports: every RTP, RTCP, DTLS and SCTP byte (no UDP/IP headers). */
export interface TransportCounters {
  bytesSent: number;
  bytesReceived: number;
  packetsSent: number;
  packetsReceived: number;
}

const num = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

function entries(snapshot: StatsSnapshot, type: string): StatsEntry[] {
  return [...snapshot.values()].filter((e) => e.type === type);
}

function selectedPair(snapshot: StatsSnapshot): StatsEntry | undefined {
  for (const transport of entries(snapshot, 'transport')) {
    const id = transport.selectedCandidatePairId;
    if (typeof id === 'string' && snapshot.get(id)) return snapshot.get(id);
  }
  return entries(snapshot, 'candidate-pair').find((e) => e.nominated === true && e.state === 'succeeded');
}

/** Sums the `transport` entries (packets from the selected candidate pair where the transport has none). */
export function transportCounters(snapshot: StatsSnapshot): TransportCounters {
  const out: TransportCounters = { bytesSent: 0, bytesReceived: 0, packetsSent: 0, packetsReceived: 0 };
  const pair = selectedPair(snapshot);
  for (const t of entries(snapshot, 'transport')) {
    out.bytesSent += num(t.bytesSent);
    out.bytesReceived += num(t.bytesReceived);
    out.packetsSent += t.packetsSent === undefined ? num(pair?.packetsSent) : num(t.packetsSent);
    out.packetsReceived += t.packetsReceived === undefined ? num(pair?.packetsReceived) : num(t.packetsReceived);
  }
  return out;
}

/** Wire bytes: what the transport counted plus UDP/IPv4 headers per packet. */
export function wireBytes(c: TransportCounters): { sent: number; received: number } {
  return { sent: c.bytesSent + c.packetsSent * UDP_IP_OVERHEAD, received: c.bytesReceived + c.packetsReceived * UDP_IP_OVERHEAD };
}

export interface WireRates {
  sendKbps: number;
  recvKbps: number;
}

/**
 * kbit/s of the whole call between two readings. Connections are keyed (peer and connection id,
 * or the SFU transport): one that is new counts from its first reading, one that went away drops
 * out, so a reconnect or a P2P/SFU switch never makes a negative or a huge rate.
 */
export class CallWireMeter {
  private previous = new Map<string, { sent: number; received: number }>();
  private previousAtMs: number | undefined;

  update(connections: ReadonlyMap<string, TransportCounters>, atMs: number): WireRates | undefined {
    let sent = 0;
    let received = 0;
    const next = new Map<string, { sent: number; received: number }>();
    for (const [key, counters] of connections) {
      const wire = wireBytes(counters);
      next.set(key, wire);
      const before = this.previous.get(key);
      if (!before) continue;
      sent += Math.max(0, wire.sent - before.sent);
      received += Math.max(0, wire.received - before.received);
    }
    const seconds = this.previousAtMs === undefined ? 0 : (atMs - this.previousAtMs) / 1000;
    this.previous = next;
    this.previousAtMs = atMs;
    if (seconds <= 0) return undefined;
    return { sendKbps: (sent * 8) / 1000 / seconds, recvKbps: (received * 8) / 1000 / seconds };
  }
}

/**
 * Loss from the far end's reports, as packets lost over packets sent between two reports of each
 * stream (remote-inbound-rtp packetsLost against its outbound-rtp packetsSent). Not fractionLost:
 * through a flooded relay the last report's fraction alternated clean and lossy, and an entry keeps
 * it after its stream stops. A stream whose report did not move since the last reading says nothing.
 */
export class LossMeter {
  /** Per connection, the last reading of each of its remote-inbound reports (only those still in its stats). */
  private previous = new Map<string, Map<string, { marker: string; lost: number; sent: number }>>();

  /** Lost/sent over the streams of connection `key` whose reports are new; undefined if none are. */
  read(key: string, snapshot: StatsSnapshot): number | undefined {
    let lost = 0;
    let sent = 0;
    let reported = false;
    const before = this.previous.get(key);
    const readings = new Map<string, { marker: string; lost: number; sent: number }>();
    for (const report of entries(snapshot, 'remote-inbound-rtp')) {
      const outbound = typeof report.localId === 'string' ? snapshot.get(report.localId) : undefined;
      const now = { marker: `${String(report.roundTripTimeMeasurements)}/${String(report.packetsLost)}`, lost: num(report.packetsLost), sent: num(outbound?.packetsSent) };
      readings.set(report.id, now);
      const last = before?.get(report.id);
      if (!last || last.marker === now.marker) continue;
      reported = true;
      lost += Math.max(0, now.lost - last.lost);
      sent += Math.max(0, now.sent - last.sent);
    }
    this.previous.set(key, readings);
    if (!reported) return undefined;
    return sent > 0 ? Math.min(1, lost / sent) : 0;
  }

  /** Forgets connections not in `keys` (closed ones), so a long call with people coming and going stays small. */
  retain(keys: Iterable<string>): void {
    const keep = new Set(keys);
    for (const key of this.previous.keys()) if (!keep.has(key)) this.previous.delete(key);
  }
}

/**
 * What the link looks like from our send side: the bandwidth estimate of the selected candidate
 * pair, RTT, and the loss the far end reports for what we send (from `loss`, a LossMeter reading).
 */
export function linkSample(snapshot: StatsSnapshot, atMs: number, loss?: number): LinkSample {
  const pair = selectedPair(snapshot);
  const sample: LinkSample = { atMs };
  if (typeof pair?.availableOutgoingBitrate === 'number') sample.availableKbps = pair.availableOutgoingBitrate / 1000;
  const rtt = pair?.currentRoundTripTime;
  if (typeof rtt === 'number') sample.rttMs = rtt * 1000;
  if (loss !== undefined) sample.loss = loss;
  return sample;
}

/** Several connections (P2P mesh): the tightest one decides, since standard video goes to all of them. */
export function worstLink(samples: LinkSample[], atMs: number): LinkSample {
  const out: LinkSample = { atMs };
  for (const s of samples) {
    if (s.availableKbps !== undefined) out.availableKbps = Math.min(out.availableKbps ?? Infinity, s.availableKbps);
    if (s.loss !== undefined) out.loss = Math.max(out.loss ?? 0, s.loss);
    if (s.rttMs !== undefined) out.rttMs = Math.max(out.rttMs ?? 0, s.rttMs);
  }
  return out;
}
