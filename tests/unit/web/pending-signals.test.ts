import { describe, expect, it } from 'vitest';
import { Call } from '../../../web/call/call.ts';
import { DEFAULT_MEDIA_SETTINGS } from '../../../web/call/media-settings.ts';
import { MAX_PENDING_PEERS, MAX_PENDING_SIGNALS, PendingSignals } from '../../../web/call/pending-signals.ts';
import type { WireSignal } from '../../../web/call/remote-peer.ts';

// The JSON shape a candidate has on the wire (simple-peer types it as a full RTCIceCandidate).
const candidate = (cid: string, n = 0): WireSignal => ({ cid, signal: { type: 'candidate', candidate: { candidate: `candidate:${n}`, sdpMLineIndex: 0, sdpMid: '0' } } as unknown as WireSignal['signal'] });

describe('pending signals (issue 13 item 9)', () => {
  it('a peer flooding made-up connection ids cannot grow the store of the tab it calls', () => {
    // The real Call, before any media or socket: signals arrive as the signalling client relays them.
    const call = new Call({ room: 'room', name: 'victim', signallingUrl: 'ws://127.0.0.1:9/ws', settings: DEFAULT_MEDIA_SETTINGS });
    const relay = (call as unknown as { signalling: { emit(event: 'signal', from: string, data: unknown): void } }).signalling;
    for (let i = 0; i < 10_000; i++) relay.emit('signal', 'mallory-0001', candidate(`made-up-${i}`, i));
    for (let i = 0; i < 10_000; i++) relay.emit('signal', 'mallory-0001', candidate('one-attempt', i));
    // `size`: signals held (PendingSignals) or keys (the Map keyed by peer/cid it replaced).
    const held = (call as unknown as { pendingSignals: { size: number } }).pendingSignals.size;
    expect(held).toBeLessThanOrEqual(MAX_PENDING_SIGNALS);
    call.leave();
  });

  it('keeps the newest attempt of each peer, hands it over once, and bounds the peers', () => {
    const pending = new PendingSignals();
    pending.add('alice', candidate('a1', 1));
    pending.add('alice', candidate('a2', 2));
    pending.add('alice', candidate('a2', 3));
    pending.add('bob', candidate('b1'));
    expect(pending.take('alice', 'a1')).toEqual([]); // superseded by a2
    expect(pending.take('alice', 'a2').map((s) => s.signal)).toEqual([candidate('a2', 2).signal, candidate('a2', 3).signal]);
    expect(pending.take('alice', 'a2')).toEqual([]);
    for (let i = 0; i < 3 * MAX_PENDING_SIGNALS; i++) pending.add('bob', candidate('b1', i));
    expect(pending.size).toBe(MAX_PENDING_SIGNALS);
    for (let i = 0; i < 100; i++) pending.add(`peer-${i}`, candidate('x'));
    expect(pending.size).toBe(MAX_PENDING_PEERS); // bob went first (oldest), then the earliest peers
    expect(pending.take('peer-99', 'x')).toHaveLength(1);
    expect(pending.take('bob', 'b1')).toEqual([]);
    pending.dropPeer('peer-98');
    expect(pending.take('peer-98', 'x')).toEqual([]);
    pending.clear();
    expect(pending.size).toBe(0);
  });
});
