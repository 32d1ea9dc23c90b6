import SimplePeer from 'simple-peer';
import type { CodecChannel, PacketListener } from '../../codec/transport.ts';
import type { IceServerConfig, PeerInfo } from '../../protocol/signalling.ts';
import { Emitter } from '../../codec/emitter.ts';
import type { StatsSnapshot } from '../stats/peer-stats.ts';
import { AUDIO_SENDER_MAX_BITRATE, findSendCodec, preferCodec, withOpusParams, type MediaSettings } from './media-settings.ts';
import type { AudioBundleCarrier } from './audio-bundles.ts';
import { ICE_TRANSPORT_POLICY } from './ice-policy.ts';
import { toSnapshot, type ParticipantEvents, type RemoteParticipant } from './participant.ts';

/** A signal as relayed by the server: which connection attempt it belongs to, and simple-peer's payload. */
export interface WireSignal {
  cid: string;
  signal: SimplePeer.SignalData;
}

export interface RemotePeerOptions {
  info: PeerInfo;
  /** Identifies this connection attempt, so signals of an older, failed one are ignored. */
  connectionId: string;
  initiator: boolean;
  localStream: MediaStream;
  iceServers: IceServerConfig[];
  settings: MediaSettings;
  /** Send the standard video track (false: our video m-line is receive-only until video is wanted, so no video RTP at all). */
  sendVideo: boolean;
  /** Carries kiloface frame bundles inside our audio (undefined: the browser cannot). */
  audioBundles: AudioBundleCarrier | undefined;
  sendSignal: (signal: WireSignal) => void;
}

// Negotiated (pre-agreed ids) so both ends create them at once, whoever offers.
const CHANNEL_INIT: Record<CodecChannel, RTCDataChannelInit> = {
  frames: { negotiated: true, id: 1, ordered: false, maxRetransmits: 0 },
  control: { negotiated: true, id: 2, ordered: true },
};

/** Above this much queued data, frame packets are dropped: they would arrive stale. */
const FRAMES_MAX_BUFFERED_BYTES = 16 * 1024;

/** One remote person over P2P: the simple-peer connection to them, their media, and the codec's channels. */
export class RemotePeer extends Emitter<ParticipantEvents> implements RemoteParticipant {
  readonly peerId: string;
  readonly name: string;
  readonly connectionId: string;
  readonly pc: RTCPeerConnection;
  remoteStream: MediaStream | undefined;
  connected = false;
  private readonly peer: SimplePeer.Instance;
  private readonly channels = new Map<CodecChannel, RTCDataChannel>();
  private readonly packetListeners = new Set<PacketListener>();
  private settings: MediaSettings;
  private videoOn: boolean;
  /** The transceiver simple-peer put our camera on (undefined without a camera). */
  private readonly videoTransceiver: RTCRtpTransceiver | undefined;
  private parameterWork: Promise<void> = Promise.resolve();
  private closed = false;
  /** They said they strip bundles from their incoming audio: only then do ours ride on it. */
  private remoteStripsAudio = false;
  private closeAudioRoute: (() => void) | undefined;
  /** Frame bundles put in our audio (and the bytes they added to it), fallen back to the datachannel, taken out of the peer's audio. */
  readonly audioBundleCounts = { sent: 0, sentBytes: 0, received: 0, fallback: 0 };

  constructor(private readonly options: RemotePeerOptions) {
    super();
    this.peerId = options.info.id;
    this.name = options.info.name;
    this.connectionId = options.connectionId;
    this.settings = options.settings;
    this.videoOn = options.sendVideo;
    this.peer = new SimplePeer({
      initiator: options.initiator,
      stream: options.localStream,
      trickle: true,
      config: { iceServers: options.iceServers as RTCIceServer[], iceTransportPolicy: ICE_TRANSPORT_POLICY },
      // simple-peer always opens a channel of its own; the codec's are the two below.
      channelName: 'kiloface-simple-peer',
      sdpTransform: (sdp: string) => withOpusParams(sdp),
    });
    // simple-peer keeps its RTCPeerConnection in a private field; we need it for the codec's
    // extra channels, codec preferences, sender parameters and getStats().
    this.pc = (this.peer as unknown as { _pc: RTCPeerConnection })._pc;
    this.openCodecChannels();
    this.carryBundlesOnAudio();
    this.applyCodecPreferences();
    // simple-peer added the camera in its constructor (synchronously, before its first offer).
    // Without video, our half of the m-line is receive-only from the start: a send stream that
    // is merely inactive and trackless still carried Chromium's bandwidth probes under load
    // (31 padding packets, 12.7 kB, in a kiloface-mode call). The m-line stays, so the first
    // switch to video is one renegotiation (setVideoSending).
    this.videoTransceiver = this.pc.getTransceivers().find((t) => t.sender.track?.kind === 'video');
    if (!options.sendVideo && this.videoTransceiver) {
      this.videoTransceiver.direction = 'recvonly';
      void this.videoTransceiver.sender.replaceTrack(null);
    }

    this.peer.on('signal', (signal) => this.options.sendSignal({ cid: this.connectionId, signal }));
    this.peer.on('stream', (stream: MediaStream) => {
      this.remoteStream = stream;
      this.emit('stream', stream);
    });
    this.peer.on('connect', () => {
      this.connected = true;
      void this.applySenderParameters();
      this.emit('connect');
    });
    this.peer.on('error', (error: Error) => this.shutdown(`connection error: ${error.message}`));
    this.peer.on('close', () => this.shutdown('connection closed'));
    // Sender parameters are per negotiated session: re-apply whenever a negotiation completes.
    this.pc.addEventListener('signalingstatechange', () => {
      if (this.pc.signalingState === 'stable') void this.applySenderParameters();
    });
  }

  get isOpen(): boolean {
    return [...this.channels.values()].every((c) => c.readyState === 'open') && this.channels.size === 2;
  }

  signal(signal: SimplePeer.SignalData): void {
    if (!this.closed) this.peer.signal(signal);
  }

  send(channel: CodecChannel, packet: Uint8Array): boolean {
    const carrier = this.options.audioBundles;
    if (channel === 'frames' && this.remoteStripsAudio && carrier && this.isOpen) {
      carrier.send(this.audioKey, packet);
      return true;
    }
    return this.sendOnChannel(channel, packet);
  }

  /** They told us (peer state) whether they strip bundles from our audio. */
  setRemoteStripsAudio(strips: boolean): void {
    this.remoteStripsAudio = strips && this.options.audioBundles !== undefined;
  }

  private get audioKey(): string {
    return `${this.peerId}/${this.connectionId}`;
  }

  private sendOnChannel(channel: CodecChannel, packet: Uint8Array): boolean {
    const dc = this.channels.get(channel);
    if (!dc || dc.readyState !== 'open') return false;
    if (channel === 'frames' && dc.bufferedAmount > FRAMES_MAX_BUFFERED_BYTES) return false;
    dc.send(packet as Uint8Array<ArrayBuffer>);
    return true;
  }

  onPacket(listener: PacketListener): () => void {
    this.packetListeners.add(listener);
    return () => this.packetListeners.delete(listener);
  }

  async getStats(): Promise<StatsSnapshot | undefined> {
    if (this.pc.connectionState === 'closed') return undefined;
    return toSnapshot(await this.pc.getStats());
  }

  async updateSettings(settings: MediaSettings): Promise<void> {
    this.settings = settings;
    this.applyCodecPreferences();
    await this.applySenderParameters();
  }

  /**
   * Puts the camera on the video sender, or no track at all (nothing is sent, not even black
   * frames). The first time video goes out, our receive-only half of the m-line becomes
   * send-receive, which takes a renegotiation; later switches keep it (like the SFU's paused producer).
   */
  async setVideoSending(on: boolean): Promise<void> {
    const transceiver = this.videoTransceiver;
    if (this.closed || !transceiver) return;
    this.videoOn = on;
    const track = on ? (this.options.localStream.getVideoTracks()[0] ?? null) : null;
    try {
      if (transceiver.sender.track !== track) await transceiver.sender.replaceTrack(track);
    } catch (error) {
      console.warn('replaceTrack (video) failed', error);
    }
    if (this.closed) return; // closed while the track changed
    if (on && transceiver.direction === 'recvonly') {
      try {
        transceiver.direction = 'sendrecv';
        // simple-peer's own renegotiation (untyped in @types/simple-peer): it offers, or asks the initiator to.
        (this.peer as unknown as { negotiate(): void }).negotiate();
      } catch (error) {
        console.warn('video renegotiation failed', error); // the connection is closing
      }
    }
    // Inactive as well as trackless once it has sent: Chromium pads an active video stream with bandwidth probes.
    await this.applySenderParameters();
  }

  close(): void {
    this.shutdown('closed locally');
  }

  private shutdown(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.connected = false;
    this.closeAudioRoute?.();
    for (const channel of this.channels.values()) channel.close();
    this.peer.destroy();
    this.emit('close', reason);
  }

  /**
   * Our audio sender appends bundles (once they said they strip); every audio receiver strips,
   * whether or not they append, so a trailer never reaches the Opus decoder.
   */
  private carryBundlesOnAudio(): void {
    const carrier = this.options.audioBundles;
    if (!carrier) return;
    const key = this.audioKey;
    this.closeAudioRoute = carrier.open(key, {
      received: (bundle) => {
        this.audioBundleCounts.received++;
        for (const listener of this.packetListeners) listener('frames', bundle);
      },
      fallback: (bundle) => {
        this.audioBundleCounts.fallback++;
        this.sendOnChannel('frames', bundle);
      },
      carried: (count, bytes) => {
        this.audioBundleCounts.sent += count;
        this.audioBundleCounts.sentBytes += bytes;
      },
    });
    const transformAudio = (transceiver: RTCRtpTransceiver): void => {
      if (transceiver.receiver.track.kind !== 'audio') return;
      carrier.transform(transceiver.receiver, key, 'receive');
      carrier.transform(transceiver.sender, key, 'send');
    };
    // simple-peer added our microphone already; the answerer's receivers come with the offer.
    for (const transceiver of this.pc.getTransceivers()) transformAudio(transceiver);
    this.pc.addEventListener('track', (event) => {
      if (event.transceiver) transformAudio(event.transceiver);
    });
  }

  private openCodecChannels(): void {
    for (const [name, init] of Object.entries(CHANNEL_INIT) as [CodecChannel, RTCDataChannelInit][]) {
      const channel = this.pc.createDataChannel(`kiloface-${name}`, init);
      channel.binaryType = 'arraybuffer';
      channel.onmessage = (event: MessageEvent<ArrayBuffer>) => {
        const packet = new Uint8Array(event.data);
        for (const listener of this.packetListeners) listener(name, packet);
      };
      channel.onopen = () => {
        if (this.isOpen) this.emit('link-open');
      };
      this.channels.set(name, channel);
    }
  }

  /** Puts the chosen codec first in what we offer or answer. */
  private applyCodecPreferences(): void {
    const capabilities = RTCRtpReceiver.getCapabilities('video');
    if (!capabilities) return;
    for (const transceiver of this.pc.getTransceivers()) {
      if (transceiver.receiver.track.kind !== 'video' || !('setCodecPreferences' in transceiver)) continue;
      try {
        transceiver.setCodecPreferences(preferCodec(capabilities.codecs, this.settings.videoCodec));
      } catch (error) {
        console.warn('setCodecPreferences failed', error);
      }
    }
  }

  /**
   * The codec we send comes first in the *remote* description, which the other side wrote; so we
   * pick it explicitly per encoding (RTCRtpEncodingParameters.codec) among the negotiated ones,
   * and cap its bitrate. Audio gets its low cap here too. One run at a time: getParameters()'s
   * result goes stale across an interleaved run's awaits, and setParameters then throws.
   */
  private applySenderParameters(): Promise<void> {
    this.parameterWork = this.parameterWork.then(() => this.writeSenderParameters());
    return this.parameterWork;
  }

  private async writeSenderParameters(): Promise<void> {
    for (const transceiver of this.pc.getTransceivers()) {
      // The receiver's kind: a video sender may carry no track (kiloface mode, camera off) and still needs its cap for later.
      const { sender } = transceiver;
      const kind = transceiver.receiver.track.kind;
      if (transceiver.direction !== 'sendrecv' && transceiver.direction !== 'sendonly') continue;
      const params = sender.getParameters();
      const encoding = params.encodings?.[0];
      if (!encoding) continue; // not negotiated yet
      if (kind === 'audio') encoding.maxBitrate = AUDIO_SENDER_MAX_BITRATE;
      else {
        encoding.active = this.videoOn;
        encoding.maxBitrate = this.settings.videoCapKbps * 1000;
        const codec = findSendCodec(params.codecs ?? [], this.settings.videoCodec);
        if (codec) (encoding as RTCRtpEncodingParameters & { codec?: RTCRtpCodec }).codec = codec;
      }
      try {
        await sender.setParameters(params);
      } catch (error) {
        console.warn(`setParameters (${kind}) failed`, error);
      }
    }
  }
}
