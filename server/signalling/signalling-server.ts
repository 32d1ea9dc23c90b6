import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { LIMITS, type ErrorCode, type ServerMessage } from '../../protocol/signalling.ts';
import { RateLimiter } from './rate-limiter.ts';
import { RoomRegistry, type PeerSession, type PeerSink } from './rooms.ts';
import { validateClientMessage } from './validate.ts';
import type { SfuService } from '../sfu/sfu-service.ts';

export interface SignallingOptions {
  /** Sustained messages per second per socket, and the burst allowed on top. */
  messagesPerSecond: number;
  messageBurst: number;
  /** A socket is closed once it earns more than this many refusals within a minute. */
  maxRefusals: number;
  heartbeatMs: number;
  /** A socket that has not joined a room by then is closed (idle sockets cost a file descriptor each). */
  joinTimeoutMs: number;
  /** Open sockets per remote address, and in all: beyond them the upgrade gets 503. */
  maxConnectionsPerAddress: number;
  maxConnections: number;
  /** A reader this far behind (bytes queued in the socket) is disconnected: it may resume later. */
  maxBufferedBytes: number;
  /**
   * Page origins allowed to open the socket besides the server's own (browsers always send
   * Origin; other sites must not drive joins from a visitor's browser). Clients without an
   * Origin header (not browsers) are allowed.
   */
  allowedOrigins: readonly string[];
  log: (line: string) => void;
}

/** The numeric limits of SignallingOptions. */
export type SignallingLimits = Omit<SignallingOptions, 'allowedOrigins' | 'log'>;

export const DEFAULT_SIGNALLING_OPTIONS: SignallingOptions = {
  messagesPerSecond: 50,
  messageBurst: 200,
  maxRefusals: 100,
  heartbeatMs: 20_000,
  joinTimeoutMs: 10_000,
  // Generous: people behind one NAT (an office, a campus, a carrier's CGNAT) share an address.
  maxConnectionsPerAddress: 64,
  maxConnections: 10_000,
  // 16 signals of the largest size: a burst of ICE candidates and an SDP never come near it.
  maxBufferedBytes: 16 * LIMITS.maxMessageBytes,
  allowedOrigins: [],
  log: (line) => console.log(line),
};

/** One WebSocket connection: parses, validates, rate-limits, and hands valid messages to the rooms. */
class Connection {
  private session: PeerSession | undefined;
  private readonly limiter: RateLimiter;
  /** Refusals allowed: maxRefusals at once, refilled over a minute, so an old mistake is forgiven. */
  private readonly refusalBudget: RateLimiter;
  private lastRateLimitReply = -Infinity;
  private readonly joinTimer: ReturnType<typeof setTimeout>;
  alive = true;
  readonly sink: PeerSink = (message) => this.send(message);

  constructor(
    private readonly socket: WebSocket,
    readonly address: string,
    private readonly rooms: RoomRegistry,
    private readonly options: SignallingOptions,
    private readonly sfu: () => SfuService | undefined,
  ) {
    this.limiter = new RateLimiter(options.messagesPerSecond, options.messageBurst);
    this.refusalBudget = new RateLimiter(options.maxRefusals / 60, options.maxRefusals);
    this.joinTimer = setTimeout(() => {
      if (!this.session) this.socket.close(1008, `join a room within ${Math.round(options.joinTimeoutMs / 1000)} s`);
    }, options.joinTimeoutMs);
    this.joinTimer.unref();
    socket.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    socket.on('pong', () => (this.alive = true));
    socket.on('close', () => this.onClose());
    socket.on('error', (error) => options.log(`signalling: socket error: ${error.message}`));
  }

  send(message: ServerMessage): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    // A reader that stopped reading must not make the server buffer what others send it.
    if (this.socket.bufferedAmount > this.options.maxBufferedBytes) {
      this.options.log(`signalling: disconnecting a slow reader (${this.socket.bufferedAmount} bytes queued)`);
      this.socket.terminate();
      return;
    }
    this.socket.send(JSON.stringify(message));
  }

  terminate(): void {
    this.socket.terminate();
  }

  ping(): void {
    this.alive = false;
    this.socket.ping();
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }

  private refuse(code: ErrorCode, message: string): void {
    if (!this.refusalBudget.take()) {
      this.socket.close(1008, 'too many invalid or excess messages');
      return;
    }
    this.send({ type: 'error', code, message });
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    try {
      if (!this.limiter.take()) {
        // Reply at most once a second: a flood must not turn into a flood of replies.
        const now = performance.now();
        if (now - this.lastRateLimitReply > 1000) {
          this.lastRateLimitReply = now;
          this.refuse('rate-limited', `more than ${this.options.messagesPerSecond} messages per second`);
        } else if (!this.refusalBudget.take()) {
          this.socket.close(1008, 'too many invalid or excess messages');
        }
        return;
      }
      if (isBinary) return this.refuse('bad-message', 'send JSON text frames, not binary');
      const validated = validateClientMessage(rawToString(data));
      if (!validated.ok) return this.refuse(validated.code, validated.message);
      const message = validated.message;
      switch (message.type) {
        case 'join': {
          if (this.session) return this.refuse('already-joined', `already in room ${this.session.room.name}`);
          const result = this.rooms.join({ ...message, address: this.address }, this.sink);
          if (!result.ok) return this.refuse(result.code, result.message);
          this.session = result.session;
          this.send(result.welcome);
          this.rooms.flushQueued(result.session);
          this.options.log(
            `signalling: ${result.welcome.resumed ? 'resumed' : 'joined'} room=${message.room} peer=${result.session.id}`,
          );
          return;
        }
        case 'signal': {
          if (!this.session) return this.refuse('not-joined', 'join a room first');
          const error = this.rooms.relay(this.session, message.to, message.data);
          if (error) this.refuse(error.code, error.message);
          return;
        }
        case 'leave': {
          if (!this.session) return this.refuse('not-joined', 'join a room first');
          this.rooms.leave(this.session, 'left');
          this.session = undefined;
          return;
        }
        case 'ping':
          return this.send({ type: 'pong' });
        case 'sfu': {
          if (!this.session) return this.refuse('not-joined', 'join a room first');
          const sfu = this.sfu();
          if (!sfu) return this.send({ type: 'sfu-response', id: message.id, ok: false, error: 'this server runs without an SFU' });
          void sfu.handle(this.session, message.id, message.method, message.data).then((response) => this.send(response));
          return;
        }
      }
    } catch (error) {
      // A bug here must cost one reply, never the process or the other rooms.
      this.options.log(`signalling: internal error: ${(error as Error).stack ?? String(error)}`);
      this.send({ type: 'error', code: 'bad-message', message: 'internal error handling that message' });
    }
  }

  private onClose(): void {
    clearTimeout(this.joinTimer);
    if (this.session) this.rooms.detach(this.session, this.sink);
    this.session = undefined;
  }
}

/** The peer's IP address; IPv4-mapped IPv6 addresses count as their IPv4 form. */
export function remoteAddress(request: IncomingMessage): string {
  return (request.socket.remoteAddress ?? 'unknown').replace(/^::ffff:/, '');
}

/** The page's own origin (same host as the request) or one the operator listed. */
export function originAllowed(origin: string, host: string | undefined, allowed: readonly string[]): boolean {
  if (allowed.includes(origin)) return true;
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && host !== undefined && url.host === host.toLowerCase();
  } catch {
    return false;
  }
}

function rawToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

/** WebSocket signalling on one path of an HTTP(S) server. */
export class SignallingServer {
  readonly rooms: RoomRegistry;
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<Connection>();
  private readonly perAddress = new Map<string, number>();
  private readonly heartbeat: ReturnType<typeof setInterval>;
  /** Set when the SFU is running; `sfu` requests are refused without it. */
  sfu: SfuService | undefined;

  constructor(
    rooms: RoomRegistry,
    private readonly options: SignallingOptions = DEFAULT_SIGNALLING_OPTIONS,
  ) {
    this.rooms = rooms;
    // The hard cap sits above the protocol limit so an oversize message gets a readable error
    // instead of a bare close; anything larger still closes the socket (ws code 1009).
    this.wss = new WebSocketServer({ noServer: true, maxPayload: LIMITS.maxMessageBytes * 4 });
    this.wss.on('connection', (socket, request: IncomingMessage) => {
      const address = remoteAddress(request);
      const connection = new Connection(socket, address, this.rooms, this.options, () => this.sfu);
      this.connections.add(connection);
      this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
      socket.on('close', () => {
        this.connections.delete(connection);
        const left = (this.perAddress.get(address) ?? 1) - 1;
        if (left > 0) this.perAddress.set(address, left);
        else this.perAddress.delete(address);
      });
    });
    // Dead sockets (laptop lid closed, NAT timeout) never send a close; ping finds them.
    this.heartbeat = setInterval(() => {
      for (const connection of this.connections) {
        if (!connection.alive) connection.terminate();
        else connection.ping();
      }
    }, options.heartbeatMs);
    this.heartbeat.unref();
  }

  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const refusal = this.upgradeRefusal(request);
    if (refusal) {
      socket.end(`HTTP/1.1 ${refusal.status}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n${refusal.reason}\n`);
      return;
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => this.wss.emit('connection', ws, request));
  }

  /** Why a socket may not open, as an HTTP status line and a sentence; undefined when it may. */
  private upgradeRefusal(request: IncomingMessage): { status: string; reason: string } | undefined {
    const origin = request.headers.origin;
    if (origin !== undefined && !originAllowed(origin, request.headers.host, this.options.allowedOrigins)) {
      return { status: '403 Forbidden', reason: `origin ${origin.slice(0, 100)} may not use this server's signalling` };
    }
    if (this.connections.size >= this.options.maxConnections) return { status: '503 Service Unavailable', reason: 'the server is full; try again later' };
    if ((this.perAddress.get(remoteAddress(request)) ?? 0) >= this.options.maxConnectionsPerAddress) {
      return { status: '503 Service Unavailable', reason: `too many connections from your address (${this.options.maxConnectionsPerAddress})` };
    }
    return undefined;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Tells every client the server is going away, then closes the sockets. */
  async close(message: string): Promise<void> {
    clearInterval(this.heartbeat);
    for (const connection of this.connections) {
      connection.send({ type: 'shutdown', message });
      connection.close(1001, 'server shutting down');
    }
    this.rooms.close();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
