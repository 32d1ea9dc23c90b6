// The neural stream on the page: one sender worker for our camera, one receiver worker per
// remote person, joined to the call's codec channels (PacketTransport: P2P or SFU alike).
import { Emitter } from '../../codec/emitter.ts';
import { PacketType } from '../../codec/bitstream/packet.ts';
import { FRAME_SLOT_MS as SLOT_MS } from '../../codec/shipped.ts';
import { rateModeFor } from '../../codec/stream/rate-modes.ts';
import { packetType, readReferenceRequest, writeReferenceRequest } from '../../codec/stream/reference-packet.ts';
import type { PacketLink, PacketTransport } from '../../codec/transport.ts';
import type { FromReceiver, FromSender, ReceiverState, ReceiverStatus, SenderStatus, ToReceiver, ToSender } from './protocol.ts';
import type { NeuralSettings } from './settings.ts';
import { compileOnnxWasm, onnxWasmMessage } from '../runtime/onnx-web.ts';
import { TrackingPace } from './tracking-pace.ts';

export interface RemoteFrame {
  bitmap: ImageBitmap;
  senderTimeMs: number;
  concealed: boolean;
  stale: boolean;
}

type Events = {
  frame: [peerId: string, frame: RemoteFrame];
  /** What a person's receiver is doing (downloading models, waiting for a reference, …). */
  'receiver-state': [peerId: string, state: ReceiverState];
  'receiver-status': [peerId: string, status: ReceiverStatus];
  'sender-status': [status: SenderStatus];
  /** Something the user should know (the models did not load, …). */
  notice: [string];
};

/** Camera frames go to the tracker at most this wide. */
const CAPTURE_WIDTH = 640;

interface Transport extends PacketTransport {
  readonly self: { id: string } | undefined;
}

class ReceiverHandle {
  readonly worker: Worker;
  private sequence = 0;
  constructor(
    readonly peerId: string,
    codec: NeuralStream,
  ) {
    this.worker = new Worker(new URL('./receiver-worker.ts', import.meta.url), { type: 'module', name: `kiloface receiver ${peerId}` });
    this.worker.onmessage = (event: MessageEvent<FromReceiver>) => codec.fromReceiver(this, event.data);
    this.worker.onerror = (event) => codec.emit('notice', `neural receiver failed: ${event.message}`);
    // One thread: measured on a 2-core machine with both call ends, two threads were not faster.
    this.post({ type: 'start', threads: 1 });
    void codec.onnxWasm().then((module) => this.worker.postMessage(onnxWasmMessage(module)));
  }
  post(message: ToReceiver, transfer: Transferable[] = []): void {
    this.worker.postMessage(message, transfer);
  }
  nextSequence(): number {
    return (this.sequence = (this.sequence + 1) % 65536);
  }
}

export class NeuralStream extends Emitter<Events> {
  private sender: Worker | undefined;
  private selfCheck: Worker | undefined;
  private senderBusy = false;
  private captureTimer: ReturnType<typeof setInterval> | undefined;
  private readonly receivers = new Map<string, ReceiverHandle>();
  private readonly unsubscribe: (() => void)[] = [];
  private readonly crops = new Map<number, (pixels: Uint8ClampedArray | null) => void>();
  private nextCropId = 0;
  /** The video mode wants kiloface sent now (a running sender is paused, not stopped, so switching back is instant). */
  private sendingWanted = true;
  private wasm: Promise<WebAssembly.Module | undefined> | undefined;
  private readonly pace = new TrackingPace();
  latestSenderStatus: SenderStatus | undefined;
  readonly receiverStatus = new Map<string, ReceiverStatus>();
  readonly receiverState = new Map<string, ReceiverState>();

  constructor(
    private readonly transport: Transport,
    private settings: NeuralSettings,
  ) {
    super();
    const watch = (link: PacketLink): void => {
      this.unsubscribe.push(link.onPacket((channel, bytes) => this.onPacket(link, channel, bytes)));
    };
    for (const link of transport.links()) watch(link);
    this.unsubscribe.push(
      transport.onLinkChange((link, open) => {
        this.sender?.postMessage({ type: 'audience', links: transport.links().length } satisfies ToSender);
        if (!open) return;
        watch(link);
        // Someone new can see us: they need a reference. Peer to peer it goes to everyone (they would
        // ask anyway); through the SFU they ask, and the server answers from its copy of our latest.
        if (!transport.relayKeepsReferences) this.sender?.postMessage({ type: 'request', reason: 'join' } satisfies ToSender);
      }),
    );
  }

  /** onnxruntime's WASM compiled once for all our workers; undefined where that fails (each worker then compiles its own). */
  onnxWasm(): Promise<WebAssembly.Module | undefined> {
    this.wasm ??= compileOnnxWasm().catch(() => undefined);
    return this.wasm;
  }

  /** Starts sending our camera's face (when the settings say so and there is a camera). */
  startSending(stream: MediaStream | undefined): void {
    const track = stream?.getVideoTracks()[0];
    if (!this.settings.send || !track || this.sender) return;
    const worker = new Worker(new URL('./sender-worker.ts', import.meta.url), { type: 'module', name: 'kiloface sender' });
    this.sender = worker;
    worker.onmessage = (event: MessageEvent<FromSender>) => this.fromSender(event.data);
    worker.onerror = (event) => this.emit('notice', `neural sender failed: ${event.message}`);
    // The closed-loop check gets a worker of its own, so that it never holds up the tracker.
    const selfCheck = new Worker(new URL('./self-check-worker.ts', import.meta.url), { type: 'module', name: 'kiloface sender self-check' });
    this.selfCheck = selfCheck;
    const { port1, port2 } = new MessageChannel();
    selfCheck.postMessage({ port: port2 }, [port2]);
    const start: ToSender = {
      type: 'start',
      mode: rateModeFor(this.settings.targetKbps),
      loss: this.settings.simulatedLoss,
      keepCrops: this.settings.keepCrops,
      threads: 1,
      selfCheck: port1,
    };
    worker.postMessage(start, [port1]);
    void this.onnxWasm().then((module) => {
      for (const w of [worker, selfCheck]) w.postMessage(onnxWasmMessage(module));
    });
    worker.postMessage({ type: 'audience', links: this.transport.links().length } satisfies ToSender);
    worker.postMessage({ type: 'paused', paused: !this.sendingWanted } satisfies ToSender);
    // Camera frames reach the worker without touching this thread where the browser can do it.
    const Processor = (globalThis as unknown as { MediaStreamTrackProcessor?: new (init: { track: MediaStreamTrack }) => { readable: ReadableStream<VideoFrame> } }).MediaStreamTrackProcessor;
    if (Processor) {
      // The call's own track: when the camera is turned off it gives black frames, and no face goes out.
      const { readable } = new Processor({ track });
      worker.postMessage({ type: 'camera', frames: readable } satisfies ToSender, [readable as unknown as Transferable]);
    } else this.captureFromVideo(worker, track);
  }

  /** Fallback: grab the camera from a video element on this thread, one frame at a time. */
  private captureFromVideo(worker: Worker, track: MediaStreamTrack): void {
    const video = document.createElement('video');
    video.muted = true;
    video.playsInline = true;
    video.srcObject = new MediaStream([track]);
    void video.play().catch(() => undefined);
    const origin = performance.now();
    let ready = false;
    worker.addEventListener('message', (event: MessageEvent<FromSender>) => {
      if (event.data.type === 'ready') ready = true;
    });
    this.captureTimer = setInterval(() => {
      // One frame in the worker at a time: a busy tracker skips slots (the sender fills them in).
      if (!ready || this.senderBusy || !this.sendingWanted || !track.enabled || track.readyState !== 'live' || video.videoWidth === 0) return;
      const slotMs = Math.round((performance.now() - origin) / SLOT_MS) * SLOT_MS;
      this.senderBusy = true;
      const width = Math.min(CAPTURE_WIDTH, video.videoWidth);
      createImageBitmap(video, { resizeWidth: width, resizeHeight: Math.round((video.videoHeight * width) / video.videoWidth) })
        .then((bitmap) => worker.postMessage({ type: 'frame', bitmap, slotMs } satisfies ToSender, [bitmap]))
        .catch(() => (this.senderBusy = false));
    }, SLOT_MS);
  }

  /** Whether this page can send kiloface at all (settings allow it and there is a camera). */
  get sending(): boolean {
    return this.sender !== undefined;
  }

  /** Sends kiloface or pauses it (the video mode's choice); the models stay loaded. */
  setSending(on: boolean): void {
    if (on === this.sendingWanted) return;
    this.sendingWanted = on;
    this.sender?.postMessage({ type: 'paused', paused: !on } satisfies ToSender);
  }

  setTargetKbps(kbps: number): void {
    this.settings = { ...this.settings, targetKbps: kbps };
    this.sender?.postMessage({ type: 'mode', mode: rateModeFor(kbps) } satisfies ToSender);
  }

  get targetKbps(): number {
    return this.settings.targetKbps;
  }

  /** Drops this fraction of our frames packets before they leave (to watch concealment). */
  setSimulatedLoss(fraction: number): void {
    this.sender?.postMessage({ type: 'loss', fraction } satisfies ToSender);
  }

  /** The 256x256 RGBA crop we coded for the frame slot `slotMs` (needs `neuralDebug=1`). */
  senderCrop(slotMs: number): Promise<Uint8ClampedArray | null> {
    if (!this.sender) return Promise.resolve(null);
    const id = this.nextCropId++;
    return new Promise((resolve) => {
      this.crops.set(id, resolve);
      this.sender!.postMessage({ type: 'crop', id, slotMs } satisfies ToSender);
    });
  }

  /** A person left: their receiver goes. */
  dropPeer(peerId: string): void {
    const receiver = this.receivers.get(peerId);
    receiver?.post({ type: 'stop' });
    receiver?.worker.terminate();
    this.receivers.delete(peerId);
    this.receiverStatus.delete(peerId);
    this.receiverState.delete(peerId);
  }

  close(): void {
    for (const off of this.unsubscribe) off();
    clearInterval(this.captureTimer);
    this.sender?.terminate();
    this.selfCheck?.terminate();
    for (const id of [...this.receivers.keys()]) this.dropPeer(id);
  }

  private onPacket(link: PacketLink, channel: 'frames' | 'control', bytes: Uint8Array): void {
    const type = packetType(bytes);
    if (type === undefined) return; // not a codec packet
    if (type === PacketType.ReferenceRequest) {
      const request = readReferenceRequest(bytes);
      if (request.ok && request.value.target === this.transport.self?.id) this.sender?.postMessage({ type: 'request', reason: request.value.reason } satisfies ToSender);
      return;
    }
    let receiver = this.receivers.get(link.peerId);
    if (!receiver) this.receivers.set(link.peerId, (receiver = new ReceiverHandle(link.peerId, this)));
    const copy = bytes.slice();
    receiver.post({ type: 'packet', channel, bytes: copy, arrivedEpochMs: performance.timeOrigin + performance.now() }, [copy.buffer]);
  }

  private fromSender(message: FromSender): void {
    switch (message.type) {
      case 'packet':
        this.transport.broadcast(message.channel, message.bytes);
        return;
      case 'frame-done':
        this.senderBusy = false;
        return;
      case 'status': {
        // Once a second: our tracker's pace from how our receivers fared (tracking-pace.ts).
        const before = this.pace.trackEvery;
        const trackEvery = this.pace.next([...this.receiverStatus.values()]);
        if (trackEvery !== before) this.sender?.postMessage({ type: 'pace', trackEvery } satisfies ToSender);
        this.latestSenderStatus = message.status;
        this.emit('sender-status', message.status);
        return;
      }
      case 'crop':
        this.crops.get(message.id)?.(message.pixels);
        this.crops.delete(message.id);
        return;
      case 'error':
        this.emit('notice', message.message);
        return;
      case 'ready':
        return;
    }
  }

  /** @internal messages from a receiver worker */
  fromReceiver(receiver: ReceiverHandle, message: FromReceiver): void {
    switch (message.type) {
      case 'frame':
        this.emit('frame', receiver.peerId, message);
        return;
      case 'state':
        this.receiverState.set(receiver.peerId, message.state);
        this.emit('receiver-state', receiver.peerId, message.state);
        return;
      case 'request': {
        const link = this.transport.links().find((l) => l.peerId === receiver.peerId);
        const header = { sequence: receiver.nextSequence(), timestampMs: 0, referenceId: 0 };
        link?.send('control', writeReferenceRequest(header, message.reason, receiver.peerId));
        return;
      }
      case 'status':
        this.receiverStatus.set(receiver.peerId, message.status);
        this.emit('receiver-status', receiver.peerId, message.status);
        return;
      case 'error':
        this.emit('notice', message.message);
        return;
      case 'ready':
        return;
    }
  }
}
