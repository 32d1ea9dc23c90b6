// Fuzz surfaces of the running server (issue 13): HTTP requests, the signalling socket, and every
// SFU method with schema-mutated arguments. Each sends seeded, reproducible hostile inputs to a
// real server process and reports what it tried; the runner (run.ts) checks the process survives.
import net from 'node:net';
import WebSocket from 'ws';
import { mulberry32 } from './prng.ts';
import type { SurfaceReport } from './receiver-surface.ts';

type Rng = () => number;
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
const int = (rng: Rng, max: number): number => Math.floor(rng() * max);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Odd values of every JSON type: what a hostile client puts where a field should be. */
function hostileValue(rng: Rng, depth = 0): unknown {
  switch (int(rng, 16)) {
    case 0: return {};
    case 1: return [];
    case 2: return null;
    case 3: return pick(rng, [-1, 0, 1, 2 ** 31, 2 ** 32, 2 ** 53, -(2 ** 63), 1e308, 0.5, -0.0]);
    case 4: return pick(rng, ['', 'x'.repeat(10_000), '\u0000', '\ud800', '__proto__', 'constructor', '%00', '../../etc/passwd', '💥']);
    case 5: return pick(rng, [true, false]);
    case 6: return depth < 3 ? { [pick(rng, ['__proto__', 'constructor', 'a', 'ssrc', 'maxBitrate'])]: hostileValue(rng, depth + 1) } : 1;
    case 7: return depth < 3 ? Array.from({ length: int(rng, 5) }, () => hostileValue(rng, depth + 1)) : [];
    case 8: return { $gt: '' };
    case 9: return Array.from({ length: 1000 }, () => 0);
    case 10: return 'audio';
    case 11: return 'video';
    case 12: return String(int(rng, 2 ** 32));
    case 13: return int(rng, 256);
    case 14: return Number.MAX_SAFE_INTEGER;
    default: return '00000000-0000-0000-0000-000000000000';
  }
}

/** A copy of `value` with one leaf replaced, a field removed or a field added somewhere. */
export function mutate(rng: Rng, value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return hostileValue(rng);
  const copy: Record<string, unknown> | unknown[] = Array.isArray(value) ? [...value] : { ...(value as Record<string, unknown>) };
  const keys = Object.keys(copy);
  const action = keys.length === 0 ? 2 : int(rng, 4);
  const key = keys.length > 0 ? pick(rng, keys) : 'x';
  const target = copy as Record<string, unknown>;
  if (action === 0) target[key] = hostileValue(rng);
  else if (action === 1) delete target[key];
  else if (action === 2) target[pick(rng, ['extra', '__proto__', 'constructor', 'ssrc', 'maxBitrate', 'rtx'])] = hostileValue(rng);
  else target[key] = mutate(rng, target[key]); // go deeper
  return copy;
}

// ---------------------------------------------------------------------------------------------
// HTTP

const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT', 'PATCH', 'G\u00e9T', ''];
const PATH_PARTS = ['/', '//[', '//', '/r/', '/r/%E0%A4%A', '/..', '/%2e%2e/', '/models/', '/ort/', '/healthz', '/admin/stats', '/ws', '/assets/', '%', '%00', '?', '#', '*', 'http://[', '\u00ff', '/speed', 'x'.repeat(3000)];
const HEADER_LINES = ['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Origin: https://evil.example', 'Authorization: Bearer x', 'Range: bytes=-1', 'Accept-Encoding: br, gzip', 'If-None-Match: *', 'Content-Length: 5', 'Transfer-Encoding: chunked', 'Host: [', 'X: \u0000'];

function httpRequest(rng: Rng): string {
  let target = '';
  for (let i = 0, n = 1 + int(rng, 4); i < n; i++) target += pick(rng, PATH_PARTS);
  const headers = ['Host: localhost'];
  for (let i = 0, n = int(rng, 5); i < n; i++) headers.push(pick(rng, HEADER_LINES));
  const version = pick(rng, ['HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1', '']);
  return `${pick(rng, HTTP_METHODS)} ${target} ${version}\r\n${headers.join('\r\n')}\r\nConnection: close\r\n\r\n${rng() < 0.2 ? 'hello' : ''}`;
}

function sendRaw(port: number, text: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(text, 'latin1'));
    let answered = false;
    socket.on('data', () => (answered = true));
    socket.on('error', () => resolve(answered));
    socket.on('close', () => resolve(answered));
    socket.setTimeout(3000, () => socket.destroy());
  });
}

export async function fuzzHttp(url: string, opts: { seed: number; inputs: number }): Promise<SurfaceReport> {
  const rng = mulberry32(opts.seed);
  const port = Number(new URL(url).port);
  let answered = 0;
  const concurrency = 16;
  for (let i = 0; i < opts.inputs; i += concurrency) {
    const batch = Array.from({ length: Math.min(concurrency, opts.inputs - i) }, () => sendRaw(port, httpRequest(rng)));
    answered += (await Promise.all(batch)).filter(Boolean).length;
  }
  return { surface: 'http', inputs: opts.inputs, crashes: 0, heapBeforeMB: 0, heapAfterMB: 0, notes: [`${answered} answered, ${opts.inputs - answered} closed without an answer`] };
}

// ---------------------------------------------------------------------------------------------
// Signalling socket

const VALID_MESSAGES: unknown[] = [
  { type: 'join', room: 'fuzz', name: 'Fuzz' },
  { type: 'join', room: 'fuzz', name: 'Fuzz', secret: 's', mode: 'sfu' },
  { type: 'join', room: 'fuzz', name: 'Fuzz', resume: { peerId: 'AAAAAAAAAAAA', token: 'x'.repeat(32) } },
  { type: 'signal', to: 'AAAAAAAAAAAA', data: { sdp: 'v=0' } },
  { type: 'sfu', id: 1, method: 'create-transport', data: { direction: 'send' } },
  { type: 'leave' },
  { type: 'ping' },
];

function signallingFrame(rng: Rng): string | Buffer {
  const r = rng();
  if (r < 0.1) return Buffer.from(Array.from({ length: int(rng, 200) }, () => int(rng, 256)));
  if (r < 0.2) return Buffer.from(Array.from({ length: int(rng, 200) }, () => int(rng, 256))).toString('latin1');
  if (r < 0.25) return '['.repeat(20_000);
  if (r < 0.3) return JSON.stringify({ type: 'signal', to: 'AAAAAAAAAAAA', data: { x: 'x'.repeat(int(rng, 70_000)) } });
  return JSON.stringify(mutate(rng, pick(rng, VALID_MESSAGES)));
}

/** Opens a socket to the signalling path; resolves once open (or failed). */
function openSocket(url: string): Promise<WebSocket | undefined> {
  return new Promise((resolve) => {
    const socket = new WebSocket(`${url.replace('http', 'ws')}/ws`);
    socket.on('error', () => resolve(undefined));
    socket.once('open', () => resolve(socket));
    socket.once('unexpected-response', () => resolve(undefined));
  });
}

export async function fuzzSignalling(url: string, opts: { seed: number; inputs: number }): Promise<SurfaceReport> {
  const rng = mulberry32(opts.seed);
  // Each socket stays under the server's rate limit (50/s, burst 200): the inputs must reach the
  // validator, not the limiter. Sockets the server closes are replaced.
  const SOCKETS = 24;
  const PER_SOCKET_BURST = 40;
  let replies = 0;
  let closedByServer = 0;
  let sent = 0;
  const sockets: (WebSocket | undefined)[] = await Promise.all(Array.from({ length: SOCKETS }, () => openSocket(url)));
  const watch = (socket: WebSocket | undefined): void => {
    socket?.on('message', () => replies++);
    socket?.on('close', () => closedByServer++);
  };
  sockets.forEach(watch);
  while (sent < opts.inputs) {
    const round = performance.now();
    for (let s = 0; s < SOCKETS && sent < opts.inputs; s++) {
      let socket = sockets[s];
      if (!socket || socket.readyState !== WebSocket.OPEN) {
        socket = await openSocket(url);
        watch(socket);
        sockets[s] = socket;
        if (!socket) continue;
      }
      for (let k = 0; k < PER_SOCKET_BURST && sent < opts.inputs; k++, sent++) socket.send(signallingFrame(rng));
    }
    // 40 messages per socket per second keeps under the sustained rate.
    await sleep(Math.max(0, 1000 - (performance.now() - round)));
  }
  await sleep(500);
  for (const socket of sockets) socket?.terminate();
  return { surface: 'signalling', inputs: sent, crashes: 0, heapBeforeMB: 0, heapAfterMB: 0, notes: [`${replies} replies, ${closedByServer} sockets closed by the server (refusal budget, join timeout, oversize)`] };
}

// ---------------------------------------------------------------------------------------------
// SFU methods

/** A peer in an SFU room speaking the SFU protocol by hand. */
class SfuPeer {
  private nextId = 1;
  private readonly pending = new Map<number, (reply: { ok: boolean; data?: Record<string, unknown>; error?: string }) => void>();

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (raw) => {
      const message = JSON.parse(String(raw)) as { type: string; id?: number; ok?: boolean; data?: Record<string, unknown>; error?: string; message?: string };
      if (message.type === 'sfu-response' && message.id !== undefined) this.pending.get(message.id)?.({ ok: message.ok ?? false, data: message.data, error: message.error });
      // A request the signalling layer refuses (unknown method, data not an object) gets an
      // `error` without the id; requests go one at a time, so it answers the pending one.
      if (message.type === 'error') for (const answer of [...this.pending.values()]) answer({ ok: false, error: message.message });
    });
  }

  static async join(url: string, room: string, name: string): Promise<SfuPeer> {
    const socket = await openSocket(url);
    if (!socket) throw new Error('cannot open the signalling socket');
    const peer = new SfuPeer(socket);
    const welcome = new Promise<void>((resolve, reject) => {
      socket.on('message', (raw) => {
        const message = JSON.parse(String(raw)) as { type: string; message?: string };
        if (message.type === 'welcome') resolve();
        if (message.type === 'error') reject(new Error(message.message));
      });
    });
    socket.send(JSON.stringify({ type: 'join', room, name, mode: 'sfu' }));
    await welcome;
    return peer;
  }

  request(method: string, data: unknown, timeoutMs = 10_000): Promise<{ ok: boolean; data?: Record<string, unknown>; error?: string }> {
    const id = this.nextId++;
    this.socket.send(JSON.stringify({ type: 'sfu', id, method, data }));
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ ok: false, error: 'no answer in time' });
      }, timeoutMs);
      this.pending.set(id, (reply) => {
        clearTimeout(timer);
        this.pending.delete(id);
        resolve(reply);
      });
    });
  }
}

const opusRtpParameters = (ssrc: number) => ({
  mid: '0',
  codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, parameters: { minptime: 10, useinbandfec: 1 }, rtcpFeedback: [{ type: 'transport-cc', parameter: '' }] }],
  headerExtensions: [{ uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 4, encrypt: false, parameters: {} }],
  encodings: [{ ssrc, dtx: true, maxBitrate: 12000 }],
  rtcp: { cname: 'fuzz', reducedSize: true },
});

/** Fuzzing peers working at once (each under its socket's rate limit), spread over rooms. */
const SFU_FUZZERS = 8;
const SFU_ROOMS = 4;

export async function fuzzSfu(url: string, opts: { seed: number; inputs: number }): Promise<SurfaceReport> {
  const outcomes = { ok: 0, refused: 0, unanswered: 0 };
  const witnesses = await Promise.all(Array.from({ length: SFU_ROOMS }, (_, r) => SfuPeer.join(url, `fuzz-sfu-${r}`, 'Witness')));
  for (const w of witnesses) await w.request('router-capabilities', {});
  const share = (i: number): number => Math.floor(opts.inputs / SFU_FUZZERS) + (i < opts.inputs % SFU_FUZZERS ? 1 : 0);
  const sent = await Promise.all(
    Array.from({ length: SFU_FUZZERS }, async (_, i) => {
      const rng = mulberry32(opts.seed * 1000 + i);
      const fuzzer = await SfuPeer.join(url, `fuzz-sfu-${i % SFU_ROOMS}`, `Fuzzer ${i}`);
      const caps = (await fuzzer.request('router-capabilities', {})).data?.rtpCapabilities;
      let transportId = '00000000-0000-0000-0000-000000000000';
      const templates = (): [string, unknown][] => [
        ['router-capabilities', {}],
        ['create-transport', { direction: pick(rng, ['send', 'recv']) }],
        ['connect-transport', { transportId, dtlsParameters: { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: 'AB:'.repeat(31) + 'AB' }] } }],
        ['produce', { transportId, kind: 'audio', rtpParameters: opusRtpParameters(1 + int(rng, 1e6)) }],
        ['produce-data', { transportId, sctpStreamParameters: { streamId: int(rng, 1000), ordered: false, maxRetransmits: 0 }, label: 'frames', protocol: '' }],
        ['close-producer', { producerId: '00000000-0000-0000-0000-000000000000' }],
        ['ready', { rtpCapabilities: caps }],
        ['resume-consumer', { consumerId: '00000000-0000-0000-0000-000000000000' }],
      ];
      let n = 0;
      for (let second = performance.now(); n < share(i); n++) {
        const [method, data] = pick(rng, templates());
        // Mostly mutated, sometimes valid (so that later requests meet real transports and producers).
        const name = rng() < 0.03 ? pick(rng, ['nope', '', '__proto__']) : method;
        const reply = await fuzzer.request(name, rng() < 0.15 ? data : mutate(rng, data));
        if (reply.ok) {
          outcomes.ok++;
          if (method === 'create-transport' && typeof reply.data?.id === 'string') transportId = reply.data.id;
        } else if (reply.error === 'no answer in time') outcomes.unanswered++;
        else outcomes.refused++;
        if (n % 45 === 44) {
          // Stay under the socket's rate limit (50/s), so inputs reach the SFU, not the limiter.
          await sleep(Math.max(0, 1000 - (performance.now() - second)));
          second = performance.now();
        }
      }
      // Leave first: a dropped socket keeps its seat (and transports) for the resume grace period.
      fuzzer.socket.send(JSON.stringify({ type: 'leave' }));
      await sleep(100);
      fuzzer.socket.terminate();
      return n;
    }),
  );
  // The worker must still serve every room: a valid request from each witness succeeds.
  const after = await Promise.all(witnesses.map((w) => w.request('create-transport', { direction: 'recv' })));
  for (const w of witnesses) w.socket.terminate();
  const served = after.filter((r) => r.ok).length;
  const notes = [
    `${outcomes.ok} accepted, ${outcomes.refused} refused, ${outcomes.unanswered} unanswered (${SFU_FUZZERS} peers in ${SFU_ROOMS} rooms on one worker)`,
    `valid requests afterwards: ${served} of ${after.length} served${served < after.length ? ` (${after.find((r) => !r.ok)?.error})` : ''}`,
  ];
  const total = sent.reduce((a, b) => a + b, 0);
  return { surface: 'sfu', inputs: total, crashes: (served < after.length ? 1 : 0) + outcomes.unanswered, heapBeforeMB: 0, heapAfterMB: 0, notes };
}
