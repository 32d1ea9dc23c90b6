// The whole call's counters as one page sees them (getStats of every connection, through
// window.kiloface.call.connectionStats()), and rates between two readings: for the e2e tests and
// scripts/measure-call-wire.ts alike.
import type { Page } from 'playwright-core';
import { srtpTagBytes, UDP_IP_OVERHEAD, type StatsEntry } from '../web/stats/peer-stats.ts';
import { transportCounters, wireBytes } from '../web/stats/call-wire.ts';
import { DATACHANNEL_WIRE_OVERHEAD } from '../codec/stream/wire.ts';

export interface CallCounters {
  atMs: number;
  /** Whole call on the wire (transport bytes + 28 B UDP/IPv4 per packet). */
  wireSent: number;
  wireReceived: number;
  videoBytesSent: number;
  videoPacketsSent: number;
  /** Video send streams (outbound-rtp): none where our video m-line is receive-only. */
  videoSendStreams: number;
  audioPacketsSent: number;
  /** Audio RTP on the wire: payload + RTP headers + SRTP tag + UDP/IPv4, per packet. */
  audioWireSent: number;
  audioPayloadSent: number;
  /** Messages and bytes our kiloface channels sent. */
  kilofaceMessagesSent: number;
  kilofaceBytesSent: number;
  /** kiloface frame bundles that rode inside our audio packets (P2P and SFU). */
  kilofaceBundlesInAudio: number;
  /** Every packet the call's transports sent and received. */
  packetsSent: number;
  packetsReceived: number;
}

export async function callCounters(page: Page): Promise<CallCounters> {
  const raw = await page.evaluate(async () => {
    const call = window.kiloface!.call!;
    // Builds from before connectionStats() (scripts/measure-call-wire.ts --dist): their P2P connections.
    if (typeof call.connectionStats !== 'function') {
      const reports = await Promise.all([...call.peers.values()].map((p) => p.pc.getStats()));
      return { atMs: performance.now(), connections: reports.map((r) => { const list: unknown[] = []; r.forEach((e) => list.push(e)); return list; }) };
    }
    const connections = await call.connectionStats();
    let bundles = call.sfuAudioBundleCounts?.sent ?? 0;
    for (const peer of call.peers.values()) bundles += peer.audioBundleCounts?.sent ?? 0;
    return { atMs: performance.now(), connections: connections.map((c) => [...c.snapshot.values()]), bundles };
  });
  const out: CallCounters = {
    atMs: raw.atMs,
    wireSent: 0,
    wireReceived: 0,
    videoBytesSent: 0,
    videoPacketsSent: 0,
    videoSendStreams: 0,
    audioPacketsSent: 0,
    audioWireSent: 0,
    audioPayloadSent: 0,
    kilofaceMessagesSent: 0,
    kilofaceBytesSent: 0,
    kilofaceBundlesInAudio: ('bundles' in raw ? raw.bundles : undefined) ?? 0,
    packetsSent: 0,
    packetsReceived: 0,
  };
  const n = (v: unknown): number => (typeof v === 'number' ? v : 0);
  for (const entries of raw.connections as StatsEntry[][]) {
    const snapshot = new Map(entries.map((e) => [e.id, e]));
    const counters = transportCounters(snapshot);
    const wire = wireBytes(counters);
    out.packetsSent += counters.packetsSent;
    out.packetsReceived += counters.packetsReceived;
    out.wireSent += wire.sent;
    out.wireReceived += wire.received;
    const tag = srtpTagBytes(entries.find((e) => e.type === 'transport')?.srtpCipher);
    for (const e of entries) {
      if (e.type === 'outbound-rtp' && e.kind === 'video') {
        out.videoBytesSent += n(e.bytesSent) + n(e.headerBytesSent);
        out.videoPacketsSent += n(e.packetsSent);
        out.videoSendStreams++;
      }
      if (e.type === 'outbound-rtp' && e.kind === 'audio') {
        out.audioPacketsSent += n(e.packetsSent);
        out.audioPayloadSent += n(e.bytesSent);
        out.audioWireSent += n(e.bytesSent) + n(e.headerBytesSent) + n(e.packetsSent) * (tag + UDP_IP_OVERHEAD);
      }
      if (e.type === 'data-channel' && /^kiloface-(frames|control)$/.test(String(e.label))) {
        out.kilofaceMessagesSent += n(e.messagesSent);
        out.kilofaceBytesSent += n(e.bytesSent);
      }
    }
  }
  return out;
}

export interface CallRates {
  seconds: number;
  sendKbps: number;
  recvKbps: number;
  videoSentBytes: number;
  audioPacketsPerSecond: number;
  audioWireKbps: number;
  audioPayloadKbps: number;
  kilofaceMessages: number;
  /** Bundles that rode in audio packets instead (no datachannel message of their own). */
  kilofaceBundlesInAudio: number;
  /** kiloface's own wire estimate: its bytes + DTLS/SCTP/UDP/IP per message (codec/stream/wire.ts). */
  kilofaceWireKbps: number;
  packetsSentPerSecond: number;
  packetsReceivedPerSecond: number;
}

export function callRates(a: CallCounters, b: CallCounters): CallRates {
  const seconds = (b.atMs - a.atMs) / 1000;
  const kbps = (bytes: number): number => (bytes * 8) / 1000 / seconds;
  return {
    seconds,
    sendKbps: kbps(b.wireSent - a.wireSent),
    recvKbps: kbps(b.wireReceived - a.wireReceived),
    videoSentBytes: b.videoBytesSent - a.videoBytesSent,
    audioPacketsPerSecond: (b.audioPacketsSent - a.audioPacketsSent) / seconds,
    audioWireKbps: kbps(b.audioWireSent - a.audioWireSent),
    audioPayloadKbps: kbps(b.audioPayloadSent - a.audioPayloadSent),
    kilofaceMessages: b.kilofaceMessagesSent - a.kilofaceMessagesSent,
    kilofaceBundlesInAudio: b.kilofaceBundlesInAudio - a.kilofaceBundlesInAudio,
    kilofaceWireKbps: kbps(b.kilofaceBytesSent - a.kilofaceBytesSent + (b.kilofaceMessagesSent - a.kilofaceMessagesSent) * DATACHANNEL_WIRE_OVERHEAD),
    packetsSentPerSecond: (b.packetsSent - a.packetsSent) / seconds,
    packetsReceivedPerSecond: (b.packetsReceived - a.packetsReceived) / seconds,
  };
}

export function formatRates(r: CallRates): string {
  return (
    `call wire ${r.sendKbps.toFixed(1)} kbit/s sent, ${r.recvKbps.toFixed(1)} received; audio ${r.audioPacketsPerSecond.toFixed(1)} packets/s, ` +
    `${r.audioPayloadKbps.toFixed(1)} kbit/s payload, ${r.audioWireKbps.toFixed(1)} wire; video ${r.videoSentBytes} B sent; ` +
    `kiloface ${r.kilofaceMessages} messages (~${r.kilofaceWireKbps.toFixed(1)} kbit/s wire) + ${r.kilofaceBundlesInAudio} bundles in audio; ${r.packetsSentPerSecond.toFixed(1)} packets/s sent, ` +
    `${r.packetsReceivedPerSecond.toFixed(1)} received (over ${r.seconds.toFixed(1)} s)`
  );
}
