import type {
  ClientMessage,
  ErrorCode,
  PeerInfo,
  ResumeTicket,
  RoomMode,
  ServerMessage,
} from '../../protocol/signalling.ts';
import type { SfuMethod, SfuNotification, SfuRequests } from '../../protocol/sfu.ts';
import { Emitter } from '../../codec/emitter.ts';
import { ReconnectPolicy } from './reconnect-policy.ts';

type Welcome = Extract<ServerMessage, { type: 'welcome' }>;

export type SignallingState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface JoinParams {
  room: string;
  name: string;
  secret?: string;
  /** Ask for the SFU even with two people. */
  mode?: RoomMode;
}

const SFU_REQUEST_TIMEOUT_MS = 15_000;

/** Errors after which retrying cannot help: the user has to change something. */
const FATAL_JOIN_ERRORS: ReadonlySet<ErrorCode> = new Set(['wrong-secret', 'room-full', 'bad-message']);

type Events = {
  state: [SignallingState];
  /** `resumed` false means a new identity: every earlier peer connection is void. */
  welcome: [Welcome];
  'peer-joined': [PeerInfo];
  'peer-left': [string];
  signal: [from: string, data: unknown];
  mode: [RoomMode];
  'sfu-notify': [SfuNotification];
  /** The server refused something; `fatal` ones end the session (wrong secret, full room). */
  error: [code: ErrorCode | 'shutdown', message: string, fatal: boolean];
};

/**
 * The browser's end of the signalling socket. Reconnects with backoff after a drop and takes back
 * its seat in the room with the resume ticket, so the P2P media survives a signalling outage.
 */
export class SignallingClient extends Emitter<Events> {
  private socket: WebSocket | undefined;
  private ticket: ResumeTicket | undefined;
  private joined = false;
  private stopped = false;
  private readonly reconnect = new ReconnectPolicy();
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private keepalive: ReturnType<typeof setInterval> | undefined;
  private _state: SignallingState = 'connecting';
  private nextRequestId = 1;
  private readonly pending = new Map<number, { resolve: (data: unknown) => void; reject: (error: Error) => void; timer: ReturnType<typeof setTimeout> }>();

  constructor(
    private readonly url: string,
    private readonly join: JoinParams,
  ) {
    super();
  }

  get state(): SignallingState {
    return this._state;
  }

  get selfId(): string | undefined {
    return this.ticket?.peerId;
  }

  connect(): void {
    if (this.stopped) return;
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.onopen = () => {
      this.reconnect.reset();
      this.sendRaw({ type: 'join', ...this.join, ...(this.ticket ? { resume: this.ticket } : {}) });
    };
    socket.onmessage = (event) => this.onMessage(event.data);
    socket.onclose = () => {
      if (socket !== this.socket) return;
      this.joined = false;
      clearInterval(this.keepalive);
      this.failPending('signalling connection lost');
      if (this.stopped) return this.setState('closed');
      this.setState('reconnecting');
      this.retryTimer = setTimeout(() => this.connect(), this.reconnect.nextDelayMs());
    };
  }

  /** Sends a signal to a peer; dropped (with no error) while reconnecting, as simple-peer re-sends nothing anyway. */
  signal(to: string, data: unknown): boolean {
    if (!this.joined) return false;
    this.sendRaw({ type: 'signal', to, data });
    return true;
  }

  /** One request to the SFU; rejects with the server's reason, on timeout, or when the socket drops. */
  sfuRequest<M extends SfuMethod>(method: M, data: SfuRequests[M]['params']): Promise<SfuRequests[M]['result']> {
    if (!this.joined) return Promise.reject(new Error('not connected to the server'));
    const id = this.nextRequestId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`SFU request ${method} timed out`));
      }, SFU_REQUEST_TIMEOUT_MS);
      // The server answers each method with its result type (protocol/sfu.ts): trusted, like every message of ours.
      this.pending.set(id, { resolve: resolve as (data: unknown) => void, reject, timer });
      this.sendRaw({ type: 'sfu', id, method, data } as ClientMessage);
    });
  }

  private failPending(reason: string): void {
    for (const [id, request] of this.pending) {
      clearTimeout(request.timer);
      request.reject(new Error(reason));
      this.pending.delete(id);
    }
  }

  /** Leaves the room for good. */
  close(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.keepalive);
    this.failPending('left the room');
    if (this.joined) this.sendRaw({ type: 'leave' });
    this.socket?.close(1000, 'left');
    this.setState('closed');
  }

  /** Drops the socket as a network fault would (for tests and for the "reconnect" button). */
  dropConnection(): void {
    this.socket?.close(4000, 'dropped by client');
  }

  private sendRaw(message: ClientMessage): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  private setState(state: SignallingState): void {
    if (state === this._state) return;
    this._state = state;
    this.emit('state', state);
  }

  private onMessage(raw: unknown): void {
    let message: ServerMessage;
    try {
      message = JSON.parse(String(raw)) as ServerMessage;
    } catch {
      return;
    }
    switch (message.type) {
      case 'welcome':
        this.ticket = message.resume;
        this.joined = true;
        this.setState('open');
        clearInterval(this.keepalive);
        this.keepalive = setInterval(() => this.sendRaw({ type: 'ping' }), 15_000);
        this.emit('welcome', message);
        return;
      case 'peer-joined':
        return this.emit('peer-joined', message.peer);
      case 'peer-left':
        return this.emit('peer-left', message.peerId);
      case 'signal':
        return this.emit('signal', message.from, message.data);
      case 'shutdown':
        return this.emit('error', 'shutdown', message.message, false);
      case 'error':
        if (message.code === 'resume-failed') {
          // Our seat expired while we were away: join again as a new peer.
          this.ticket = undefined;
          this.sendRaw({ type: 'join', ...this.join });
          return;
        }
        if (!this.joined && FATAL_JOIN_ERRORS.has(message.code)) {
          this.stopped = true;
          this.emit('error', message.code, message.message, true);
          this.socket?.close(1000, 'refused');
          return;
        }
        return this.emit('error', message.code, message.message, false);
      case 'pong':
        return;
      case 'mode':
        return this.emit('mode', message.mode);
      case 'sfu-response': {
        const request = this.pending.get(message.id);
        if (!request) return;
        this.pending.delete(message.id);
        clearTimeout(request.timer);
        if (message.ok) request.resolve(message.data);
        else request.reject(new Error(message.error));
        return;
      }
      case 'sfu-notify': {
        const { type: _type, ...notification } = message;
        return this.emit('sfu-notify', notification as SfuNotification);
      }
    }
  }
}
