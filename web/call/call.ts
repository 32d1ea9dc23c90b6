import type { PacketLink, PacketTransport } from '../../codec/transport.ts';
import type { ErrorCode, IceServerConfig, PeerInfo } from '../../server/signalling/protocol.ts';
import { Emitter } from '../../codec/emitter.ts';
import { openLocalMedia } from './local-media.ts';
import type { MediaSettings } from './media-settings.ts';
import { RemotePeer, type PeerState, type WireSignal } from './remote-peer.ts';
import { SignallingClient, type JoinParams, type SignallingState } from './signalling-client.ts';

export interface CallOptions extends JoinParams {
  signallingUrl: string;
  settings: MediaSettings;
}

type Events = {
  /** The people in the room other than us (with or without a working connection). */
  members: [PeerInfo[]];
  /** A new connection to a member: bind its stream, state and stats to the member's tile. */
  peer: [RemotePeer];
  signalling: [SignallingState];
  /** Something the user should read (camera missing, server restarting, …). */
  notice: [string];
  /** The call cannot go on (wrong secret, room full). */
  fatal: [code: ErrorCode, message: string];
  joined: [self: PeerInfo, secured: boolean];
};

/** After a connection fails, the peer with the smaller id calls again after this delay. */
const RECONNECT_DELAY_MS = 1500;
const MAX_PENDING_SIGNALS = 128;

/** A P2P mesh call: signalling, local media, and one RemotePeer per other person. */
export class Call extends Emitter<Events> implements PacketTransport {
  localStream: MediaStream | undefined;
  self: PeerInfo | undefined;
  readonly members = new Map<string, PeerInfo>();
  readonly peers = new Map<string, RemotePeer>();
  private readonly signalling: SignallingClient;
  private readonly pendingSignals = new Map<string, WireSignal[]>();
  private readonly linkListeners = new Set<(link: PacketLink, open: boolean) => void>();
  private iceServers: IceServerConfig[] = [];
  private settings: MediaSettings;
  private localState: PeerState = { muted: false, cameraOff: false };
  private ended = false;

  constructor(private readonly options: CallOptions) {
    super();
    this.settings = options.settings;
    const { room, name, secret } = options;
    this.signalling = new SignallingClient(options.signallingUrl, { room, name, ...(secret ? { secret } : {}) });
    this.signalling.on('state', (state) => this.emit('signalling', state));
    this.signalling.on('welcome', (welcome) => {
      this.self = welcome.self;
      this.iceServers = welcome.iceServers;
      if (!welcome.resumed) this.resetPeers();
      this.members.clear();
      for (const peer of welcome.peers) this.members.set(peer.id, peer);
      for (const id of this.peers.keys()) if (!this.members.has(id)) this.dropPeer(id);
      this.emit('joined', welcome.self, welcome.secured);
      this.emitMembers();
      // A newcomer calls everyone already there; after a resume, we call whoever we lost.
      for (const peer of welcome.peers) if (!this.peers.has(peer.id) && (!welcome.resumed || this.callsFirst(peer.id))) this.connect(peer, true);
    });
    this.signalling.on('peer-joined', (peer) => {
      this.members.set(peer.id, peer);
      this.emitMembers();
    });
    this.signalling.on('peer-left', (peerId) => {
      this.members.delete(peerId);
      this.dropPeer(peerId);
      this.emitMembers();
    });
    this.signalling.on('signal', (from, data) => this.onSignal(from, data));
    this.signalling.on('error', (code, message, fatal) => {
      if (fatal && code !== 'shutdown') {
        this.emit('fatal', code, message);
        this.leave();
      } else this.emit('notice', code === 'shutdown' ? message : `server: ${message}`);
    });
  }

  get signallingState(): SignallingState {
    return this.signalling.state;
  }

  async start(): Promise<void> {
    const media = await openLocalMedia();
    this.localStream = media.stream;
    for (const problem of media.problems) this.emit('notice', `${problem}; the others will see a placeholder`);
    if (!this.ended) this.signalling.connect();
  }

  setMuted(muted: boolean): void {
    for (const track of this.localStream?.getAudioTracks() ?? []) track.enabled = !muted;
    this.updateLocalState({ muted });
  }

  setCameraOff(cameraOff: boolean): void {
    for (const track of this.localStream?.getVideoTracks() ?? []) track.enabled = !cameraOff;
    this.updateLocalState({ cameraOff });
  }

  get state(): PeerState {
    return this.localState;
  }

  get mediaSettings(): MediaSettings {
    return this.settings;
  }

  async updateSettings(settings: MediaSettings): Promise<void> {
    this.settings = settings;
    await Promise.all([...this.peers.values()].map((peer) => peer.updateSettings(settings)));
  }

  leave(): void {
    if (this.ended) return;
    this.ended = true;
    this.signalling.close();
    this.resetPeers();
    for (const track of this.localStream?.getTracks() ?? []) track.stop();
  }

  /** Simulates a network drop of the signalling socket (the call must reconnect by itself). */
  dropSignalling(): void {
    this.signalling.dropConnection();
  }

  // PacketTransport: how the codec reaches the others.
  links(): PacketLink[] {
    return [...this.peers.values()].filter((peer) => peer.isOpen);
  }

  onLinkChange(listener: (link: PacketLink, open: boolean) => void): () => void {
    this.linkListeners.add(listener);
    return () => this.linkListeners.delete(listener);
  }

  private callsFirst(peerId: string): boolean {
    return (this.self?.id ?? '') < peerId;
  }

  private connect(info: PeerInfo, initiator: boolean, connectionId: string = crypto.randomUUID()): RemotePeer | undefined {
    if (!this.localStream || this.ended) return undefined;
    this.peers.get(info.id)?.close();
    const peer = new RemotePeer({
      info,
      connectionId,
      initiator,
      localStream: this.localStream,
      iceServers: this.iceServers,
      settings: this.settings,
      sendSignal: (signal) => this.signalling.signal(info.id, signal),
    });
    this.peers.set(info.id, peer);
    peer.on('connect', () => peer.sendState(this.localState));
    peer.on('link-open', () => this.notifyLink(peer, true));
    peer.on('close', (reason) => {
      if (this.peers.get(info.id) !== peer) return; // replaced by a newer connection
      this.peers.delete(info.id);
      this.notifyLink(peer, false);
      if (this.ended || !this.members.has(info.id)) return;
      this.emit('notice', `connection to ${info.name} lost (${reason}); reconnecting`);
      // Both ends notice the failure; one of them calls again, the other waits for its offer.
      if (this.callsFirst(info.id)) {
        setTimeout(() => {
          const member = this.members.get(info.id);
          if (member && !this.peers.has(info.id)) this.connect(member, true);
        }, RECONNECT_DELAY_MS);
      }
    });
    this.emit('peer', peer);
    for (const signal of this.pendingSignals.get(`${info.id}/${connectionId}`) ?? []) peer.signal(signal.signal);
    this.pendingSignals.delete(`${info.id}/${connectionId}`);
    return peer;
  }

  private onSignal(from: string, data: unknown): void {
    if (!isWireSignal(data)) return;
    const existing = this.peers.get(from);
    if (existing?.connectionId === data.cid) return existing.signal(data.signal);
    if (data.signal.type === 'offer') {
      // A new connection attempt from them replaces whatever we had.
      const info = this.members.get(from) ?? { id: from, name: from };
      this.connect(info, false, data.cid)?.signal(data.signal);
      return;
    }
    // Candidates can overtake the offer's handling; keep them until the connection exists.
    const key = `${from}/${data.cid}`;
    const pending = this.pendingSignals.get(key) ?? [];
    if (pending.length < MAX_PENDING_SIGNALS) pending.push(data);
    this.pendingSignals.set(key, pending);
  }

  private updateLocalState(change: Partial<PeerState>): void {
    this.localState = { ...this.localState, ...change };
    for (const peer of this.peers.values()) peer.sendState(this.localState);
  }

  private notifyLink(peer: RemotePeer, open: boolean): void {
    for (const listener of this.linkListeners) listener(peer, open);
  }

  private dropPeer(peerId: string): void {
    const peer = this.peers.get(peerId);
    this.peers.delete(peerId);
    peer?.close();
    for (const key of this.pendingSignals.keys()) if (key.startsWith(`${peerId}/`)) this.pendingSignals.delete(key);
  }

  private resetPeers(): void {
    for (const id of [...this.peers.keys()]) this.dropPeer(id);
    this.pendingSignals.clear();
  }

  private emitMembers(): void {
    this.emit('members', [...this.members.values()]);
  }
}

function isWireSignal(data: unknown): data is WireSignal {
  if (typeof data !== 'object' || data === null) return false;
  const { cid, signal } = data as { cid?: unknown; signal?: unknown };
  return typeof cid === 'string' && cid.length <= 64 && typeof signal === 'object' && signal !== null;
}

