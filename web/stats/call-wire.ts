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
 * Which loss reports are new. A remote-inbound-rtp entry keeps its last fractionLost after its
 * stream stops (the standard video, when auto drops to kiloface), so a stale 40 % would hold
 * auto on kiloface for ever: only reports whose counters moved since the last reading count.
 */
export class FreshLossReports {
  private seen = new Map<string, string>();

  /** Whether `entry` (of connection `key`) carries a report not seen at the last reading. */
  isFresh(key: string, entry: StatsEntry): boolean {
    const id = `${key}/${entry.id}`;
    const marker = `${String(entry.roundTripTimeMeasurements)}/${String(entry.packetsLost)}`;
    const fresh = this.seen.get(id) !== marker;
    this.seen.set(id, marker);
    return fresh;
  }
}

/**
 * What the link looks like from our send side: the bandwidth estimate of the selected candidate
 * pair, the worst loss a receiver reports for what we send (remote-inbound-rtp fractionLost, only
 * fresh reports when `fresh` is given), RTT.
 */
export function linkSample(snapshot: StatsSnapshot, atMs: number, fresh?: { key: string; reports: FreshLossReports }): LinkSample {
  const pair = selectedPair(snapshot);
  const sample: LinkSample = { atMs };
  if (typeof pair?.availableOutgoingBitrate === 'number') sample.availableKbps = pair.availableOutgoingBitrate / 1000;
  const rtt = pair?.currentRoundTripTime;
  if (typeof rtt === 'number') sample.rttMs = rtt * 1000;
  const losses = entries(snapshot, 'remote-inbound-rtp')
    .filter((e) => !fresh || fresh.reports.isFresh(fresh.key, e))
    .map((e) => e.fractionLost)
    .filter((v): v is number => typeof v === 'number');
  if (losses.length) sample.loss = Math.max(...losses);
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
