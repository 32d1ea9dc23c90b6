import { writePacket, PacketType, type PacketHeader } from '../bitstream/packet.ts';
import type { FaceGeometry } from '../geometry/face-geometry.ts';
import { cropBox, landmarkBox, toCropPixels, type CropBox } from '../geometry/reference-crop.ts';
import { CROP_SIZE, FRAME_SLOT_MS } from '../shipped.ts';
import { GeometryEncoder, type GeometryCodingConfig } from '../geometry/geometry-coder.ts';
import type { CodecChannel } from '../transport.ts';
import { writeReferencePicture, type PictureFormat, type RequestReason } from './reference-packet.ts';
import type { RateMode } from './rate-modes.ts';
import { datachannelWireBytes } from './wire.ts';
import { lerp } from './lerp.ts';
import { Emitter } from '../emitter.ts';
import { isGuideSlot, type GuideChunk, type GuideCodecs, type GuideEncoder, type GuideLayer } from './guide-codec.ts';
import { MAX_GUIDE_CHUNKS, writeGuidedFrames, type BundledGuide } from './guide-packet.ts';

// The sending half of a live neural stream, free of browser APIs (the page's worker gives it
// landmarks and makes pictures; tests drive it directly).
//
// Per camera frame slot (a fixed 40 ms grid at 25 fps) it gets the tracker's landmarks or none:
//   - no reference yet, or one is due (refresh timer, a receiver's request, the face drifted
//     out of the reference crop, the closed-loop quality check failed): make one (async: crop,
//     code as WebP, decode, find its landmarks as the receiver will) and send it on the reliable
//     channel with an anchor (that frame's geometry, coded without prediction);
//   - every frameStride-th slot: the geometry (pose + expression, relative to the reference's own
//     shape) joins the pending bundle; a full bundle goes out as one FRAMES packet (unreliable);
//   - no face: the bundle is flushed and a NoFace packet sent per bundle period, before the first
//     reference too (receivers then say the camera sees no face rather than "waiting");
//   - with a guide layer (mode.guide, issue 17), on guide slots: the guidePicture hook gives the
//     crop of the frame at the active reference's box, downscaled to the layer's side; the guide
//     encoder codes it and the chunk goes inside the frame's bundle (GeometryFramesGuided). A
//     bundle with guide pictures leaves when its pictures are coded, and every later packet waits
//     behind it, so packets keep their order.

export interface PreparedReference {
  format: PictureFormat;
  /** The coded picture, as sent. */
  bytes: Uint8Array;
  /** The 468 landmarks (crop pixels) found on the DECODED picture: what the receiver will find. */
  landmarks: Float32Array;
}

export interface SenderHooks<Frame> {
  /** Sends to every receiver; returns false when nothing went out (no one there, or backed up). */
  send(channel: CodecChannel, packet: Uint8Array): boolean;
  /** Crops `frame` at `box` to 256x256, codes it, decodes it and finds its landmarks; undefined if no face is found on it. */
  makeReference(frame: Frame, box: CropBox, quality: number): Promise<PreparedReference | undefined>;
  /**
   * The closed loop: how well the receiver will rebuild `frame` from `landmarks` (crop pixels, as
   * the receiver decodes them), as PSNR in dB against the crop of `frame` at `box`. Optional: a
   * sender without a decoder relies on the refresh timer and requests alone.
   */
  checkQuality?(frame: Frame, box: CropBox, landmarks: Float32Array): Promise<number>;
  /**
   * The guide layer's picture (issue 17): the crop of `frame` at `box` (the active reference's
   * box, the one the landmarks' crop pixels are in) as side x side interleaved RGB, made as
   * codec/stream/guide-codec.ts says (areaDownscale of the 256 px crop). Called during pushFrame,
   * so it may read a frame the caller closes afterwards; it may return a promise. Without it (or
   * without SenderOptions.guideCodecs) no guide pictures are sent, whatever the mode says.
   */
  guidePicture?(frame: Frame, box: CropBox, side: number): Uint8Array | Promise<Uint8Array>;
}

export type ReferenceCause = 'start' | 'refresh' | 'request' | 'moved' | 'quality';

/** Something the sender tried and could not do; it retries, but the page should say so. */
export interface SenderError {
  /** 'reference': a reference picture could not be made (receivers wait for it); 'quality-check': the closed loop failed; 'guide': a guide picture could not be made or coded (the next one is a keyframe). */
  kind: 'reference' | 'quality-check' | 'guide';
  message: string;
  /** Stream time (the slot) of the attempt. */
  slotMs: number;
}

export interface SenderEvents {
  error: [SenderError];
}

export interface SenderStats {
  payloadBytes: number;
  /** Payload + the datachannel/UDP/IP overhead of each message (codec/stream/wire.ts). */
  wireBytes: number;
  messages: number;
  references: number;
  referenceBytes: number;
  referencesByCause: Record<ReferenceCause, number>;
  /** Requests answered by sending the current reference again (its packets as they were) instead of a new one. */
  referencesResent: number;
  framesCoded: number;
  /** Frame packets not sent (channel backed up, or dropped by the loss simulation). */
  framesPacketsDropped: number;
  lastQualityDb: number | undefined;
  /** Reference pictures that could not be made (hook threw, or no face on the coded picture); retried at the next due time. */
  referenceFailures: number;
  /** Closed-loop checks that threw (the reference is kept; the next check runs as usual). */
  qualityCheckFailures: number;
  /** The latest failure, for the page's status. */
  lastError: SenderError | undefined;
  /** Guide pictures sent inside bundles (a dropped bundle's count too), their coded bytes, and how many were keyframes. */
  guidePictures: number;
  guideBytes: number;
  guideKeyframes: number;
  /** Guide keyframes made because a receiver asked ('guide-keyframe' requests served). */
  guideKeyframeRequests: number;
  /** Guide pictures that could not be made or coded (hook or encoder threw). */
  guideFailures: number;
}

export interface SenderOptions {
  geometry: FaceGeometry;
  coding: GeometryCodingConfig;
  mode: RateMode;
  /** Camera frame slot length (ms): 40 at 25 fps. */
  slotMs?: number;
  /** A new reference when the closed-loop PSNR falls below this (dB). */
  minQualityDb?: number;
  /** How often the closed loop runs (ms of stream time). */
  qualityCheckMs?: number;
  /** Drop this fraction of FRAMES packets before sending (testing concealment); default 0. */
  simulatedLoss?: number;
  random?: () => number;
  /** Where the guide layer's encoder comes from (WebCodecs in the browser, ffmpeg in Node); without it no guide is sent. */
  guideCodecs?: GuideCodecs;
}

/** Frames whose landmarks pick the crop of a new reference (the crop rule's median over them). */
const CROP_HISTORY = 8;
/** The face may drift this far (fraction of the crop) from where the reference had it. */
const MAX_DRIFT = 0.12;
/** Or change its size by this factor. */
const MAX_SCALE_CHANGE = 1.2;
/** Up to this many skipped slots (480 ms) are filled in; a longer gap starts a new bundle. */
const MAX_FILLED_SLOTS = 12;
/** A receiver's request is served at most this often (ms). */
const REQUEST_GAP_MS = 1000;

interface ActiveReference {
  id: number;
  box: CropBox;
  shape: Float64Array;
  /** Face box centre and size in crop pixels when the reference was made. */
  centre: [number, number];
  size: number;
  /** Its packets as sent (picture, anchor), for a receiver that has not got them. */
  packets: readonly Uint8Array[];
}

export class NeuralSender<Frame> {
  readonly stats: SenderStats = {
    payloadBytes: 0,
    wireBytes: 0,
    messages: 0,
    references: 0,
    referenceBytes: 0,
    referencesByCause: { start: 0, refresh: 0, request: 0, moved: 0, quality: 0 },
    referencesResent: 0,
    framesCoded: 0,
    framesPacketsDropped: 0,
    lastQualityDb: undefined,
    referenceFailures: 0,
    qualityCheckFailures: 0,
    lastError: undefined,
    guidePictures: 0,
    guideBytes: 0,
    guideKeyframes: 0,
    guideKeyframeRequests: 0,
    guideFailures: 0,
  };
  /** 'error' when a reference or a quality check fails (also counted in stats). */
  readonly events = new Emitter<SenderEvents>();
  private mode: RateMode;
  private readonly encoder: GeometryEncoder;
  private readonly slotMs: number;
  private reference: ActiveReference | undefined;
  private nextReferenceId = 0;
  private making: Promise<void> | undefined;
  private requested: RequestReason | undefined;
  private lastReferenceMs = -Infinity;
  private lastResendMs = -Infinity;
  private pending: { slotMs: number; values: Float32Array; guide?: Promise<Omit<BundledGuide, 'frameIndex'> | undefined> }[] = [];
  /**
   * The guide layer's encoder, made for the mode's layer when the first guide picture is due;
   * keyframeDue: its next picture must be a keyframe (its first, or after a picture failed).
   */
  private guide: { layer: GuideLayer; encoder: Promise<GuideEncoder>; keyframeDue: boolean } | undefined;
  /** Guide pictures are coded one after the other, in slot order. */
  private guideChain: Promise<unknown> = Promise.resolve();
  private guideNumber = 0;
  private guideBox: CropBox | undefined;
  private guideKeyframeRequested = false;
  private lastGuideKeyframeRequestMs = -Infinity;
  /** Packets that wait behind a bundle whose guide pictures are still being coded; undefined when none waits. */
  private outbox: Promise<void> | undefined;
  private readonly history: Float32Array[] = [];
  private sequence = 0;
  private slotIndex = 0;
  private noFaceSlots = 0;
  private lastQualityCheckMs = -Infinity;
  private qualityFailed = false;
  private lastSlot: { slotMs: number; landmarks: Float32Array | null; frame: Frame } | undefined;
  private checking = false;
  private simulatedLoss: number;
  private readonly random: () => number;

  constructor(
    private readonly options: SenderOptions,
    private readonly hooks: SenderHooks<Frame>,
  ) {
    this.mode = options.mode;
    this.slotMs = options.slotMs ?? FRAME_SLOT_MS;
    this.encoder = new GeometryEncoder(options.coding);
    this.encoder.quantizer = this.mode.quantizer;
    this.simulatedLoss = options.simulatedLoss ?? 0;
    this.random = options.random ?? Math.random;
  }

  get rateMode(): RateMode {
    return this.mode;
  }

  /** A new rate mode; the quantiser changes with the next anchor (a new reference). */
  setMode(mode: RateMode): void {
    this.flush();
    const quantizerChanged = mode.quantizer !== this.mode.quantizer;
    if (!sameLayer(mode.guide, this.mode.guide)) this.closeGuideEncoder();
    this.mode = mode;
    this.encoder.quantizer = mode.quantizer;
    if (quantizerChanged && this.reference) this.requested ??= 'missing';
  }

  setSimulatedLoss(fraction: number): void {
    this.simulatedLoss = Math.max(0, Math.min(1, fraction));
  }

  /** A receiver asked for a reference (it joined, or lost or could not decode ours). */
  requestReference(reason: RequestReason): void {
    if (reason === 'guide-keyframe') this.guideKeyframeRequested = true;
    else this.requested ??= reason;
  }

  /** Which reference the stream uses now, and its crop (for tools and tests that compare crops). */
  get currentReference(): { id: number; box: CropBox } | undefined {
    return this.reference ? { id: this.reference.id, box: this.reference.box } : undefined;
  }

  /**
   * One camera frame slot. `landmarks`: the tracker's 468 xyz in frame pixels, or null when it
   * sees no face. Returns the crop box the frame was coded against (undefined if it was not coded).
   */
  pushFrame(slotMs: number, landmarks: Float32Array | null, frame: Frame): CropBox | undefined {
    // Slots the caller skipped (the tracker was busy) are filled in between the frames on either
    // side, so bundles keep their fixed frame interval and the motion stays smooth; a long gap
    // is not filled.
    const last = this.lastSlot;
    if (last && slotMs > last.slotMs + this.slotMs / 2) {
      const missing = Math.round((slotMs - last.slotMs) / this.slotMs) - 1;
      if (missing > MAX_FILLED_SLOTS) this.flush();
      else {
        for (let i = 1; i <= missing; i++) {
          const between = last.landmarks && landmarks ? lerp(last.landmarks, landmarks, i / (missing + 1)) : last.landmarks;
          this.codeSlot(last.slotMs + i * this.slotMs, between, last.frame);
        }
      }
    } else if (last && slotMs <= last.slotMs) return this.reference?.box; // not after the last slot: ignore
    this.lastSlot = { slotMs, landmarks, frame };
    return this.codeSlot(slotMs, landmarks, frame);
  }


  private codeSlot(slotMs: number, landmarks: Float32Array | null, frame: Frame): CropBox | undefined {
    const slot = this.slotIndex++;
    if (!landmarks) {
      this.history.length = 0;
      this.flush();
      if (this.noFaceSlots % (this.mode.framesPerPacket * this.mode.frameStride) === 0) {
        this.emit('frames', writePacket({ type: PacketType.NoFace, ...this.header(slotMs) }, new Uint8Array(0)));
      }
      this.noFaceSlots++;
      return undefined;
    }
    this.noFaceSlots = 0;
    this.history.push(landmarks);
    if (this.history.length > CROP_HISTORY) this.history.shift();

    if (this.requested && !this.making && this.resendReference(slotMs)) this.requested = undefined;
    const cause = this.referenceDue(slotMs, landmarks);
    if (cause && !this.making) this.startReference(cause, slotMs, frame);
    const ref = this.reference;
    if (!ref || slot % this.mode.frameStride !== 0) return ref?.box;

    const cropLandmarks = toCropPixels(landmarks, ref.box);
    const values = this.options.geometry.encode(cropLandmarks, ref.shape);
    const guide = this.mode.guide && isGuideSlot(slot, this.mode.guide.fps) ? this.codeGuide(slotMs, frame, ref.box, this.mode.guide) : undefined;
    this.pending.push({ slotMs, values, guide });
    this.stats.framesCoded++;
    if (this.pending.length >= this.mode.framesPerPacket) this.flush();
    this.maybeCheckQuality(slotMs, frame, ref, values);
    return ref.box;
  }

  /** Sends the pending frames now (before a reference switch, a gap, or a mode change). */
  flush(): void {
    const ref = this.reference;
    if (this.pending.length === 0 || !ref) return;
    const intervalMs = Math.round(this.slotMs * this.mode.frameStride);
    const bundle = this.pending;
    const { packet } = this.encoder.encodeFrames(
      bundle.map((f) => f.values),
      intervalMs,
      this.header(bundle[0]!.slotMs, ref.id),
    );
    this.pending = [];
    const layer = this.guide?.layer;
    const guides = bundle.map((f, frameIndex) => f.guide?.then((g) => g && { ...g, frameIndex }));
    if (!layer || guides.every((g) => g === undefined)) return this.sendFrames(packet);
    // The bundle leaves once its guide pictures are coded; packets after it wait in the outbox.
    this.later(async () => {
      const chunks = (await Promise.all(guides)).filter((g): g is BundledGuide => g !== undefined).slice(0, MAX_GUIDE_CHUNKS);
      this.sendFrames(chunks.length > 0 ? writeGuidedFrames(packet, { codec: layer.codec, side: layer.side, fps: layer.fps, chunks }) : packet, true);
    });
  }

  private sendFrames(packet: Uint8Array, now = false): void {
    if (this.simulatedLoss > 0 && this.random() < this.simulatedLoss) {
      this.stats.framesPacketsDropped++;
      return;
    }
    if (now) this.emitNow('frames', packet);
    else this.emit('frames', packet);
  }

  /**
   * Starts coding the guide picture of this slot (in order behind the ones before it). Keyframes:
   * the first picture, a new crop box (the picture content jumps), a receiver's request (at most
   * once per REQUEST_GAP_MS), and after a picture that failed. Decided when the picture is coded,
   * not when it is queued: the picture queued behind one that fails must still be a keyframe.
   * Resolves undefined on failure.
   */
  private codeGuide(slotMs: number, frame: Frame, box: CropBox, layer: GuideLayer): Promise<Omit<BundledGuide, 'frameIndex'> | undefined> | undefined {
    const codecs = this.options.guideCodecs;
    const hook = this.hooks.guidePicture;
    if (!codecs || !hook) return undefined;
    if (!this.guide) {
      const encoder = codecs.encoder(layer);
      encoder.catch(() => undefined); // reported by the picture that awaits it
      this.guide = { layer, encoder, keyframeDue: true };
    }
    const guide = this.guide;
    const boxChanged = !sameBox(box, this.guideBox);
    this.guideBox = box;
    let picture: Uint8Array | Promise<Uint8Array>;
    try {
      picture = hook.call(this.hooks, frame, box, layer.side);
    } catch (error) {
      picture = Promise.reject(error);
    }
    const coded = this.guideChain.then(async () => {
      const rgb = await picture;
      if (rgb.length !== layer.side * layer.side * 3) throw new RangeError(`guidePicture gave ${rgb.length} bytes for a ${layer.side}x${layer.side} RGB picture`);
      const chunk: GuideChunk = await (await guide.encoder).encode(rgb, this.takeGuideKeyframe(guide, slotMs, boxChanged));
      const number = this.guideNumber;
      this.guideNumber = (this.guideNumber + 1) % 256;
      this.stats.guidePictures++;
      this.stats.guideBytes += chunk.data.length;
      if (chunk.keyframe) this.stats.guideKeyframes++;
      return { keyframe: chunk.keyframe, data: chunk.data, number };
    });
    this.guideChain = coded.catch((error: unknown) => {
      this.stats.guideFailures++;
      guide.keyframeDue = true; // the encoder's state is unknown: start the chain again
      this.fail('guide', error, slotMs);
    });
    return coded.catch(() => undefined);
  }

  /** Whether the picture being coded now is a keyframe (and the request or due flag it serves is spent). */
  private takeGuideKeyframe(guide: { keyframeDue: boolean }, slotMs: number, boxChanged: boolean): boolean {
    let keyframe = guide.keyframeDue || boxChanged;
    if (this.guideKeyframeRequested && slotMs - this.lastGuideKeyframeRequestMs >= REQUEST_GAP_MS) {
      keyframe = true;
      this.guideKeyframeRequested = false;
      this.lastGuideKeyframeRequestMs = slotMs;
      this.stats.guideKeyframeRequests++;
    }
    guide.keyframeDue = false;
    return keyframe;
  }

  private closeGuideEncoder(): void {
    const guide = this.guide;
    this.guide = undefined;
    if (guide) void this.guideChain.then(() => guide.encoder).then((encoder) => encoder.close(), () => undefined);
  }

  /** Runs `task` after every packet already waiting in the outbox. */
  private later(task: () => void | Promise<void>): void {
    const next = (this.outbox ?? Promise.resolve()).then(task).catch((error: unknown) => this.fail('guide', error, this.lastSlot?.slotMs ?? 0));
    this.outbox = next;
    void next.then(() => {
      if (this.outbox === next) this.outbox = undefined;
    });
  }

  /** Stops the guide encoder (the sender sends nothing more). */
  async close(): Promise<void> {
    this.closeGuideEncoder();
    await this.settled();
  }

  private header(slotMs: number, referenceId = this.reference?.id ?? 0): Omit<PacketHeader, 'type'> {
    const header = { sequence: this.sequence, timestampMs: slotMs, referenceId: referenceId % 256 };
    this.sequence = (this.sequence + 1) % 65536;
    return header;
  }

  /** Sends now, or after the packets waiting in the outbox (a bundle whose guide pictures are being coded). */
  private emit(channel: CodecChannel, packet: Uint8Array): void {
    if (this.outbox) this.later(() => void this.emitNow(channel, packet));
    else this.emitNow(channel, packet);
  }

  private emitNow(channel: CodecChannel, packet: Uint8Array): boolean {
    const length = packet.length; // send may transfer the buffer away
    const sent = this.hooks.send(channel, packet);
    if (!sent) {
      if (channel === 'frames') this.stats.framesPacketsDropped++;
      return false;
    }
    this.stats.payloadBytes += length;
    this.stats.wireBytes += datachannelWireBytes(length);
    this.stats.messages++;
    return true;
  }

  private referenceDue(slotMs: number, landmarks: Float32Array): ReferenceCause | undefined {
    const ref = this.reference;
    if (!ref) return 'start';
    const sinceLast = slotMs - this.lastReferenceMs;
    if (this.requested && sinceLast >= REQUEST_GAP_MS) return 'request';
    if (sinceLast >= this.mode.refreshSeconds * 1000) return 'refresh';
    if (sinceLast < this.mode.minReferenceGapSeconds * 1000) return undefined;
    if (this.qualityFailed) return 'quality';
    const face = landmarkBox(toCropPixels(landmarks, ref.box));
    if (!face) return undefined;
    const drift = Math.hypot(face.centre[0] - ref.centre[0], face.centre[1] - ref.centre[1]) / CROP_SIZE;
    const scale = face.size / ref.size;
    if (drift > MAX_DRIFT || scale > MAX_SCALE_CHANGE || scale < 1 / MAX_SCALE_CHANGE) return 'moved';
    return undefined;
  }


  /**
   * A receiver that joined, or whose frames name an anchor it has not got, lacks the reference
   * already sent: it gets those packets again, under the same id. A new reference would not do:
   * on a thin link the frames (inside the audio packets) outrun the control channel's pictures, so
   * the receiver asked again before each new picture arrived, each answer a new id queued behind
   * the last, and the pictures flooded the link (18 in a CI run at 32 kbit/s, nothing drawn for
   * 20 s). A picture that failed to decode, or a request of the sender's own, gets a new one.
   */
  private resendReference(slotMs: number): boolean {
    const ref = this.reference;
    if ((this.requested !== 'join' && this.requested !== 'unknown-anchor') || !ref) return false;
    if (slotMs - this.lastResendMs >= REQUEST_GAP_MS) {
      this.lastResendMs = slotMs;
      for (const packet of ref.packets) this.emit('control', packet.slice()); // send may transfer the buffer away
      this.stats.referencesResent++;
    }
    return true;
  }

  private startReference(cause: ReferenceCause, slotMs: number, frame: Frame): void {
    const box = cropBox(this.history);
    const landmarks = this.history[this.history.length - 1]!;
    if (!box) return;
    this.lastReferenceMs = slotMs; // also paces retries when making one fails
    this.making = (async () => {
      const prepared = await this.hooks.makeReference(frame, box, this.mode.referenceQuality);
      if (!prepared) throw new Error('no face found on the coded reference picture');
      const face = landmarkBox(prepared.landmarks);
      if (!face) throw new Error('the reference picture\'s landmarks are not finite');
      this.flush(); // frames of the old reference go out under the old id
      const id = this.nextReferenceId;
      this.nextReferenceId = (this.nextReferenceId + 1) % 256;
      const shape = this.options.geometry.referenceShape(prepared.landmarks);
      const picture = writeReferencePicture(this.header(slotMs, id), prepared.format, prepared.bytes);
      // The anchor: the frame the reference was cut from, as the tracker saw it.
      const anchor = this.encoder.encodeAnchor(this.options.geometry.encode(toCropPixels(landmarks, box), shape), this.header(slotMs, id)).packet;
      this.reference = { id, box, shape, centre: face.centre, size: face.size, packets: [picture.slice(), anchor.slice()] };
      this.requested = undefined;
      this.qualityFailed = false;
      this.emit('control', picture);
      this.stats.references++;
      this.stats.referenceBytes += prepared.bytes.length;
      this.stats.referencesByCause[cause]++;
      this.emit('control', anchor);
    })()
      .catch((error: unknown) => {
        // Retried at the next due time (lastReferenceMs paces it); counted so the page can say why receivers wait.
        this.stats.referenceFailures++;
        this.fail('reference', error, slotMs);
      })
      .finally(() => (this.making = undefined));
  }

  private fail(kind: SenderError['kind'], error: unknown, slotMs: number): void {
    const failure: SenderError = { kind, message: error instanceof Error ? error.message : String(error), slotMs };
    this.stats.lastError = failure;
    this.events.emit('error', failure);
  }

  /** Resolves when a reference being made is done and every packet has gone out (for tests, the bench and orderly shutdown). */
  async settled(): Promise<void> {
    await this.making;
    await this.guideChain;
    while (this.outbox) await this.outbox;
  }

  private maybeCheckQuality(slotMs: number, frame: Frame, ref: ActiveReference, values: Float32Array): void {
    const check = this.hooks.checkQuality;
    const every = this.options.qualityCheckMs ?? 2000;
    if (!check || this.checking || slotMs - this.lastQualityCheckMs < every) return;
    this.lastQualityCheckMs = slotMs;
    this.checking = true;
    // What the receiver will decode: the values through the quantiser (prediction is lossless).
    const landmarks = this.options.geometry.decode(this.encoder.reconstruct(values), ref.shape);
    void check
      .call(this.hooks, frame, ref.box, landmarks)
      .then((psnr) => {
        this.stats.lastQualityDb = psnr;
        if (this.reference === ref && psnr < (this.options.minQualityDb ?? 20)) this.qualityFailed = true;
      })
      .catch((error: unknown) => {
        this.stats.qualityCheckFailures++;
        this.fail('quality-check', error, slotMs);
      })
      .finally(() => (this.checking = false));
  }
}

function sameLayer(a: GuideLayer | undefined, b: GuideLayer | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.codec === b.codec && a.side === b.side && a.fps === b.fps && a.kbps === b.kbps);
}

function sameBox(a: CropBox, b: CropBox | undefined): boolean {
  return b !== undefined && a.x === b.x && a.y === b.y && a.size === b.size;
}
