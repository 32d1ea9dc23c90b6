import { Device } from 'mediasoup-client';
import type { Consumer, DataConsumer, DataProducer, Producer, RtpCapabilities, Transport } from 'mediasoup-client/types';
import { Emitter } from '../../codec/emitter.ts';
import { CODEC_CHANNEL_LABELS as CHANNEL_LABELS, type CodecChannel, type PacketListener } from '../../codec/transport.ts';
import type { IceServerConfig, PeerInfo } from '../../protocol/signalling.ts';
import type { SfuMethod, SfuNotification, SfuRequests } from '../../protocol/sfu.ts';
import type { StatsEntry, StatsSnapshot } from '../stats/peer-stats.ts';
import { participantStats } from '../stats/sfu-participant-stats.ts';
import { AUDIO_SENDER_MAX_BITRATE, findSendCodec, withoutAudioTransportCc, type MediaSettings } from './media-settings.ts';
import { OPUS_MAX_AVERAGE_BITRATE, OPUS_PTIME_MS } from '../../protocol/opus-speech.ts';
import type { AudioBundleCarrier } from './audio-bundles.ts';
import { ICE_TRANSPORT_POLICY } from './ice-policy.ts';
import { toSnapshot, type ParticipantEvents, type RemoteParticipant } from './participant.ts';
import type { ConnectionStats } from './call.ts';

/** One SFU request over the signalling socket (SignallingClient.sfuRequest). */
type Request = <M extends SfuMethod>(method: M, data: SfuRequests[M]['params']) => Promise<SfuRequests[M]['result']>;

const FRAMES_MAX_BUFFERED_BYTES = 16 * 1024;
/** Sessions of this page, so that a closing session's audio-bundle routes never drop a newer one's. */
let sessionSerial = 0;

/**
 * Someone in an SFU room: their consumed tracks and data channels. In SFU mode our own data
 * producers are shared by everyone: `send` to one participant reaches all of them (the codec's
 * packets are the same for every receiver, so it uses the transport's broadcast).
 */
export class SfuParticipant extends Emitter<ParticipantEvents> implements RemoteParticipant {
  readonly remoteStream = new MediaStream();
  readonly consumers = new Map<string, Consumer>();
  readonly dataConsumers = new Map<string, DataConsumer>();
  private readonly packetListeners = new Set<PacketListener>();
  private announced = false;
  /** Ends the route of bundles out of their audio (set by the session). */
  closeAudioRoute: (() => void) | undefined;

  constructor(
    readonly peerId: string,
    readonly name: string,
    private readonly session: SfuSession,
  ) {
    super();
  }

  get connected(): boolean {
    return this.consumers.size > 0;
  }

  get isOpen(): boolean {
    return this.session.channelsOpen && [...this.dataConsumers.values()].filter((d) => !d.closed).length >= 2;
  }

  send(channel: CodecChannel, packet: Uint8Array): boolean {
    return this.session.broadcast(channel, packet) > 0;
  }

  onPacket(listener: PacketListener): () => void {
    this.packetListeners.add(listener);
    return () => this.packetListeners.delete(listener);
  }

  /** A frame bundle taken out of their audio. */
  receivedBundle(bundle: Uint8Array): void {
    for (const listener of this.packetListeners) listener('frames', bundle);
  }

  addConsumer(consumer: Consumer): void {
    this.consumers.set(consumer.id, consumer);
    this.remoteStream.addTrack(consumer.track);
    if (!this.announced) {
      this.announced = true;
      this.emit('stream', this.remoteStream);
    }
    this.emit('connect');
  }

  addDataConsumer(dataConsumer: DataConsumer): void {
    this.dataConsumers.set(dataConsumer.id, dataConsumer);
    const channel = (Object.keys(CHANNEL_LABELS) as CodecChannel[]).find((c) => CHANNEL_LABELS[c] === dataConsumer.label);
    dataConsumer.on('message', (data: ArrayBuffer | string) => {
      if (!channel || typeof data === 'string') return;
      const packet = new Uint8Array(data);
      for (const listener of this.packetListeners) listener(channel, packet);
    });
    dataConsumer.on('open', () => this.isOpen && this.emit('link-open'));
    if (this.isOpen) this.emit('link-open');
  }

  removeConsumer(id: string): void {
    const consumer = this.consumers.get(id);
    if (consumer) {
      this.remoteStream.removeTrack(consumer.track);
      consumer.close();
      this.consumers.delete(id);
    }
    this.dataConsumers.get(id)?.close();
    this.dataConsumers.delete(id);
  }

  close(reason: string): void {
    for (const id of [...this.consumers.keys(), ...this.dataConsumers.keys()]) this.removeConsumer(id);
    this.closeAudioRoute?.();
    this.emit('close', reason);
  }

  /** Only this person's streams: not the other people's, not what we send (see participantStats). */
  async getStats(): Promise<StatsSnapshot | undefined> {
    return participantStats(await this.session.recvTransportStats(), {
      trackIds: new Set([...this.consumers.values()].map((c) => c.track.id)),
      dataStreamIds: new Set([...this.dataConsumers.values()].map((d) => d.sctpStreamParameters.streamId)),
    });
  }
}

type SessionEvents = {
  participant: [SfuParticipant];
  /** The session failed or the server asked for a restart; the call rebuilds it. */
  failed: [reason: string];
};

/** Our side of an SFU room: a mediasoup-client Device, one send and one receive transport. */
export class SfuSession extends Emitter<SessionEvents> {
  readonly participants = new Map<string, SfuParticipant>();
  private readonly device = new Device();
  private sendTransport: Transport | undefined;
  private recvTransport: Transport | undefined;
  private readonly producers = new Map<'audio' | 'video', Producer>();
  private readonly dataProducers = new Map<CodecChannel, DataProducer>();
  /** Notifications are handled one at a time, in order: consumers must exist before they are closed. */
  private notifications: Promise<void> = Promise.resolve();
  private closed = false;
  private started = false;
  /** Serialises producing and pausing the video: a mode switch may come while a producer is being made. */
  private videoWork: Promise<void> = Promise.resolve();
  private closeSendRoute: (() => void) | undefined;
  /** Audio-bundle route keys: ours (send), and one per sender whose audio we receive. */
  private readonly routeKey = `sfu${++sessionSerial}`;
  /** Frame bundles that went inside our audio (and the bytes they added to it), that found no audio frame (went by datachannel), and that came out of theirs. */
  readonly audioBundleCounts = { sent: 0, sentBytes: 0, fallback: 0, received: 0 };

  constructor(
    private readonly request: Request,
    private readonly localStream: MediaStream,
    private settings: MediaSettings,
    private readonly iceServers: IceServerConfig[],
    private readonly member: (peerId: string) => PeerInfo | undefined,
    /** Send the standard video now? Its producer is made only once it is wanted (kiloface mode sends no video at all). */
    private videoOn: boolean,
    /**
     * Frame bundles inside our audio (issue 16 item 4): the SFU forwards Opus payloads untouched,
     * so the bundles reach every consumer of our audio. Used only while everyone in the room
     * strips them (`everyoneStrips`); else a trailer would reach someone's Opus decoder.
     */
    private readonly audioBundles?: { carrier: AudioBundleCarrier; everyoneStrips: () => boolean },
  ) {
    super();
  }

  get channelsOpen(): boolean {
    return this.dataProducers.size === 2 && [...this.dataProducers.values()].every((d) => d.readyState === 'open');
  }

  async start(): Promise<void> {
    const { rtpCapabilities } = await this.request('router-capabilities', {});
    await this.device.load({ routerRtpCapabilities: withoutAudioTransportCc(rtpCapabilities) });
    this.sendTransport = await this.createTransport('send');
    this.recvTransport = await this.createTransport('recv');
    for (const track of this.localStream.getAudioTracks()) await this.produce(track);
    this.started = true;
    await this.setVideoSending(this.videoOn);
    for (const channel of ['frames', 'control'] as const) {
      const dataProducer = await this.sendTransport.produceData(
        channel === 'frames' ? { ordered: false, maxRetransmits: 0, label: CHANNEL_LABELS.frames } : { ordered: true, label: CHANNEL_LABELS.control },
      );
      this.dataProducers.set(channel, dataProducer);
      dataProducer.on('open', () => {
        if (this.channelsOpen) for (const p of this.participants.values()) if (p.isOpen) p.emit('link-open');
      });
    }
    await this.request('ready', { rtpCapabilities: this.device.rtpCapabilities });
  }

  onNotification(notification: SfuNotification): void {
    this.notifications = this.notifications.then(() => this.handle(notification)).catch((error: Error) => this.fail(`SFU: ${error.message}`));
  }

  broadcast(channel: CodecChannel, packet: Uint8Array): number {
    const bundles = this.audioBundles;
    if (channel === 'frames' && bundles && this.closeSendRoute && this.participants.size > 0 && this.channelsOpen && bundles.everyoneStrips()) {
      bundles.carrier.send(`${this.routeKey}/send`, packet);
      return this.participants.size;
    }
    return this.sendOnChannel(channel, packet);
  }

  private sendOnChannel(channel: CodecChannel, packet: Uint8Array): number {
    const producer = this.dataProducers.get(channel);
    if (!producer || producer.readyState !== 'open') return 0;
    if (channel === 'frames' && producer.bufferedAmount > FRAMES_MAX_BUFFERED_BYTES) return 0;
    producer.send(packet as Uint8Array<ArrayBuffer>);
    return this.participants.size;
  }

  async updateSettings(settings: MediaSettings): Promise<void> {
    const codecChanged = settings.videoCodec !== this.settings.videoCodec;
    this.settings = settings;
    return this.videoTask(async () => {
      const video = this.producers.get('video');
      if (!video || this.closed) return;
      if (codecChanged) {
        // A producer's codec is fixed: replace it (the others get a new consumer).
        await this.closeVideoProducer(video);
        if (this.videoOn) await this.produceVideo();
      } else await video.setRtpEncodingParameters({ maxBitrate: settings.videoCapKbps * 1000 });
    });
  }

  /**
   * Standard video on or off. Off closes the producer, so that no video send stream is left for
   * Chromium to pad with bandwidth probes (a paused, trackless sender can carry them: see
   * remote-peer.ts), and the others' consumers of it close; the camera track itself stays on
   * (kiloface reads it). On again: a new producer, like the first. (The keyframe requests that
   * stayed on the wire after video came from the probation receiver: skipProbator.)
   */
  setVideoSending(on: boolean): Promise<void> {
    this.videoOn = on;
    return this.videoTask(async () => {
      if (!this.started || this.closed) return;
      const video = this.producers.get('video');
      if (this.videoOn && !video) await this.produceVideo();
      else if (!this.videoOn && video) await this.closeVideoProducer(video);
    });
  }

  /** The server closes it first: the others' consumers of it close (`consumer-closed`). */
  private async closeVideoProducer(video: Producer): Promise<void> {
    await this.request('close-producer', { producerId: video.id });
    video.close();
    this.producers.delete('video');
  }

  private videoTask(work: () => Promise<void>): Promise<void> {
    this.videoWork = this.videoWork.then(work).catch((error: Error) => console.warn('SFU video', error));
    return this.videoWork;
  }

  private async produceVideo(): Promise<void> {
    const track = this.localStream.getVideoTracks()[0];
    if (track) await this.produce(track);
  }

  /** Both transports' getStats(), for the call's wire totals; the send transport's estimate is our link's. */
  async transportStats(): Promise<ConnectionStats[]> {
    const out: ConnectionStats[] = [];
    for (const [transport, sendsOurMedia] of [[this.sendTransport, true], [this.recvTransport, false]] as const) {
      if (!transport || transport.closed) continue;
      out.push({ key: `sfu/${transport.id}`, snapshot: toSnapshot(await transport.getStats()), sendsOurMedia });
    }
    return out;
  }

  async recvTransportStats(): Promise<Map<string, StatsEntry>> {
    if (!this.recvTransport || this.recvTransport.closed) return new Map();
    return toSnapshot(await this.recvTransport.getStats());
  }

  close(reason = 'left SFU mode'): void {
    if (this.closed) return;
    this.closed = true;
    this.closeSendRoute?.();
    for (const participant of this.participants.values()) participant.close(reason);
    this.participants.clear();
    this.sendTransport?.close();
    this.recvTransport?.close();
  }

  private fail(reason: string): void {
    if (!this.closed) this.emit('failed', reason);
  }

  private async produce(track: MediaStreamTrack): Promise<void> {
    const transport = this.sendTransport!;
    if (track.kind === 'audio') {
      const producer = await transport.produce({
        track,
        // The tracks are the call's, not the producer's: a closed session must not stop the camera.
        stopTracks: false,
        encodings: [{ maxBitrate: AUDIO_SENDER_MAX_BITRATE }],
        // Written into the answer mediasoup-client gives our browser: its fmtp governs what we send (protocol/opus-speech.ts).
        codecOptions: { opusDtx: true, opusFec: true, opusStereo: false, opusMaxAverageBitrate: OPUS_MAX_AVERAGE_BITRATE, opusPtime: OPUS_PTIME_MS },
        // The transform must be on the sender before negotiation: set later, Chromium gave it no frames.
        onRtpSender: (sender) => this.carryBundlesOnAudio(sender),
      });
      this.producers.set('audio', producer);
      return;
    }
    const codec = findSendCodec(this.device.rtpCapabilities.codecs ?? [], this.settings.videoCodec);
    const producer = await transport.produce({
      track,
      // Closing the producer must not stop the camera track: kiloface's tracker reads the same track.
      stopTracks: false,
      encodings: [{ maxBitrate: this.settings.videoCapKbps * 1000 }],
      ...(codec ? { codec } : {}),
    });
    this.producers.set('video', producer);
  }

  private async createTransport(direction: 'send' | 'recv'): Promise<Transport> {
    const params = await this.request('create-transport', { direction });
    const options = { ...params, iceServers: this.iceServers as RTCIceServer[], iceTransportPolicy: ICE_TRANSPORT_POLICY };
    const transport = direction === 'send' ? this.device.createSendTransport(options) : this.device.createRecvTransport(options);
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      this.request('connect-transport', { transportId: transport.id, dtlsParameters }).then(() => callback(), errback);
    });
    transport.on('connectionstatechange', (state) => {
      if (state === 'failed') this.fail(`${direction} transport failed`);
    });
    if (direction === 'recv') skipProbator(transport);
    if (direction === 'send') {
      transport.on('produce', ({ kind, rtpParameters }, callback, errback) => {
        this.request('produce', { transportId: transport.id, kind, rtpParameters }).then(callback, errback);
      });
      transport.on('producedata', ({ sctpStreamParameters, label, protocol }, callback, errback) => {
        this.request('produce-data', { transportId: transport.id, sctpStreamParameters, label, protocol }).then(callback, errback);
      });
    }
    return transport;
  }

  private participant(peerId: string): SfuParticipant {
    let participant = this.participants.get(peerId);
    if (!participant) {
      participant = new SfuParticipant(peerId, this.member(peerId)?.name ?? peerId, this);
      this.participants.set(peerId, participant);
      this.emit('participant', participant);
    }
    return participant;
  }

  private async handle(notification: SfuNotification): Promise<void> {
    if (this.closed || !this.recvTransport) return;
    switch (notification.method) {
      case 'new-consumer': {
        const { peerId, id, producerId, kind, rtpParameters } = notification.data;
        const participant = this.participant(peerId);
        const consumer = await this.recvTransport.consume({
          id,
          producerId,
          kind,
          rtpParameters,
          // Every audio receiver strips, whether or not that sender appends (set before negotiation, like the sender's).
          ...(kind === 'audio' ? { onRtpReceiver: (receiver: RTCRtpReceiver) => this.stripBundles(participant, receiver) } : {}),
        });
        await this.request('resume-consumer', { consumerId: id });
        participant.addConsumer(consumer);
        return;
      }
      case 'new-data-consumer': {
        const { peerId, id, dataProducerId, sctpStreamParameters, label, protocol } = notification.data;
        const dataConsumer = await this.recvTransport.consumeData({ id, dataProducerId, sctpStreamParameters, label, protocol });
        this.participant(peerId).addDataConsumer(dataConsumer);
        return;
      }
      case 'consumer-closed':
        for (const participant of this.participants.values()) participant.removeConsumer(notification.data.id);
        return;
      case 'restart':
        return this.fail(notification.data.reason);
    }
  }

  private carryBundlesOnAudio(sender: RTCRtpSender): void {
    const bundles = this.audioBundles;
    if (!bundles) return;
    this.closeSendRoute?.();
    const key = `${this.routeKey}/send`;
    this.closeSendRoute = bundles.carrier.open(key, {
      received: () => undefined, // a send route receives nothing
      fallback: (bundle) => {
        this.audioBundleCounts.fallback++;
        this.sendOnChannel('frames', bundle);
      },
      carried: (count, bytes) => {
        this.audioBundleCounts.sent += count;
        this.audioBundleCounts.sentBytes += bytes;
      },
    });
    bundles.carrier.transform(sender, key, 'send');
  }

  private stripBundles(participant: SfuParticipant, receiver: RTCRtpReceiver): void {
    const bundles = this.audioBundles;
    if (!bundles) return;
    const key = `${this.routeKey}/from/${participant.peerId}`;
    participant.closeAudioRoute?.();
    participant.closeAudioRoute = bundles.carrier.open(key, {
      received: (bundle) => {
        this.audioBundleCounts.received++;
        participant.receivedBundle(bundle);
      },
      fallback: () => undefined, // a receive route sends nothing
      carried: () => undefined,
    });
    bundles.carrier.transform(receiver, key, 'receive');
  }

  /** A member left the room: drop their consumers. */
  removeParticipant(peerId: string): void {
    this.participants.get(peerId)?.close('left');
    this.participants.delete(peerId);
  }
}

/**
 * No receiver for mediasoup's RTP probation (its "probator", SSRC 1234): mediasoup-client makes one
 * with the first video consumer and keeps it for the transport's life, and the server goes on
 * sending it padding (1.6 packets a second) after the video has gone. Chromium never decodes a
 * frame from it, so it asked for keyframes and lost packets for good: 4.9 PLIs and 9-16 NACKs a
 * second, ~6 kbit/s back up a 2G link for the rest of the call after one standard-video trial
 * (measured 2026-12-07). Without the receiver the probes are dropped unanswered; the server's
 * estimate of our downlink only steers simulcast layers, which we do not send. The flag is
 * mediasoup-client's own (private, pinned by package-lock): "already made".
 */
function skipProbator(transport: Transport): void {
  (transport as unknown as { _probatorConsumerCreated: boolean })._probatorConsumerCreated = true;
}

