import type { RoomMode, ServerMessage } from '../../protocol/signalling.ts';
import type { SfuMethod, SfuNotification, SfuRequests } from '../../protocol/sfu.ts';
import type { PeerSession, Room, RoomRegistry } from '../signalling/rooms.ts';
import { SfuRequestError, parseSfuParams, type SfuParams } from './sfu-requests.ts';
import { SfuRoom, type SfuPeer } from './sfu-room.ts';
import { WorkerPool } from './worker-pool.ts';

export interface SfuOptions {
  workers: number;
  /** See SfuRoomOptions. */
  transportConnectTimeoutMs: number;
  maxTransportsPerAddress: number;
  listenIp: string;
  announcedAddress?: string;
  peersPerRouter: number;
  rtcMinPort: number;
  rtcMaxPort: number;
  log: (line: string) => void;
}

type SfuResponse = Extract<ServerMessage, { type: 'sfu-response' }>;

/** What mediasoup says once a failed serialisation has left a worker channel's builder unusable. */
const CHANNEL_BROKEN = /FlatBuffers: object serialization must not be nested/;

/** The methods of a peer that already has its SFU session (`router-capabilities` creates it). */
type Result<M extends SfuMethod> = SfuRequests[M]['result'] | Promise<SfuRequests[M]['result']>;

const PEER_HANDLERS: { [M in Exclude<SfuMethod, 'router-capabilities'>]: (room: SfuRoom, peer: SfuPeer, params: SfuParams[M]) => Result<M> } = {
  'create-transport': (room, peer, params) => room.createTransport(peer, params),
  'connect-transport': (room, peer, params) => room.connectTransport(peer, params),
  produce: (room, peer, params) => room.produce(peer, params),
  'produce-data': (room, peer, params) => room.produceData(peer, params),
  'close-producer': (room, peer, params) => room.closeProducer(peer, params),
  ready: (room, peer, params) => room.ready(peer, params),
  'resume-consumer': (room, peer, params) => room.resumeConsumer(peer, params),
};

/**
 * The SFU side of the signalling server: answers the browsers' `sfu` requests, keeps one SfuRoom
 * per room in SFU mode, and rebuilds rooms whose worker died (the browsers are told to reconnect
 * their SFU session, and land on a live worker).
 */
export class SfuService {
  readonly rooms = new Map<string, SfuRoom>();
  /** Serialises each room's requests: mediasoup calls are async and the room's state is shared. */
  private readonly queues = new Map<string, Promise<unknown>>();

  private constructor(
    readonly pool: WorkerPool,
    private readonly options: SfuOptions,
  ) {
    pool.on('died', (slot) => this.onWorkerDied(slot));
  }

  static async start(options: SfuOptions): Promise<SfuService> {
    const pool = await WorkerPool.start({ size: options.workers, rtcMinPort: options.rtcMinPort, rtcMaxPort: options.rtcMaxPort, log: options.log });
    return new SfuService(pool, options);
  }

  /** Follows the rooms: peers leaving, rooms going back to P2P. */
  attach(registry: RoomRegistry): void {
    registry.events = {
      peerLeft: (session) => this.peerLeft(session),
      modeChanged: (room, mode) => this.modeChanged(room, mode),
    };
  }

  handle(session: PeerSession, id: number, method: SfuMethod, data: Record<string, unknown>): Promise<SfuResponse> {
    const roomName = session.room.name;
    const previous = this.queues.get(roomName) ?? Promise.resolve();
    const run = previous.then(() => this.dispatch(session, method, data));
    const settled = run.then(
      (result): SfuResponse => ({ type: 'sfu-response', id, ok: true, data: result ?? {} }),
      (error: Error): SfuResponse => {
        // mediasoup rejects malformed parameters with TypeError: that is the client's fault, not ours.
        if (!(error instanceof SfuRequestError) && !(error instanceof TypeError)) this.options.log(`sfu: ${method} failed: ${error.message}`);
        if (CHANNEL_BROKEN.test(error.message)) this.recycleWorkerOf(session);
        return { type: 'sfu-response', id, ok: false, error: error.message };
      },
    );
    this.queues.set(roomName, settled);
    void settled.then(() => {
      if (this.queues.get(roomName) === settled) this.queues.delete(roomName);
    });
    return settled;
  }

  async close(): Promise<void> {
    for (const room of this.rooms.values()) room.close();
    this.rooms.clear();
    await this.pool.close();
  }

  /** Per room and peer: streams and their bitrates, for the admin endpoint. */
  async stats(): Promise<unknown> {
    const rooms = [];
    for (const room of this.rooms.values()) {
      const peers = [];
      for (const peer of room.peers.values()) {
        const transports = await Promise.all(
          [...peer.transports.values()].map(async (t) => {
            const [s] = await t.getStats();
            return { direction: t.appData.direction, recvKbps: (s?.recvBitrate ?? 0) / 1000, sendKbps: (s?.sendBitrate ?? 0) / 1000, bytesReceived: s?.bytesReceived ?? 0, bytesSent: s?.bytesSent ?? 0 };
          }),
        );
        const producers = await Promise.all(
          [...peer.producers.values()].map(async (p) => ({ id: p.id, kind: p.kind, kbpsIn: (await p.getStats()).reduce((sum, s) => sum + (s.bitrate ?? 0), 0) / 1000 })),
        );
        const dataProducers = await Promise.all(
          [...peer.dataProducers.values()].map(async (d) => {
            const [s] = await d.getStats();
            return { id: d.id, label: d.label, messagesIn: s?.messagesReceived ?? 0, bytesIn: s?.bytesReceived ?? 0 };
          }),
        );
        const consumers = await Promise.all(
          [...peer.consumers.values()].map(async (c) => ({
            id: c.id,
            kind: c.kind,
            kbpsOut: (await c.getStats()).filter((s) => s.type === 'outbound-rtp').reduce((sum, s) => sum + (s.bitrate ?? 0), 0) / 1000,
          })),
        );
        const dataConsumers = await Promise.all(
          [...peer.dataConsumers.values()].map(async (d) => {
            const [s] = await d.getStats();
            return { id: d.id, label: d.label, messagesOut: s?.messagesSent ?? 0, bytesOut: s?.bytesSent ?? 0 };
          }),
        );
        peers.push({ id: peer.session.id, name: peer.session.name, worker: peer.home.worker.slot, transports, producers, dataProducers, consumers, dataConsumers });
      }
      rooms.push({ room: room.name, workers: [...room.slots], routers: room.routers.length, peers });
    }
    return { workers: this.pool.workers.map((w) => ({ slot: w.slot, pid: w.worker.pid, routers: w.load })), rooms };
  }

  private async dispatch(session: PeerSession, method: SfuMethod, data: Record<string, unknown>): Promise<SfuRequests[SfuMethod]['result']> {
    if (session.room.mode !== 'sfu') throw new SfuRequestError('this room is in P2P mode');
    // Before anything reaches mediasoup: its serialisation is not safe against wrong types.
    const params: unknown = parseSfuParams(method, data);
    if (session.room.peers.get(session.id) !== session) throw new SfuRequestError('not in the room any more');
    const room = this.roomFor(session.room);
    if (method === 'router-capabilities') {
      // A browser (re)starting its SFU session: whatever its failed attempt left goes first.
      room.removePeer(session.id);
      const peer = await room.addPeer(session);
      return { rtpCapabilities: peer.home.router.rtpCapabilities };
    }
    const peer = room.peer(session);
    // Each handler gets its own method's checked parameters (the lookup by name loses the pairing).
    const handler = PEER_HANDLERS[method] as (room: SfuRoom, peer: SfuPeer, params: unknown) => Result<SfuMethod>;
    return handler(room, peer, params);
  }

  private roomFor(room: Room): SfuRoom {
    let sfuRoom = this.rooms.get(room.name);
    if (!sfuRoom) {
      sfuRoom = new SfuRoom(room.name, this.pool, {
        transportConnectTimeoutMs: this.options.transportConnectTimeoutMs,
        maxTransportsPerAddress: this.options.maxTransportsPerAddress,
        transportsOf: (address) => this.transportsOf(address),
        listenIp: this.options.listenIp,
        ...(this.options.announcedAddress ? { announcedAddress: this.options.announcedAddress } : {}),
        peersPerRouter: this.options.peersPerRouter,
        notify: (session, notification) => this.notify(session, notification),
      });
      this.rooms.set(room.name, sfuRoom);
    }
    return sfuRoom;
  }

  private transportsOf(address: string): number {
    let count = 0;
    for (const room of this.rooms.values()) for (const peer of room.peers.values()) if (peer.session.address === address) count += peer.transports.size;
    return count;
  }

  private notify(session: PeerSession, notification: SfuNotification): void {
    session.deliver({ type: 'sfu-notify', ...notification } as ServerMessage, 256);
  }

  /**
   * A request that got past the schema and still broke the worker's channel would fail every
   * later request on it: restart that worker (its rooms rebuild on live ones) instead.
   */
  private recycleWorkerOf(session: PeerSession): void {
    const slot = this.rooms.get(session.room.name)?.peers.get(session.id)?.home.worker.slot;
    if (slot === undefined) return;
    this.options.log(`sfu: worker ${slot}'s channel is broken; restarting it`);
    this.pool.recycle(slot);
  }

  private peerLeft(session: PeerSession): void {
    const room = this.rooms.get(session.room.name);
    if (!room) return;
    room.removePeer(session.id);
    if (room.isEmpty) this.closeRoom(session.room.name);
  }

  private modeChanged(room: Room, mode: RoomMode): void {
    if (mode === 'p2p') this.closeRoom(room.name);
  }

  private closeRoom(name: string): void {
    this.rooms.get(name)?.close();
    this.rooms.delete(name);
  }

  /** Rooms on a dead worker are rebuilt: their browsers reconnect and land on live workers. */
  private onWorkerDied(slot: number): void {
    for (const [name, room] of [...this.rooms]) {
      if (!room.slots.has(slot)) continue;
      const sessions = [...room.peers.values()].map((p) => p.session);
      this.closeRoom(name);
      this.options.log(`sfu: room ${name} lost its media worker; ${sessions.length} peers reconnect`);
      for (const session of sessions) this.notify(session, { method: 'restart', data: { reason: 'the media server restarted; reconnecting' } });
    }
  }
}
