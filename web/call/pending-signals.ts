import type { WireSignal } from './remote-peer.ts';

// Signals that came before their connection exists (candidates can overtake the offer's
// handling), kept until it does. The connection id is chosen by the sender, so keying by it alone
// let one peer fill the victim's tab with one entry per made-up id (issue 13): only the newest
// attempt of each peer is kept, with a bounded number of signals, for a bounded number of peers.

/** Signals kept for one connection attempt: an offer, an answer and candidates come to far fewer. */
export const MAX_PENDING_SIGNALS = 128;
/** Peers with signals waiting: a P2P room holds a handful of people (16 is the SFU room size). */
export const MAX_PENDING_PEERS = 16;

export class PendingSignals {
  private readonly byPeer = new Map<string, { cid: string; signals: WireSignal[] }>();

  /** Signals held, over all peers. */
  get size(): number {
    let n = 0;
    for (const { signals } of this.byPeer.values()) n += signals.length;
    return n;
  }

  /** Keeps `signal` from `peerId`; a new connection id from a peer drops that peer's older attempt. */
  add(peerId: string, signal: WireSignal): void {
    let entry = this.byPeer.get(peerId);
    if (entry?.cid !== signal.cid) {
      this.byPeer.delete(peerId); // re-inserted last: the Map's order is the eviction order
      entry = { cid: signal.cid, signals: [] };
      this.byPeer.set(peerId, entry);
      if (this.byPeer.size > MAX_PENDING_PEERS) this.byPeer.delete(this.byPeer.keys().next().value!);
    }
    if (entry.signals.length < MAX_PENDING_SIGNALS) entry.signals.push(signal);
  }

  /** The signals kept for this connection attempt, removed from the store. */
  take(peerId: string, cid: string): WireSignal[] {
    const entry = this.byPeer.get(peerId);
    if (entry?.cid !== cid) return [];
    this.byPeer.delete(peerId);
    return entry.signals;
  }

  dropPeer(peerId: string): void {
    this.byPeer.delete(peerId);
  }

  clear(): void {
    this.byPeer.clear();
  }
}
