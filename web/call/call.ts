import { Emitter } from '../../codec/emitter.ts';
import type { PacketLink, PacketTransport } from '../../codec/transport.ts';
import type { ErrorCode, IceServerConfig, PeerInfo, RoomMode } from '../../protocol/signalling.ts';
import { AudioBundleCarrier } from './audio-bundles.ts';
import { openLocalMedia, type MediaProblems } from './local-media.ts';
import type { MediaSettings } from './media-settings.ts';
import { DEFAULT_PEER_STATE, toSnapshot, type PeerState, type RemoteParticipant } from './participant.ts';
import { PendingSignals } from './pending-signals.ts';
import { RemotePeer, type WireSignal } from './remote-peer.ts';
import { SfuSession } from './sfu-session.ts';
import { SignallingClient, type JoinParams, type SignallingState } from './signalling-client.ts';
import type { StatsSnapshot } from '../stats/peer-stats.ts';
import { parseVideoModeState, type VideoModeState } from './video-mode.ts';
import { ReconnectPolicy } from './reconnect-policy.ts';

/** One connection's getStats(), for the call's wire totals and the link estimate. */
export interface ConnectionStats {
  /** Stable while the connection lives (peer + connection id, or the SFU transport). */
  key: string;
  snapshot: StatsSnapshot;
  /** Carries what we send (P2P connections, the SFU's send transport): its estimate is our link's. */
  sendsOurMedia: boolean;
}

export interface CallOptions extends JoinParams {
  signallingUrl: string;
  settings: MediaSettings;
  /**
   * Whether the standard video goes out from the first connection (default yes), until the video
   * mode says otherwise: in kiloface mode (and auto, which starts on kiloface) not one packet of
   * it may leave, not even before the page's mode controller exists.
   */
  sendStandardVideo?: boolean;
}

type Events = {
  /** The people in the room other than us (with or without a working connection). */
  members: [PeerInfo[]];
  /** A new connection to a member (P2P or through the SFU): bind its stream and stats to their tile. */
  participant: [RemoteParticipant];
  /** A member's mute / camera state. */
  'peer-state': [peerId: string, state: PeerState];
  mode: [RoomMode];
  signalling: [SignallingState];
  /** Something the user should read (server restarting, connection lost, …). */
  notice: [string];
  /** The call cannot go on (wrong secret, room full). */
  fatal: [code: ErrorCode, message: string];
  /** The call ended (left, or fatal): whatever rides on it (the neural stream, the mode controller) closes now. */
  closed: [];
  joined: [self: PeerInfo, secured: boolean];
};


/** After the server restarted, how long a connection to someone not yet back is kept (they reconnect within seconds). */
const RESTORE_GRACE_MS = 30_000;

/** What travels through the signalling relay between two browsers. */
type RelayMessage = WireSignal | { state: PeerState };

/**
 * A call: signalling, local media, and the others, either as a P2P mesh (one RemotePeer each)
 * or through the SFU (one SfuSession); the server says which, and the call switches in place.
 */
export class Call extends Emitter<Events> implements PacketTransport {
  localStream: MediaStream | undefined;
  /** The camera and microphone that could not be opened (set by start()). */
  mediaProblems: MediaProblems = {};
  self: PeerInfo | undefined;
  mode: RoomMode = 'p2p';
  readonly members = new Map<string, PeerInfo>();
  /** P2P connections by peer id. */
  readonly peers = new Map<string, RemotePeer>();
  private sfu: SfuSession | undefined;
  private readonly signalling: SignallingClient;
  private readonly pendingSignals = new PendingSignals();
  private readonly linkListeners = new Set<(link: PacketLink, open: boolean) => void>();
  /** When to call a P2P peer again (per person), and to rebuild the SFU session, after a drop. */
  private readonly peerReconnects = new Map<string, ReconnectPolicy>();
  private readonly sfuReconnect = new ReconnectPolicy();
  private serverHasSfu = true;
  /** After a server restart: people we still hold a connection to who have not rejoined yet. */
  private awaitingReturn = new Set<string>();
  private meshNoticed = false;
  private readonly openLinks = new Set<PacketLink>();
  private iceServers: IceServerConfig[] = [];
  private settings: MediaSettings;
  /** A lower video cap than the user's, while auto tries standard video (kbit/s). */
  private videoCapLimitKbps: number | undefined;
  private localState: PeerState = DEFAULT_PEER_STATE;
  /** Where the browser has encoded transforms: kiloface bundles ride on P2P audio. */
  private readonly audioBundles = AudioBundleCarrier.forPage();
  /** Who said they strip bundles from their audio (peer state comes before or after the connection). */
  private readonly stripsAudioBundles = new Set<string>();
  /** The video mode wants the standard video track sent (camera off overrides it). */
  private standardVideoWanted: boolean;
  private ended = false;

  constructor(private readonly options: CallOptions) {
    super();
    this.settings = options.settings;
    this.standardVideoWanted = options.sendStandardVideo ?? true;
    if (this.audioBundles) this.localState = { ...this.localState, stripsAudioBundles: true };
    const { room, name, secret, mode } = options;
    this.signalling = new SignallingClient(options.signallingUrl, { room, name, ...(secret ? { secret } : {}), ...(mode ? { mode } : {}) });
    this.signalling.on('state', (state) => this.emit('signalling', state));
    this.signalling.on('welcome', (welcome) => {
      this.self = welcome.self;
      this.iceServers = welcome.iceServers;
      if (!welcome.resumed) this.resetPeers();
      // After a server restart the others come back one by one: those we are still connected to
      // stay members (their tiles and streams untouched) until they are back or the grace ends.
      const returning = welcome.restored ? [...this.members.values()].filter((m) => this.peers.has(m.id) && !welcome.peers.some((p) => p.id === m.id)) : [];
      this.members.clear();
      for (const peer of [...returning, ...welcome.peers]) this.members.set(peer.id, peer);
      this.awaitingReturn = new Set(returning.map((m) => m.id));
      if (returning.length > 0) setTimeout(() => this.forgetUnreturned(), RESTORE_GRACE_MS);
      this.dropPeersNotInRoom();
      this.serverHasSfu = welcome.sfu;
      this.emit('joined', welcome.self, welcome.secured);
      this.emitMembers();
      this.noticeMeshWithoutSfu();
      for (const peer of welcome.peers) this.sendState(peer.id);
      if (welcome.resumed && welcome.mode === this.mode) {
        // Back after a signalling outage: call whoever we lost (P2P); the SFU session survived.
        if (this.mode === 'p2p') for (const peer of welcome.peers) if (!this.peers.has(peer.id) && this.callsFirst(peer.id)) this.connect(peer, true);
        return;
      }
      this.enterMode(welcome.mode, true);
    });
    this.signalling.on('mode', (mode) => this.enterMode(mode, false));
    this.signalling.on('peer-joined', (peer) => {
      this.awaitingReturn.delete(peer.id);
      this.members.set(peer.id, peer);
      this.emitMembers();
      this.noticeMeshWithoutSfu();
      this.sendState(peer.id);
    });
    this.signalling.on('peer-left', (peerId) => {
      this.members.delete(peerId);
      this.stripsAudioBundles.delete(peerId);
      this.dropPeer(peerId);
      this.sfu?.removeParticipant(peerId);
      this.emitMembers();
    });
    this.signalling.on('signal', (from, data) => this.onRelay(from, data));
    this.signalling.on('sfu-notify', (notification) => this.sfu?.onNotification(notification));
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
    this.mediaProblems = media.problems;
    // Without a camera we send no video (the others see "camera off"); without a microphone we
    // show as muted. The call view tells the user which and how to allow it.
    if (media.problems.camera) this.setCameraOff(true);
    if (media.problems.microphone) this.setMuted(true);
    if (!this.ended) this.signalling.connect();
  }

  setMuted(muted: boolean): void {
    for (const track of this.localStream?.getAudioTracks() ?? []) track.enabled = !muted;
    this.updateLocalState({ muted });
  }

  /** Camera off sends nothing at all: no track on the video sender (not black frames). */
  setCameraOff(cameraOff: boolean): void {
    for (const track of this.localStream?.getVideoTracks() ?? []) track.enabled = !cameraOff;
    this.updateLocalState({ cameraOff });
    this.applyVideoSending();
  }

  /** Whether the standard video track goes out (the video mode's choice); camera off still wins. */
  setStandardVideo(wanted: boolean): void {
    this.standardVideoWanted = wanted;
    this.applyVideoSending();
  }

  get sendsStandardVideo(): boolean {
    return this.standardVideoWanted && !this.localState.cameraOff;
  }

  /** Tells the others which video we send and why (with mute and camera state). */
  setVideoState(video: VideoModeState): void {
    this.updateLocalState({ video });
  }

  /** getStats() of every connection of the call, in the current mode. */
  async connectionStats(): Promise<ConnectionStats[]> {
    if (this.mode === 'sfu') return (await this.sfu?.transportStats()) ?? [];
    const out: ConnectionStats[] = [];
    for (const peer of this.peers.values()) {
      if (peer.pc.connectionState === 'closed') continue;
      try {
        out.push({ key: `${peer.peerId}/${peer.connectionId}`, snapshot: toSnapshot(await peer.pc.getStats()), sendsOurMedia: true });
      } catch {
        // closed while we asked
      }
    }
    return out;
  }

  private applyVideoSending(): void {
    const on = this.sendsStandardVideo;
    for (const peer of this.peers.values()) void peer.setVideoSending(on);
    void this.sfu?.setVideoSending(on);
  }

  get state(): PeerState {
    return this.localState;
  }

  /** Frame bundles carried in our SFU audio, fallen back to the datachannel, and taken out of others' (for the page's tests and tools). */
  get sfuAudioBundleCounts(): { sent: number; sentBytes: number; fallback: number; received: number } | undefined {
    return this.sfu?.audioBundleCounts;
  }

  get mediaSettings(): MediaSettings {
    return this.settings;
  }

  async updateSettings(settings: MediaSettings): Promise<void> {
    this.settings = settings;
    await this.applySettings();
  }

  /** Holds the standard video below the user's cap (auto's trial), or lifts the hold (undefined). */
  async setVideoCapLimit(kbps: number | undefined): Promise<void> {
    if (kbps === this.videoCapLimitKbps) return;
    this.videoCapLimitKbps = kbps;
    await this.applySettings();
  }

  /** What the connections get: the user's settings under the cap limit. */
  private get connectionSettings(): MediaSettings {
    const limit = this.videoCapLimitKbps;
    return limit === undefined ? this.settings : { ...this.settings, videoCapKbps: Math.min(this.settings.videoCapKbps, limit) };
  }

  private async applySettings(): Promise<void> {
    const settings = this.connectionSettings;
    await Promise.all([...this.peers.values()].map((peer) => peer.updateSettings(settings)));
    await this.sfu?.updateSettings(settings);
  }

  leave(): void {
    if (this.ended) return;
    this.ended = true;
    this.signalling.close();
    this.resetPeers();
    this.sfu?.close();
    for (const track of this.localStream?.getTracks() ?? []) track.stop();
    this.emit('closed');
  }

  get closed(): boolean {
    return this.ended;
  }

  /** Simulates a network drop of the signalling socket (the call must reconnect by itself). */
  dropSignalling(): void {
    this.signalling.dropConnection();
  }

  /** The people we are connected to, in the current mode. */
  participants(): RemoteParticipant[] {
    return this.mode === 'sfu' ? [...(this.sfu?.participants.values() ?? [])] : [...this.peers.values()];
  }

  // PacketTransport: how the codec reaches the others.
  links(): PacketLink[] {
    return this.participants().filter((p) => p.isOpen);
  }

  broadcast(channel: 'frames' | 'control', packet: Uint8Array): number {
    if (this.mode === 'sfu') return this.sfu?.broadcast(channel, packet) ?? 0;
    return this.links().filter((link) => link.send(channel, packet)).length;
  }

  /** The SFU keeps each sender's latest reference for newcomers (server/sfu/control-relay.ts). */
  get relayKeepsReferences(): boolean {
    return this.mode === 'sfu';
  }

  onLinkChange(listener: (link: PacketLink, open: boolean) => void): () => void {
    this.linkListeners.add(listener);
    return () => this.linkListeners.delete(listener);
  }

  private enterMode(mode: RoomMode, initial: boolean): void {
    if (!initial && mode === this.mode) return;
    this.mode = mode;
    this.emit('mode', mode);
    this.resetPeers();
    this.sfu?.close();
    this.sfu = undefined;
    if (mode === 'sfu') return void this.startSfu();
    // P2P: a newcomer calls everyone; after a switch from the SFU, the smaller id of each pair calls.
    for (const peer of this.members.values()) if (initial || this.callsFirst(peer.id)) this.connect(peer, true);
  }

  private async startSfu(): Promise<void> {
    if (!this.localStream || this.ended) return;
    const session = new SfuSession(
      (method, data) => this.signalling.sfuRequest(method, data),
      this.localStream,
      this.connectionSettings,
      this.iceServers,
      (peerId) => this.members.get(peerId),
      this.sendsStandardVideo,
      this.audioBundles && { carrier: this.audioBundles, everyoneStrips: () => [...this.members.keys()].every((id) => this.stripsAudioBundles.has(id)) },
    );
    this.sfu = session;
    session.on('participant', (participant) => this.adopt(participant));
    session.on('failed', (reason) => {
      if (this.sfu !== session) return;
      this.emit('notice', `${reason}`);
      session.close(reason);
      this.sfu = undefined;
      setTimeout(() => {
        if (this.mode === 'sfu' && !this.sfu && !this.ended) void this.startSfu();
      }, this.sfuReconnect.nextDelayMs());
    });
    try {
      await session.start();
      if (this.sfu === session) this.sfuReconnect.reset();
    } catch (error) {
      if (this.sfu === session) session.emit('failed', `could not join the SFU: ${(error as Error).message}`);
    }
  }

  private callsFirst(peerId: string): boolean {
    return (this.self?.id ?? '') < peerId;
  }

  /** Wires a new participant into the link listeners and the UI. */
  private adopt(participant: RemoteParticipant): void {
    participant.on('link-open', () => this.notifyLink(participant, true));
    participant.on('close', () => this.notifyLink(participant, false));
    this.emit('participant', participant);
  }

  private connect(info: PeerInfo, initiator: boolean, connectionId: string = crypto.randomUUID()): RemotePeer | undefined {
    if (!this.localStream || this.ended || this.mode !== 'p2p') return undefined;
    this.peers.get(info.id)?.close();
    const peer = new RemotePeer({
      info,
      connectionId,
      initiator,
      localStream: this.localStream,
      iceServers: this.iceServers,
      settings: this.connectionSettings,
      sendVideo: this.sendsStandardVideo,
      audioBundles: this.audioBundles,
      sendSignal: (signal) => this.signalling.signal(info.id, signal),
    });
    peer.setRemoteStripsAudio(this.stripsAudioBundles.has(info.id));
    this.peers.set(info.id, peer);
    peer.on('close', (reason) => {
      if (this.peers.get(info.id) !== peer) return; // replaced by a newer connection
      this.peers.delete(info.id);
      if (this.ended || this.mode !== 'p2p' || !this.members.has(info.id)) return;
      this.emit('notice', `connection to ${info.name} lost (${reason}); reconnecting`);
      // Both ends notice the failure; one of them calls again, the other waits for its offer.
      if (this.callsFirst(info.id)) {
        setTimeout(() => {
          const member = this.members.get(info.id);
          if (member && !this.peers.has(info.id)) this.connect(member, true);
        }, this.peerReconnect(info.id).nextDelayMs());
      }
    });
    peer.on('connect', () => this.peerReconnect(info.id).reset());
    this.adopt(peer);
    for (const signal of this.pendingSignals.take(info.id, connectionId)) peer.signal(signal.signal);
    return peer;
  }

  private onRelay(from: string, data: unknown): void {
    const message = parseRelay(data);
    if (!message) return;
    if ('state' in message) {
      if (message.state.stripsAudioBundles) this.stripsAudioBundles.add(from);
      else this.stripsAudioBundles.delete(from);
      this.peers.get(from)?.setRemoteStripsAudio(message.state.stripsAudioBundles === true);
      return this.emit('peer-state', from, message.state);
    }
    if (this.mode !== 'p2p') return;
    const existing = this.peers.get(from);
    if (existing?.connectionId === message.cid) return existing.signal(message.signal);
    if (message.signal.type === 'offer') {
      // A new connection attempt from them replaces whatever we had.
      const info = this.members.get(from) ?? { id: from, name: from };
      this.connect(info, false, message.cid)?.signal(message.signal);
      return;
    }
    // Candidates can overtake the offer's handling; keep them until the connection exists.
    this.pendingSignals.add(from, message);
  }

  private sendState(peerId: string): void {
    this.signalling.signal(peerId, { state: this.localState } satisfies RelayMessage);
  }

  private updateLocalState(change: Partial<PeerState>): void {
    this.localState = { ...this.localState, ...change };
    for (const id of this.members.keys()) this.sendState(id);
  }

  private notifyLink(link: PacketLink, open: boolean): void {
    // Participants say 'link-open' once per channel that opens; listeners hear each change once
    // (a listener that subscribed on every event got every packet two to four times).
    if (open === this.openLinks.has(link)) return;
    if (open) this.openLinks.add(link);
    else this.openLinks.delete(link);
    for (const listener of this.linkListeners) listener(link, open);
  }

  /** Three or more people on a server without its SFU: everyone sends to everyone; say so, once. */
  private noticeMeshWithoutSfu(): void {
    if (this.serverHasSfu || this.meshNoticed || this.members.size < 2) return;
    this.meshNoticed = true;
    this.emit(
      'notice',
      `this server runs without its SFU, so with ${this.members.size + 1} people each of you sends to everyone (more upload per person); ` +
        'whoever runs the server can add it with `npm run build:mediasoup-worker`',
    );
  }

  /** The grace after a restart is over: whoever has not come back has left. */
  private forgetUnreturned(): void {
    if (this.awaitingReturn.size === 0) return;
    for (const id of this.awaitingReturn) {
      this.members.delete(id);
      this.dropPeer(id);
    }
    this.awaitingReturn.clear();
    this.emitMembers();
  }

  private dropPeersNotInRoom(): void {
    for (const id of [...this.peers.keys()]) if (!this.members.has(id)) this.dropPeer(id);
  }

  private peerReconnect(peerId: string): ReconnectPolicy {
    let policy = this.peerReconnects.get(peerId);
    if (!policy) this.peerReconnects.set(peerId, (policy = new ReconnectPolicy()));
    return policy;
  }

  private dropPeer(peerId: string): void {
    const peer = this.peers.get(peerId);
    this.peers.delete(peerId);
    this.peerReconnects.delete(peerId);
    peer?.close();
    this.pendingSignals.dropPeer(peerId);
  }

  private resetPeers(): void {
    for (const id of [...this.peers.keys()]) this.dropPeer(id);
    this.pendingSignals.clear();
  }

  private emitMembers(): void {
    this.emit('members', [...this.members.values()]);
  }
}

function parseRelay(data: unknown): RelayMessage | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const { cid, signal, state } = data as { cid?: unknown; signal?: unknown; state?: unknown };
  if (typeof state === 'object' && state !== null) {
    const s = state as Partial<Record<keyof PeerState, unknown>>;
    const video = parseVideoModeState(s.video);
    const strips = s.stripsAudioBundles === true ? { stripsAudioBundles: true } : {};
    return { state: { muted: s.muted === true, cameraOff: s.cameraOff === true, ...(video ? { video } : {}), ...strips } };
  }
  if (typeof cid === 'string' && cid.length <= 64 && typeof signal === 'object' && signal !== null) return data as WireSignal;
  return undefined;
}
