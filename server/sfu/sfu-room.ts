import type { Consumer, DataConsumer, DataProducer, DirectTransport, Producer, Router, RtpCapabilities, WebRtcTransport } from 'mediasoup/types';
import { CODEC_CHANNEL_LABELS } from '../../codec/transport.ts';
import type { SfuNotification, TransportOptions } from '../../protocol/sfu.ts';
import type { PeerSession } from '../signalling/rooms.ts';
import { ControlRelay, type Delivery } from './control-relay.ts';
import { ROUTER_MEDIA_CODECS } from './media-codecs.ts';
import { SfuRequestError, type SfuParams } from './sfu-requests.ts';
import type { PooledWorker, WorkerPool } from './worker-pool.ts';

export interface SfuRoomOptions {
  /** A transport whose ICE has not connected by then is closed: its ports go back to the pool. */
  transportConnectTimeoutMs: number;
  /** Transports one address may hold across all rooms (they take two ports each, UDP and TCP). */
  maxTransportsPerAddress: number;
  /** How many transports this address holds now, across rooms. */
  transportsOf: (address: string) => number;
  listenIp: string;
  /** The address browsers should connect to, when the server is behind NAT or listens on 0.0.0.0. */
  announcedAddress?: string;
  /** Peers per router before the room spreads to another worker (joined with pipeToRouter). */
  peersPerRouter: number;
  notify: (session: PeerSession, notification: SfuNotification) => void;
}

/** A per-peer limit on server objects, so one browser cannot exhaust the worker. */
const LIMITS = { transports: 4, producers: 4, dataProducers: 4 };

/** SCTP payload protocol id of a binary message (RFC 8831): what browsers send and expect. */
const PPID_BINARY = 53;

/** The codec's control channel is relayed by the server (control-relay.ts), not consumed directly. */
const isRelayed = (dataProducer: DataProducer): boolean => dataProducer.label === CODEC_CHANNEL_LABELS.control;

/** A sender's relayed control channel: the server's consumer of it, and its copy on each router. */
interface RelayedControl {
  inbound: DataConsumer;
  outbound: Map<Router, Promise<DataProducer>>;
}

interface RouterEntry {
  router: Router;
  worker: PooledWorker;
  peers: Set<string>;
}

export class SfuPeer {
  readonly transports = new Map<string, WebRtcTransport>();
  readonly producers = new Map<string, Producer>();
  readonly dataProducers = new Map<string, DataProducer>();
  readonly consumers = new Map<string, Consumer>();
  readonly dataConsumers = new Map<string, DataConsumer>();
  /** Producer and data producer ids this peer already consumes: one consumer each, however often it asks. */
  readonly consumed = new Set<string>();
  rtpCapabilities: RtpCapabilities | undefined;

  constructor(
    readonly session: PeerSession,
    readonly home: RouterEntry,
  ) {}

  get recvTransport(): WebRtcTransport | undefined {
    return [...this.transports.values()].find((t) => t.appData.direction === 'recv');
  }

  transport(id: string): WebRtcTransport {
    const transport = this.transports.get(id);
    if (!transport) throw new SfuRequestError(`no transport ${id}`);
    return transport;
  }
}

/**
 * One room on the SFU: its routers (one per worker it spans), and per peer its transports,
 * producers and consumers. Every producer and data producer of a peer is consumed by every other
 * peer; producers are piped to the room's other routers when the room spans several workers.
 */
export class SfuRoom {
  readonly routers: RouterEntry[] = [];
  readonly peers = new Map<string, SfuPeer>();
  /** Which routers each producer (or data producer) id already exists on. */
  private readonly pipedTo = new Map<string, Set<Router>>();
  readonly controlRelay = new ControlRelay();
  /** Per sender (peer id): its relayed control channel. */
  private readonly relayed = new Map<string, RelayedControl>();
  /** The server's own endpoint on each router, where it reads and writes relayed control messages. */
  private readonly directTransports = new Map<Router, Promise<DirectTransport>>();
  /** Each peer's SCTP subchannel: a relayed message goes to the consumers subscribed to its receivers'. */
  private readonly subchannels = new Map<string, number>();
  private closed = false;

  constructor(
    readonly name: string,
    private readonly pool: WorkerPool,
    private readonly options: SfuRoomOptions,
  ) {}

  get slots(): Set<number> {
    return new Set(this.routers.map((r) => r.worker.slot));
  }

  async addPeer(session: PeerSession): Promise<SfuPeer> {
    const existing = this.peers.get(session.id);
    if (existing) return existing;
    const home = await this.routerWithRoom();
    // Another request may have added the peer while we waited for a router.
    const raced = this.peers.get(session.id);
    if (raced) return raced;
    const peer = new SfuPeer(session, home);
    home.peers.add(session.id);
    this.peers.set(session.id, peer);
    return peer;
  }

  peer(session: PeerSession): SfuPeer {
    const peer = this.peers.get(session.id);
    if (!peer) throw new SfuRequestError('ask for router-capabilities first');
    return peer;
  }

  async createTransport(peer: SfuPeer, { direction }: SfuParams['create-transport']): Promise<TransportOptions> {
    if (peer.transports.size >= LIMITS.transports) throw new SfuRequestError('too many transports');
    if (peer.session.address && this.options.transportsOf(peer.session.address) >= this.options.maxTransportsPerAddress) {
      throw new SfuRequestError(`too many media transports from your address (${this.options.maxTransportsPerAddress})`);
    }
    const listen = { ip: this.options.listenIp, ...(this.options.announcedAddress ? { announcedAddress: this.options.announcedAddress } : {}) };
    const transport = await peer.home.router.createWebRtcTransport({
      listenInfos: [
        { protocol: 'udp', ...listen },
        { protocol: 'tcp', ...listen }, // for networks that block UDP
      ],
      enableUdp: true,
      enableTcp: true,
      preferUdp: true,
      enableSctp: true,
      appData: { direction, peerId: peer.session.id },
    });
    peer.transports.set(transport.id, transport);
    // A browser that never connects must not hold two ports until it leaves.
    const expiry = setTimeout(() => transport.close(), this.options.transportConnectTimeoutMs);
    expiry.unref();
    transport.on('icestatechange', (state) => {
      if (state === 'connected' || state === 'completed') clearTimeout(expiry);
    });
    transport.observer.on('close', () => {
      clearTimeout(expiry);
      peer.transports.delete(transport.id);
    });
    return {
      id: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
      sctpParameters: transport.sctpParameters,
    };
  }

  async connectTransport(peer: SfuPeer, { transportId, dtlsParameters }: SfuParams['connect-transport']): Promise<void> {
    await peer.transport(transportId).connect({ dtlsParameters });
  }

  async produce(peer: SfuPeer, { transportId, kind, rtpParameters }: SfuParams['produce']): Promise<{ id: string }> {
    if (peer.producers.size >= LIMITS.producers) throw new SfuRequestError('too many producers');
    const producer = await peer.transport(transportId).produce({ kind, rtpParameters });
    peer.producers.set(producer.id, producer);
    producer.observer.on('close', () => {
      peer.producers.delete(producer.id);
      this.pipedTo.delete(producer.id);
    });
    await this.spread(producer.id, 'producer', peer.home.router);
    for (const other of this.peers.values()) if (other !== peer) await this.consume(other, peer, producer);
    return { id: producer.id };
  }

  async produceData(peer: SfuPeer, { transportId, sctpStreamParameters, label = '', protocol = '' }: SfuParams['produce-data']): Promise<{ id: string }> {
    if (peer.dataProducers.size >= LIMITS.dataProducers) throw new SfuRequestError('too many data producers');
    const dataProducer = await peer.transport(transportId).produceData({ sctpStreamParameters, label, protocol });
    peer.dataProducers.set(dataProducer.id, dataProducer);
    dataProducer.observer.on('close', () => {
      peer.dataProducers.delete(dataProducer.id);
      this.pipedTo.delete(dataProducer.id);
    });
    if (isRelayed(dataProducer)) await this.relayControl(peer, dataProducer);
    else await this.spread(dataProducer.id, 'dataProducer', peer.home.router);
    for (const other of this.peers.values()) if (other !== peer) await this.consumeData(other, peer, dataProducer);
    return { id: dataProducer.id };
  }

  closeProducer(peer: SfuPeer, { producerId }: SfuParams['close-producer']): void {
    const producer = peer.producers.get(producerId);
    if (!producer) throw new SfuRequestError(`no producer ${producerId}`);
    producer.close();
  }

  /** The browser has loaded its device and its receive transport: send it everything there is. */
  async ready(peer: SfuPeer, { rtpCapabilities }: SfuParams['ready']): Promise<void> {
    if (peer.rtpCapabilities) throw new SfuRequestError('already ready: ask for router-capabilities to start a new SFU session');
    peer.rtpCapabilities = rtpCapabilities;
    for (const other of this.peers.values()) {
      if (other === peer) continue;
      for (const producer of other.producers.values()) await this.consume(peer, other, producer);
      for (const dataProducer of other.dataProducers.values()) await this.consumeData(peer, other, dataProducer);
    }
  }

  async resumeConsumer(peer: SfuPeer, { consumerId }: SfuParams['resume-consumer']): Promise<void> {
    const consumer = peer.consumers.get(consumerId);
    if (!consumer) throw new SfuRequestError(`no consumer ${consumerId}`);
    await consumer.resume();
  }

  removePeer(sessionId: string): void {
    const peer = this.peers.get(sessionId);
    if (!peer) return;
    this.peers.delete(sessionId);
    peer.home.peers.delete(sessionId);
    this.subchannels.delete(sessionId);
    this.controlRelay.forget(sessionId);
    // Closing the transports closes their producers, and with them the others' consumers.
    for (const transport of [...peer.transports.values()]) transport.close();
  }

  get isEmpty(): boolean {
    return this.peers.size === 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const entry of this.routers) {
      entry.worker.load -= 1;
      entry.router.close();
    }
    this.routers.length = 0;
    this.peers.clear();
  }

  private async consume(consumer: SfuPeer, producerPeer: SfuPeer, producer: Producer): Promise<void> {
    const transport = consumer.recvTransport;
    if (!consumer.rtpCapabilities || !transport) return; // `ready` will do it
    if (consumer.consumed.has(producer.id)) return;
    const router = consumer.home.router;
    if (!router.canConsume({ producerId: producer.id, rtpCapabilities: consumer.rtpCapabilities })) return;
    // Video starts paused until the browser has its consumer ready (it asks to resume).
    consumer.consumed.add(producer.id);
    const created = await transport.consume({ producerId: producer.id, rtpCapabilities: consumer.rtpCapabilities, paused: true }).catch((error: unknown) => {
      consumer.consumed.delete(producer.id);
      throw error;
    });
    consumer.consumers.set(created.id, created);
    created.observer.on('close', () => {
      consumer.consumers.delete(created.id);
      consumer.consumed.delete(producer.id);
    });
    created.on('producerclose', () => {
      created.close();
      this.options.notify(consumer.session, { method: 'consumer-closed', data: { id: created.id } });
    });
    this.options.notify(consumer.session, {
      method: 'new-consumer',
      data: { peerId: producerPeer.session.id, id: created.id, producerId: producer.id, kind: created.kind, rtpParameters: created.rtpParameters },
    });
  }

  /** `consumer` receives `producerPeer`'s data producer (for its control channel: the server's relayed copy). */
  private async consumeData(consumer: SfuPeer, producerPeer: SfuPeer, dataProducer: DataProducer): Promise<void> {
    const transport = consumer.recvTransport;
    if (!consumer.rtpCapabilities || !transport || consumer.consumed.has(dataProducer.id)) return;
    consumer.consumed.add(dataProducer.id);
    const relayed = isRelayed(dataProducer);
    const create = async (): Promise<DataConsumer> => {
      if (!relayed) return transport.consumeData({ dataProducerId: dataProducer.id });
      const copy = await this.relayedCopy(producerPeer.session.id, consumer.home.router);
      if (!copy) throw new SfuRequestError('the control channel closed');
      return transport.consumeData({ dataProducerId: copy.id, subchannels: [this.subchannelOf(consumer.session.id)] });
    };
    const created = await create().catch((error: unknown) => {
      consumer.consumed.delete(dataProducer.id);
      throw error;
    });
    const { sctpStreamParameters } = created;
    if (!sctpStreamParameters) {
      created.close(); // only a DirectTransport's consumers lack them
      throw new SfuRequestError('data consumer without SCTP parameters');
    }
    consumer.dataConsumers.set(created.id, created);
    created.observer.on('close', () => {
      consumer.dataConsumers.delete(created.id);
      consumer.consumed.delete(dataProducer.id);
    });
    created.on('dataproducerclose', () => {
      created.close();
      this.options.notify(consumer.session, { method: 'consumer-closed', data: { id: created.id } });
    });
    this.options.notify(consumer.session, {
      method: 'new-data-consumer',
      data: {
        peerId: producerPeer.session.id,
        id: created.id,
        dataProducerId: dataProducer.id,
        sctpStreamParameters,
        label: created.label,
        protocol: created.protocol,
      },
    });
  }

  /**
   * The server consumes `peer`'s control channel on its home router; the others get the relay's
   * copy of it (consumeData), holding only what the relay routes to them.
   */
  private async relayControl(peer: SfuPeer, dataProducer: DataProducer): Promise<void> {
    const direct = await this.directTransportOn(peer.home.router);
    const inbound = await direct.consumeData({ dataProducerId: dataProducer.id });
    const id = peer.session.id;
    const entry: RelayedControl = { inbound, outbound: new Map() };
    this.closeRelayed(id);
    this.relayed.set(id, entry);
    inbound.on('message', (message: Buffer, ppid: number) => {
      if (ppid === PPID_BINARY) this.deliver(this.controlRelay.route(id, message, Date.now()));
    });
    dataProducer.observer.on('close', () => {
      if (this.relayed.get(id) !== entry) return;
      this.closeRelayed(id);
      this.controlRelay.forget(id);
    });
  }

  private closeRelayed(id: string): void {
    const entry = this.relayed.get(id);
    if (!entry) return;
    this.relayed.delete(id);
    entry.inbound.close();
    // Closing the copies closes the others' consumers of them (they hear `consumer-closed`).
    for (const copy of entry.outbound.values()) void copy.then((p) => p.close()).catch(() => undefined);
  }

  /** The relay's copy of `senderId`'s control channel on `router`, made on first use. */
  private relayedCopy(senderId: string, router: Router): Promise<DataProducer> | undefined {
    const entry = this.relayed.get(senderId);
    if (!entry) return undefined;
    let copy = entry.outbound.get(router);
    if (!copy) {
      copy = this.directTransportOn(router).then((direct) => direct.produceData({ label: CODEC_CHANNEL_LABELS.control }));
      entry.outbound.set(router, copy);
    }
    return copy;
  }

  private directTransportOn(router: Router): Promise<DirectTransport> {
    let direct = this.directTransports.get(router);
    if (!direct) {
      direct = router.createDirectTransport();
      this.directTransports.set(router, direct);
    }
    return direct;
  }

  private subchannelOf(peerId: string): number {
    let subchannel = this.subchannels.get(peerId);
    if (subchannel === undefined) {
      const taken = new Set(this.subchannels.values());
      subchannel = 0;
      while (taken.has(subchannel)) subchannel++;
      this.subchannels.set(peerId, subchannel);
    }
    return subchannel;
  }

  /** Sends the relay's routed packets on the copies their receivers consume. */
  private deliver(deliveries: Delivery[]): void {
    for (const { from, to, bytes } of deliveries) {
      const entry = this.relayed.get(from);
      if (!entry) continue;
      const receivers = to === 'everyone' ? [...this.peers.values()].filter((p) => p.session.id !== from) : [this.peers.get(to.peer)].filter((p) => p !== undefined);
      for (const [router, copy] of entry.outbound) {
        const subchannels = receivers.filter((p) => p.home.router === router).map((p) => this.subchannelOf(p.session.id));
        // An empty list would mean "everyone on this router" to mediasoup: skip instead.
        if (subchannels.length === 0) continue;
        const message = Buffer.from(bytes);
        void copy.then((producer) => !producer.closed && producer.send(message, PPID_BINARY, subchannels)).catch(() => undefined);
      }
    }
  }

  /** Makes a producer exist on every router of the room (same id, thanks to pipeToRouter). */
  private async spread(id: string, kind: 'producer' | 'dataProducer', origin: Router): Promise<void> {
    const on = this.pipedTo.get(id) ?? new Set([origin]);
    this.pipedTo.set(id, on);
    for (const entry of this.routers) {
      if (on.has(entry.router)) continue;
      await origin.pipeToRouter({ ...(kind === 'producer' ? { producerId: id } : { dataProducerId: id }), router: entry.router });
      on.add(entry.router);
    }
  }

  /** A router with room for one more peer, adding one on another worker when all are full. */
  private async routerWithRoom(): Promise<RouterEntry> {
    const withSpace = this.routers.find((r) => r.peers.size < this.options.peersPerRouter);
    if (withSpace) return withSpace;
    const worker = this.pool.pick(this.slots);
    if (this.routers.some((r) => r.worker === worker)) {
      // No other worker is free: fill the least full router rather than pipe within one worker
      // (mediasoup cannot pipe between two routers of the same worker).
      return this.routers.reduce((a, b) => (b.peers.size < a.peers.size ? b : a));
    }
    const router = await worker.worker.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS });
    worker.load += 1;
    const entry: RouterEntry = { router, worker, peers: new Set() };
    this.routers.push(entry);
    // Everything already produced in the room must exist on the new router too.
    for (const peer of this.peers.values()) {
      for (const producer of peer.producers.values()) await this.spread(producer.id, 'producer', peer.home.router);
      for (const dataProducer of peer.dataProducers.values()) if (!isRelayed(dataProducer)) await this.spread(dataProducer.id, 'dataProducer', peer.home.router);
    }
    return entry;
  }
}
