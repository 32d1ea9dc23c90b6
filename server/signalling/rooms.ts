import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { LIMITS, PROTOCOL_VERSION, type ErrorCode, type IceServerConfig, type PeerInfo, type ResumeTicket, type RoomMode, type ServerMessage } from '../../protocol/signalling.ts';

/** Where messages for one peer go: its WebSocket while connected. */
export type PeerSink = (message: ServerMessage) => void;

export interface RoomOptions {
  /** A P2P mesh beyond 4 people overloads uplinks. */
  maxPeers: number;
  /** Room size when the SFU is available (it carries rooms above two people). */
  sfuMaxPeers: number;
  sfuAvailable: boolean;
  /** How long a peer whose socket dropped keeps its place (its P2P media keeps flowing meanwhile). */
  resumeGraceMs: number;
  /** Signals kept for a peer while its socket is down. */
  maxQueuedMessages: number;
  /** People in one room from one address: a single host cannot fill a room with idle seats. */
  maxPeersPerAddress: number;
  /** How long an emptied secured room keeps its secret, so nobody else can take the name over. */
  secretMemoryMs: number;
  /**
   * Signs resume tickets. Kept across restarts (server/session-key.ts), a restarted server takes
   * back the people of a call that went on without it, under their old ids, instead of making
   * them new people whose P2P connections are torn down and rebuilt. Random when absent.
   */
  sessionKey?: Buffer;
  /**
   * How long after start a ticket of an unknown peer is taken back (a restart's people return within
   * seconds); later, such a ticket is of someone who left this server's rooms, and joins afresh.
   */
  restoreWindowMs: number;
}

export const DEFAULT_ROOM_OPTIONS: RoomOptions = {
  maxPeers: 4,
  sfuMaxPeers: 16,
  sfuAvailable: false,
  resumeGraceMs: 15_000,
  maxQueuedMessages: 256,
  maxPeersPerAddress: 8,
  secretMemoryMs: 30 * 60_000,
  restoreWindowMs: 60_000,
};

/** Emptied secured rooms remembered at most; the oldest is forgotten first. */
const MAX_REMEMBERED_SECRETS = 10_000;

/** What the SFU (or anything else) needs to hear about rooms. */
export interface RoomEvents {
  peerLeft?(session: PeerSession): void;
  modeChanged?(room: Room, mode: RoomMode): void;
}

export class PeerSession {
  sink: PeerSink | null;
  /** Messages that arrived while the socket was down, delivered on resume. */
  readonly queued: ServerMessage[] = [];
  graceTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly room: Room,
    /** The resume ticket's token (RoomRegistry.token). */
    readonly token: string,
    sink: PeerSink,
    /** The remote IP address of the socket that joined ('' when unknown, e.g. in tests). */
    readonly address = '',
  ) {
    this.sink = sink;
  }

  get info(): PeerInfo {
    return { id: this.id, name: this.name };
  }

  get ticket(): ResumeTicket {
    return { peerId: this.id, token: this.token };
  }

  deliver(message: ServerMessage, maxQueued: number): void {
    if (this.sink) this.sink(message);
    else if (this.queued.length < maxQueued) this.queued.push(message);
  }
}

export class Room {
  readonly peers = new Map<string, PeerSession>();
  readonly secretHash: Buffer | undefined;
  mode: RoomMode = 'p2p';
  /** Someone asked for the SFU (`?mode=sfu`): the room stays on it while it exists. */
  sfuRequested = false;

  constructor(
    readonly name: string,
    secretHash: Buffer | undefined,
  ) {
    this.secretHash = secretHash;
  }

  get secured(): boolean {
    return this.secretHash !== undefined;
  }

  /** A secret must match exactly: none for an open room, the room's own for a secured one. */
  admits(secret: string | undefined): boolean {
    return secretMatches(this.secretHash, secret);
  }
}

function secretMatches(secretHash: Buffer | undefined, secret: string | undefined): boolean {
  if (secretHash === undefined || secret === undefined) return secretHash === undefined && secret === undefined;
  return timingSafeEqual(secretHash, hashSecret(secret));
}

function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

export type JoinResult =
  | { ok: true; session: PeerSession; welcome: Extract<ServerMessage, { type: 'welcome' }> }
  | { ok: false; code: ErrorCode; message: string };

export interface JoinRequest {
  room: string;
  name: string;
  secret?: string;
  resume?: ResumeTicket;
  mode?: RoomMode;
  /** The joining socket's remote address, for the per-address limit. */
  address?: string;
}

/** All rooms of one server. Pure logic: the WebSocket layer feeds it and delivers what it emits. */
export class RoomRegistry {
  private readonly rooms = new Map<string, Room>();
  private readonly sessionKey: Buffer;
  private readonly restoreUntil: number;
  /** Who left during the restore window: their tickets join afresh (the others dropped them). */
  private readonly departed = new Set<string>();
  /** Secrets of secured rooms that emptied recently, with when they are forgotten (insertion order = age). */
  private readonly rememberedSecrets = new Map<string, { hash: Buffer; until: number }>();

  events: RoomEvents = {};

  constructor(
    private readonly options: RoomOptions = DEFAULT_ROOM_OPTIONS,
    /** The same for everyone, or made per person (a short-lived TURN credential each: server/turn-credentials.ts). */
    private readonly iceServers: IceServerConfig[] | ((peer: PeerInfo) => IceServerConfig[]) = [],
  ) {
    this.sessionKey = options.sessionKey ?? randomBytes(32);
    this.restoreUntil = Date.now() + options.restoreWindowMs;
  }

  /** The most people a room holds: a mesh's limit, or the SFU's when it is there. */
  get maxPeers(): number {
    return this.options.sfuAvailable ? this.options.sfuMaxPeers : this.options.maxPeers;
  }

  join(request: JoinRequest, sink: PeerSink): JoinResult {
    const existing = this.rooms.get(request.room);
    if (existing && !existing.admits(request.secret)) {
      return existing.secured
        ? { ok: false, code: 'wrong-secret', message: 'this room needs the right secret' }
        : { ok: false, code: 'wrong-secret', message: 'this room is open (it has no secret): join without one, or pick another room name for a secured call' };
    }
    const remembered = existing ? undefined : this.rememberedSecret(request.room);
    if (remembered && !secretMatches(remembered, request.secret)) {
      return { ok: false, code: 'wrong-secret', message: 'this room needs the right secret' };
    }
    if (request.resume) {
      const { peerId, token } = request.resume;
      const session = existing?.peers.get(peerId);
      if (session && tokensEqual(session.token, token)) return { ok: true, session: this.resume(session, sink), welcome: this.welcome(session, true) };
      // Not here, but a ticket we signed for this room: the server restarted under a call that went on.
      if (!session && Date.now() < this.restoreUntil && !this.departed.has(peerId) && tokensEqual(this.token(request.room, peerId), token)) return this.restore(request, peerId, sink, existing);
      return { ok: false, code: 'resume-failed', message: 'that session has ended; join afresh' };
    }
    if (existing && existing.peers.size >= this.maxPeers) {
      return { ok: false, code: 'room-full', message: `room is full (${this.maxPeers} people)` };
    }
    const address = request.address ?? '';
    if (existing && address && [...existing.peers.values()].filter((p) => p.address === address).length >= this.options.maxPeersPerAddress) {
      return { ok: false, code: 'room-full', message: `this room already has ${this.options.maxPeersPerAddress} people from your address` };
    }
    const room = existing ?? this.createRoom(request.room, request.secret);
    const name = existing ? distinctName(request.name, existing) : request.name;
    const id = randomBytes(12).toString('base64url');
    const session = new PeerSession(id, name, room, this.token(room.name, id), sink, address);
    // Others hear of the newcomer before the newcomer can send them an offer.
    this.broadcast(room, { type: 'peer-joined', peer: session.info });
    room.peers.set(session.id, session);
    if (request.mode === 'sfu') room.sfuRequested = true;
    const welcome = this.welcome(session, false);
    this.updateMode(room, session);
    welcome.mode = room.mode;
    return { ok: true, session, welcome };
  }

  relay(from: PeerSession, to: string, data: unknown): { code: ErrorCode; message: string } | undefined {
    const target = from.room.peers.get(to);
    if (!target || target === from) return { code: 'unknown-peer', message: `no peer ${to} in this room` };
    target.deliver({ type: 'signal', from: from.id, data }, this.options.maxQueuedMessages);
    return undefined;
  }

  leave(session: PeerSession, reason: 'left' | 'timeout'): void {
    const room = session.room;
    if (room.peers.get(session.id) !== session) return;
    clearTimeout(session.graceTimer);
    session.sink = null;
    room.peers.delete(session.id);
    if (Date.now() < this.restoreUntil) this.departed.add(session.id);
    try {
      this.events.peerLeft?.(session);
    } catch (error) {
      // Runs from a grace timer too, outside any request: a listener's bug must not end the process.
      console.error(`rooms: peerLeft listener failed: ${(error as Error).stack ?? String(error)}`);
    }
    if (room.peers.size === 0) {
      this.rooms.delete(room.name);
      if (room.secretHash) this.rememberSecret(room.name, room.secretHash);
    } else {
      this.broadcast(room, { type: 'peer-left', peerId: session.id, reason });
      this.updateMode(room);
    }
  }

  /** Mesh for two, SFU for more or when asked: tells everyone (but `except`, whose welcome says it) on a change. */
  private updateMode(room: Room, except?: PeerSession): void {
    const mode: RoomMode = this.options.sfuAvailable && (room.sfuRequested || room.peers.size > 2) ? 'sfu' : 'p2p';
    if (mode === room.mode) return;
    room.mode = mode;
    for (const peer of room.peers.values()) if (peer !== except) peer.deliver({ type: 'mode', mode }, this.options.maxQueuedMessages);
    this.events.modeChanged?.(room, mode);
  }

  /** The socket dropped: keep the seat for a while so the tab can resume without tearing down media. */
  detach(session: PeerSession, sink: PeerSink): void {
    if (session.sink !== sink) return; // a newer socket already took over
    session.sink = null;
    clearTimeout(session.graceTimer);
    session.graceTimer = setTimeout(() => this.leave(session, 'timeout'), this.options.resumeGraceMs);
    session.graceTimer.unref?.();
  }

  get size(): { rooms: number; peers: number } {
    let peers = 0;
    for (const room of this.rooms.values()) peers += room.peers.size;
    return { rooms: this.rooms.size, peers };
  }

  room(name: string): Room | undefined {
    return this.rooms.get(name);
  }

  close(): void {
    for (const room of this.rooms.values()) for (const session of room.peers.values()) clearTimeout(session.graceTimer);
    this.rooms.clear();
  }

  private createRoom(name: string, secret: string | undefined): Room {
    const room = new Room(name, secret === undefined ? undefined : hashSecret(secret));
    this.rooms.set(name, room);
    this.rememberedSecrets.delete(name);
    return room;
  }

  private rememberSecret(name: string, hash: Buffer): void {
    this.rememberedSecrets.delete(name);
    this.rememberedSecrets.set(name, { hash, until: Date.now() + this.options.secretMemoryMs });
    if (this.rememberedSecrets.size > MAX_REMEMBERED_SECRETS) this.rememberedSecrets.delete(this.rememberedSecrets.keys().next().value!);
  }

  private rememberedSecret(name: string): Buffer | undefined {
    const entry = this.rememberedSecrets.get(name);
    if (!entry) return undefined;
    if (entry.until > Date.now()) return entry.hash;
    this.rememberedSecrets.delete(name);
    return undefined;
  }

  /** A resume ticket's token: an HMAC of the room and the peer id under the session key. */
  private token(room: string, peerId: string): string {
    return createHmac('sha256', this.sessionKey).update(`${room}\n${peerId}`).digest('base64url');
  }

  /**
   * Seats someone from before a restart under their old id, so that the others, as they come back
   * too, find them where their P2P connections say they are. Room limits apply as to a newcomer.
   */
  private restore(request: JoinRequest, peerId: string, sink: PeerSink, existing: Room | undefined): JoinResult {
    if (existing && existing.peers.size >= this.maxPeers) return { ok: false, code: 'room-full', message: `room is full (${this.maxPeers} people)` };
    const room = existing ?? this.createRoom(request.room, request.secret);
    const name = existing ? distinctName(request.name, existing) : request.name;
    const session = new PeerSession(peerId, name, room, this.token(room.name, peerId), sink, request.address ?? '');
    this.broadcast(room, { type: 'peer-joined', peer: session.info });
    room.peers.set(session.id, session);
    if (request.mode === 'sfu') room.sfuRequested = true;
    const welcome = this.welcome(session, true, true);
    this.updateMode(room, session);
    welcome.mode = room.mode;
    return { ok: true, session, welcome };
  }

  private resume(session: PeerSession, sink: PeerSink): PeerSession {
    clearTimeout(session.graceTimer);
    session.graceTimer = undefined;
    session.sink = sink;
    return session;
  }

  /** Sends queued messages after the welcome, in order. */
  flushQueued(session: PeerSession): void {
    const queued = session.queued.splice(0);
    for (const message of queued) session.deliver(message, this.options.maxQueuedMessages);
  }

  private welcome(session: PeerSession, resumed: boolean, restored = false): Extract<ServerMessage, { type: 'welcome' }> {
    return {
      type: 'welcome',
      protocol: PROTOCOL_VERSION,
      room: session.room.name,
      self: session.info,
      resume: session.ticket,
      resumed,
      restored,
      secured: session.room.secured,
      mode: session.room.mode,
      peers: [...session.room.peers.values()].filter((p) => p !== session).map((p) => p.info),
      maxPeers: this.maxPeers,
      sfu: this.options.sfuAvailable,
      iceServers: typeof this.iceServers === 'function' ? this.iceServers(session.info) : this.iceServers,
    };
  }

  private broadcast(room: Room, message: ServerMessage): void {
    for (const peer of room.peers.values()) peer.deliver(message, this.options.maxQueuedMessages);
  }
}

/** Two people may not look the same in one room: a taken name gets " (2)", " (3)", … */
function distinctName(name: string, room: Room): string {
  const taken = new Set([...room.peers.values()].map((p) => p.name.normalize('NFKC').toLowerCase()));
  if (!taken.has(name.normalize('NFKC').toLowerCase())) return name;
  for (let n = 2; ; n++) {
    const suffix = ` (${n})`;
    const candidate = `${name.slice(0, LIMITS.maxNameLength - suffix.length)}${suffix}`;
    if (!taken.has(candidate.normalize('NFKC').toLowerCase())) return candidate;
  }
}

function tokensEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}
