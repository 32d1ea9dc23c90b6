import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ServerMessage } from '../../../protocol/signalling.ts';
import { DEFAULT_ROOM_OPTIONS, RoomRegistry } from '../../../server/signalling/rooms.ts';

function inbox(): { sink: (m: ServerMessage) => void; messages: ServerMessage[] } {
  const messages: ServerMessage[] = [];
  return { sink: (m) => messages.push(m), messages };
}

const options = { ...DEFAULT_ROOM_OPTIONS, maxPeers: 3, resumeGraceMs: 1000, maxQueuedMessages: 2 };

afterEach(() => vi.useRealTimers());

describe('RoomRegistry', () => {
  it('lists existing peers to a newcomer and announces the newcomer to them', () => {
    const rooms = new RoomRegistry(options);
    const a = inbox();
    const b = inbox();
    const ja = rooms.join({ room: 'r', name: 'A' }, a.sink);
    const jb = rooms.join({ room: 'r', name: 'B' }, b.sink);
    if (!ja.ok || !jb.ok) throw new Error('join failed');
    expect(ja.welcome.peers).toEqual([]);
    expect(jb.welcome.peers).toEqual([{ id: ja.session.id, name: 'A' }]);
    expect(a.messages).toEqual([{ type: 'peer-joined', peer: { id: jb.session.id, name: 'B' } }]);
    expect(rooms.size).toEqual({ rooms: 1, peers: 2 });
  });

  it('relays signals within a room only', () => {
    const rooms = new RoomRegistry(options);
    const a = inbox();
    const b = inbox();
    const c = inbox();
    const ja = rooms.join({ room: 'r', name: 'A' }, a.sink);
    const jb = rooms.join({ room: 'r', name: 'B' }, b.sink);
    const jc = rooms.join({ room: 'other', name: 'C' }, c.sink);
    if (!ja.ok || !jb.ok || !jc.ok) throw new Error('join failed');
    expect(rooms.relay(ja.session, jb.session.id, { sdp: 'x' })).toBeUndefined();
    expect(b.messages.at(-1)).toEqual({ type: 'signal', from: ja.session.id, data: { sdp: 'x' } });
    expect(rooms.relay(ja.session, jc.session.id, {})?.code).toBe('unknown-peer');
    expect(rooms.relay(ja.session, ja.session.id, {})?.code).toBe('unknown-peer');
    expect(c.messages).toEqual([]);
  });

  it('keeps a room with a secret closed to everyone without it', () => {
    const rooms = new RoomRegistry(options);
    expect(rooms.join({ room: 'r', name: 'A', secret: 'pw' }, inbox().sink)).toMatchObject({ ok: true, welcome: { secured: true } });
    expect(rooms.join({ room: 'r', name: 'B' }, inbox().sink)).toMatchObject({ ok: false, code: 'wrong-secret' });
    expect(rooms.join({ room: 'r', name: 'B', secret: 'PW' }, inbox().sink)).toMatchObject({ ok: false, code: 'wrong-secret' });
    expect(rooms.join({ room: 'r', name: 'B', secret: 'pw' }, inbox().sink).ok).toBe(true);
  });

  it('refuses people beyond the room size', () => {
    const rooms = new RoomRegistry(options);
    for (const name of ['A', 'B', 'C']) expect(rooms.join({ room: 'r', name }, inbox().sink).ok).toBe(true);
    expect(rooms.join({ room: 'r', name: 'D' }, inbox().sink)).toMatchObject({ ok: false, code: 'room-full' });
  });

  it('removes a leaver, tells the others, and forgets an empty room (its secret only after secretMemoryMs)', () => {
    vi.useFakeTimers();
    const rooms = new RoomRegistry(options);
    const a = inbox();
    const ja = rooms.join({ room: 'r', name: 'A', secret: 'pw' }, a.sink);
    const jb = rooms.join({ room: 'r', name: 'B', secret: 'pw' }, inbox().sink);
    if (!ja.ok || !jb.ok) throw new Error('join failed');
    rooms.leave(jb.session, 'left');
    expect(a.messages.at(-1)).toEqual({ type: 'peer-left', peerId: jb.session.id, reason: 'left' });
    rooms.leave(ja.session, 'left');
    expect(rooms.size).toEqual({ rooms: 0, peers: 0 });
    // The emptied room's name stays its owners' for a while: nobody takes it over with another secret.
    expect(rooms.join({ room: 'r', name: 'C' }, inbox().sink)).toMatchObject({ ok: false, code: 'wrong-secret' });
    expect(rooms.join({ room: 'r', name: 'C', secret: 'mine' }, inbox().sink)).toMatchObject({ ok: false, code: 'wrong-secret' });
    vi.advanceTimersByTime(options.secretMemoryMs + 1);
    expect(rooms.join({ room: 'r', name: 'C' }, inbox().sink)).toMatchObject({ ok: true, welcome: { secured: false } });
  });

  it('lets the owners back into their emptied secured room with the same secret', () => {
    const rooms = new RoomRegistry(options);
    const ja = rooms.join({ room: 'r', name: 'A', secret: 'pw' }, inbox().sink);
    if (!ja.ok) throw new Error('join failed');
    rooms.leave(ja.session, 'left');
    expect(rooms.join({ room: 'r', name: 'A', secret: 'pw' }, inbox().sink)).toMatchObject({ ok: true, welcome: { secured: true } });
  });

  it('refuses a secret for an open room instead of silently joining it unsecured', () => {
    const rooms = new RoomRegistry(options);
    expect(rooms.join({ room: 'open', name: 'A' }, inbox().sink).ok).toBe(true);
    const refused = rooms.join({ room: 'open', name: 'B', secret: 'pw' }, inbox().sink);
    expect(refused).toMatchObject({ ok: false, code: 'wrong-secret' });
    expect(refused.ok ? '' : refused.message).toMatch(/open/);
  });

  it('gives a second person of the same name a distinct one', () => {
    const rooms = new RoomRegistry(options);
    rooms.join({ room: 'r', name: 'Dana' }, inbox().sink);
    expect(rooms.join({ room: 'r', name: 'dana' }, inbox().sink)).toMatchObject({ ok: true, welcome: { self: { name: 'dana (2)' } } });
    expect(rooms.join({ room: 'r', name: 'Dana' }, inbox().sink)).toMatchObject({ ok: true, welcome: { self: { name: 'Dana (3)' } } });
  });

  it('caps the people one address puts in a room', () => {
    const rooms = new RoomRegistry({ ...options, maxPeers: 10, maxPeersPerAddress: 2 });
    for (const name of ['A', 'B']) expect(rooms.join({ room: 'r', name, address: '10.0.0.1' }, inbox().sink).ok).toBe(true);
    expect(rooms.join({ room: 'r', name: 'C', address: '10.0.0.1' }, inbox().sink)).toMatchObject({ ok: false, code: 'room-full' });
    expect(rooms.join({ room: 'r', name: 'C', address: '10.0.0.2' }, inbox().sink).ok).toBe(true);
  });

  it('holds a dropped peer’s seat, queues its signals, and gives them back on resume', () => {
    vi.useFakeTimers();
    const rooms = new RoomRegistry(options);
    const a = inbox();
    const ja = rooms.join({ room: 'r', name: 'A' }, a.sink);
    const jb = rooms.join({ room: 'r', name: 'B' }, inbox().sink);
    if (!ja.ok || !jb.ok) throw new Error('join failed');
    rooms.detach(ja.session, a.sink);
    for (const n of [1, 2, 3]) rooms.relay(jb.session, ja.session.id, { n });
    vi.advanceTimersByTime(500);
    expect(rooms.join({ room: 'r', name: 'A', resume: { peerId: ja.session.id, token: 'wrong-token-123456' } }, inbox().sink)).toMatchObject({
      ok: false,
      code: 'resume-failed',
    });
    const again = inbox();
    const resumed = rooms.join({ room: 'r', name: 'A', resume: ja.session.ticket }, again.sink);
    expect(resumed).toMatchObject({ ok: true, welcome: { resumed: true, self: { id: ja.session.id } } });
    if (resumed.ok) rooms.flushQueued(resumed.session);
    // The queue holds at most maxQueuedMessages (2): the oldest signals are kept, in order.
    expect(again.messages.map((m) => (m.type === 'signal' ? m.data : m))).toEqual([{ n: 1 }, { n: 2 }]);
    vi.advanceTimersByTime(5000);
    expect(rooms.size.peers).toBe(2);
  });

  it('lets the seat go after the grace period and tells the others', () => {
    vi.useFakeTimers();
    const rooms = new RoomRegistry(options);
    const a = inbox();
    const b = inbox();
    const ja = rooms.join({ room: 'r', name: 'A' }, a.sink);
    rooms.join({ room: 'r', name: 'B' }, b.sink);
    if (!ja.ok) throw new Error('join failed');
    rooms.detach(ja.session, a.sink);
    vi.advanceTimersByTime(1001);
    expect(b.messages.at(-1)).toEqual({ type: 'peer-left', peerId: ja.session.id, reason: 'timeout' });
    expect(rooms.join({ room: 'r', name: 'A', resume: ja.session.ticket }, inbox().sink)).toMatchObject({ ok: false, code: 'resume-failed' });
  });

  it('moves a room to the SFU above two people or when asked, and back to P2P', () => {
    const rooms = new RoomRegistry({ ...options, sfuAvailable: true, sfuMaxPeers: 5 });
    const changes: string[] = [];
    rooms.events = { modeChanged: (room, mode) => changes.push(`${room.name}:${mode}`) };
    const a = inbox();
    const ja = rooms.join({ room: 'r', name: 'A' }, a.sink);
    expect(ja).toMatchObject({ ok: true, welcome: { mode: 'p2p', maxPeers: 5 } });
    rooms.join({ room: 'r', name: 'B' }, inbox().sink);
    const jc = rooms.join({ room: 'r', name: 'C' }, inbox().sink);
    expect(jc).toMatchObject({ ok: true, welcome: { mode: 'sfu' } });
    expect(a.messages.filter((m) => m.type === 'mode')).toEqual([{ type: 'mode', mode: 'sfu' }]);
    if (jc.ok) rooms.leave(jc.session, 'left');
    expect(a.messages.at(-1)).toEqual({ type: 'mode', mode: 'p2p' });
    expect(rooms.join({ room: 'asked', name: 'D', mode: 'sfu' }, inbox().sink)).toMatchObject({ ok: true, welcome: { mode: 'sfu' } });
    expect(changes).toEqual(['r:sfu', 'r:p2p', 'asked:sfu']);
  });

  it('stays P2P when no SFU is available', () => {
    const rooms = new RoomRegistry(options);
    for (const name of ['A', 'B']) rooms.join({ room: 'r', name }, inbox().sink);
    expect(rooms.join({ room: 'r', name: 'C', mode: 'sfu' }, inbox().sink)).toMatchObject({ ok: true, welcome: { mode: 'p2p' } });
  });

  it('after a restart with the same session key, seats the people of a call again under their old ids; not a forged, foreign or departed ticket', () => {
    const sessionKey = randomBytes(32);
    const before = new RoomRegistry({ ...options, sessionKey });
    const ja = before.join({ room: 'r', name: 'A' }, inbox().sink);
    const jb = before.join({ room: 'r', name: 'B' }, inbox().sink);
    if (!ja.ok || !jb.ok) throw new Error('join failed');

    const after = new RoomRegistry({ ...options, sessionKey });
    const a = inbox();
    const ra = after.join({ room: 'r', name: 'A', resume: ja.session.ticket }, a.sink);
    expect(ra).toMatchObject({ ok: true, welcome: { self: { id: ja.session.id, name: 'A' }, resumed: true, restored: true, peers: [] } });
    const rb = after.join({ room: 'r', name: 'B', resume: jb.session.ticket }, inbox().sink);
    expect(rb).toMatchObject({ ok: true, welcome: { self: { id: jb.session.id }, restored: true, peers: [{ id: ja.session.id, name: 'A' }] } });
    expect(a.messages).toEqual([{ type: 'peer-joined', peer: { id: jb.session.id, name: 'B' } }]);
    // The restored session's own ticket resumes it like any other.
    if (!ra.ok) throw new Error('restore failed');
    after.detach(ra.session, a.sink);
    expect(after.join({ room: 'r', name: 'A', resume: ra.session.ticket }, inbox().sink)).toMatchObject({ ok: true, welcome: { resumed: true, restored: false } });

    const forged = { peerId: 'x'.repeat(16), token: ja.session.ticket.token };
    expect(after.join({ room: 'r', name: 'M', resume: forged }, inbox().sink)).toMatchObject({ ok: false, code: 'resume-failed' });
    expect(after.join({ room: 'other', name: 'A', resume: ja.session.ticket }, inbox().sink)).toMatchObject({ ok: false, code: 'resume-failed' });
    expect(new RoomRegistry({ ...options, sessionKey: randomBytes(32) }).join({ room: 'r', name: 'A', resume: ja.session.ticket }, inbox().sink)).toMatchObject({ ok: false, code: 'resume-failed' });
    // Someone who left after the restart joins afresh: the others have dropped them.
    if (!rb.ok) throw new Error('restore failed');
    after.leave(rb.session, 'left');
    expect(after.join({ room: 'r', name: 'B', resume: jb.session.ticket }, inbox().sink)).toMatchObject({ ok: false, code: 'resume-failed' });
  });

  it('takes tickets of unknown people back only in the first minute after start', () => {
    vi.useFakeTimers();
    const sessionKey = randomBytes(32);
    const ja = new RoomRegistry({ ...options, sessionKey }).join({ room: 'r', name: 'A' }, inbox().sink);
    if (!ja.ok) throw new Error('join failed');
    const after = new RoomRegistry({ ...options, sessionKey });
    vi.advanceTimersByTime(DEFAULT_ROOM_OPTIONS.restoreWindowMs + 1);
    expect(after.join({ room: 'r', name: 'A', resume: ja.session.ticket }, inbox().sink)).toMatchObject({ ok: false, code: 'resume-failed' });
  });
});
