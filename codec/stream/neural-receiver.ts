import { PacketType, readPacket, wrappingDelta16, type PacketErrorCode } from '../bitstream/packet.ts';
import { GeometryDecoder, type GeometryCodingConfig } from '../geometry/geometry-coder.ts';
import type { CodecChannel } from '../transport.ts';
import { probePicture, type PictureErrorCode } from './picture-header.ts';
import { readReferencePicture, type PictureFormat, type RequestReason } from './reference-packet.ts';
import { datachannelWireBytes } from './wire.ts';
import { lerp } from './lerp.ts';
import { guideTo64, MAX_STALE_GUIDES, type GuideCodecName, type GuideCodecs, type GuideDecoder } from './guide-codec.ts';
import { guideNumberDelta, readGuidedFrames, type BundledGuide, type GuideSection } from './guide-packet.ts';

// The receiving half of a live neural stream, free of browser APIs. It turns packets into "the
// geometry to show now":
//   - references (reliable channel) go to the page's decoder through loadReference, one at a
//     time, after their header is checked (format, size); geometry always applies to the newest
//     reference that has loaded, so only the newest one waits while another loads;
//   - FRAMES packets fill a jitter buffer keyed by the sender's frame time; the sender's clock is
//     mapped onto ours by the smallest (arrival − first frame time) seen lately, so a bundle's
//     frames play one by one at their own pace, starting when the bundle arrives;
//   - at display time it interpolates between the frames around "now", and when the next frame
//     is missing (a lost packet) it extrapolates the motion, slowing to a stop, for up to
//     CONCEAL_MS; then holds the last frame (marked stale);
//   - it asks the sender for a reference when it has none, when a picture fails to decode, or
//     when frames keep naming an anchor it never got;
//   - guide pictures (GeometryFramesGuided bundles, issue 17) decode in order through the guide
//     decoder; every face frame carries the newest good one at or before its time (scaled to 64,
//     with the landmarks of the frame it was taken from) while it is at most MAX_STALE_GUIDES
//     guide pictures old, else none (guide_on 0). Pictures that arrive out of order wait up to
//     GUIDE_REORDER_MS for the ones before them; a lost picture (a gap still open then, a delta
//     picture the decoder cannot place) stops decoding until a keyframe, which it asks for; so
//     does a picture that waited more than MAX_GUIDE_WAIT_MS before it was handled.
// Everything it keeps is bounded (issue 13): a sender can flood it, not grow it.

export interface ReceiverHooks {
  /**
   * Decodes the picture, gives it to the decoder and returns the 468 landmarks (crop pixels)
   * found on it; throws when that fails. Calls come one at a time.
   */
  loadReference(referenceId: number, format: PictureFormat, picture: Uint8Array): Promise<Float32Array>;
  /** Sends a ReferenceRequest to the sender (rate-limited here). */
  requestReference(reason: RequestReason): void;
  /** The stream carries a guide layer (its first guide section): a decoder that loads its guided network lazily can start now. */
  guideLayerSeen?(): void;
}

export type DisplayFrame =
  | {
      state: 'face';
      /** Geometry values relative to `shape` (the reference's own shape). */
      values: Float32Array;
      referenceId: number;
      shape: Float64Array;
      /** The sender's frame time shown (unwrapped ms); between two coded frames when interpolated. */
      senderTimeMs: number;
      /** Extrapolated or held past the last frame that arrived. */
      concealed: boolean;
      /** Held longer than concealment covers: the stream has stalled. */
      stale: boolean;
      /** The guide layer for this frame (NeuralDecoder.decode's guide), or undefined: guide_on 0. */
      guide: DisplayGuide | undefined;
    }
  | { state: 'no-face'; referenceId: number }
  /** 'no-face': no reference yet, and the sender's newest packet says it sees no face. */
  | { state: 'waiting'; reason: 'no-reference' | 'no-frames' | 'no-face' };

/** The guide picture to rebuild a frame with (fits NeuralDecoder.decode's GuideInput). */
export interface DisplayGuide {
  /** GUIDE_INPUT_SIDE² RGB, interleaved. */
  picture: Uint8Array;
  /** 468 xyz (crop pixels) of the frame the picture was taken from. */
  landmarks: Float32Array;
  /** Guide pictures missed since this one (0 normally; up to MAX_STALE_GUIDES after a loss). */
  stale: number;
}

export interface ReceiverStats {
  payloadBytes: number;
  wireBytes: number;
  messages: number;
  references: number;
  referenceBytes: number;
  framesReceived: number;
  packetErrors: Partial<Record<PacketErrorCode, number>>;
  /** Reference pictures refused by their header before any decoding (picture-header.ts). */
  pictureErrors: Partial<Record<PictureErrorCode, number>>;
  /** References dropped unloaded because a newer one came while they waited. */
  referencesSkipped: number;
  /** Copies of the reference already loaded or waiting (a sender answers a request by sending it again): not loaded again. */
  referencesRepeated: number;
  /** Frames pushed out of a full jitter buffer (MAX_BUFFERED_FRAMES). */
  framesEvicted: number;
  requestsSent: number;
  concealedFrames: number;
  /** Guide pictures decoded, and their coded bytes. */
  guidePictures: number;
  guideBytes: number;
  /** Guide pictures lost (gaps in the picture numbers), skipped (while waiting for a keyframe, or too old when handled: MAX_GUIDE_WAIT_MS), or that failed to decode. */
  guidesLost: number;
  guidesSkipped: number;
  guideErrors: number;
  guideKeyframeRequests: number;
}

export interface ReceiverOptions {
  coding: GeometryCodingConfig;
  /** Extra delay on top of the earliest-arrival clock mapping, for network jitter (ms). */
  jitterMs?: number;
  /** The reference's own shape from its landmarks (FaceGeometry.referenceShape). */
  referenceShape(landmarks: Float32Array): Float64Array;
  /**
   * The guide layer's decoders (WebCodecs in the browser, ffmpeg in Node). Without it guide
   * pictures are dropped and frames come with no guide (the geometry-only decoder).
   */
  guideCodecs?: GuideCodecs;
  /** Geometry values back to 468 xyz crop pixels (FaceGeometry.decode): the guide picture's landmarks. Needed with guideCodecs. */
  landmarks?(values: Float32Array, shape: Float64Array): Float32Array;
}

/** Extrapolate at most this long past the last frame (ms); then hold it. */
export const CONCEAL_MS = 600;
/** Two frames further apart than this are not interpolated (a gap in the stream). */
const MAX_INTERPOLATION_GAP_MS = 1000;
/** Clock mapping: the minimum of (arrival − frame time) over this window (ms). */
const CLOCK_WINDOW_MS = 4000;
/** Frames kept behind the display time (ms). */
const KEEP_BEHIND_MS = 1000;
const REQUEST_GAP_MS = 2000;
/** An anchor that does not arrive within this time is asked for again, with a new reference. */
const UNKNOWN_ANCHOR_PATIENCE_MS = 1000;
/**
 * Jitter buffer size (frames). It holds KEEP_BEHIND_MS behind the display time, the jitter delay
 * and a bundle ahead (~2 s, 50 frames at 25 fps), plus the frames that wait while their reference
 * loads; 256 is 10 s at 25 fps. Beyond it the oldest frames go (a flood cannot grow it).
 */
export const MAX_BUFFERED_FRAMES = 256;
/** Clock samples kept: the CLOCK_WINDOW_MS window sees at most ~25 packets/s, i.e. ~100. */
export const MAX_CLOCK_SAMPLES = 256;
/** Decoded guide pictures kept (the newest at or before the shown frame is used). */
const MAX_KEPT_GUIDES = 8;
/** Guide keyframe requests at most this often (ms); the sender serves them at most once a second. */
const GUIDE_REQUEST_GAP_MS = 1000;
/** How long a guide chunk after a gap waits for the missing ones (ms): bundles on two paths (audio, datachannel) may overtake each other. */
const GUIDE_REORDER_MS = 300;
/**
 * A guide chunk that reached this end longer ago than this (ms) is dropped undecoded and the chain
 * restarts at a fresh keyframe: the ~10-20 s of pictures queued while a browser worker loaded its
 * models. Well above the waits of a running call, whose backlog is cheaper to decode than a
 * keyframe: a rebuild blocks the receiver worker for 100-1000 ms, loading the guided network for
 * seconds (at 2 s, a run dropped chunks after that load and asked for 3 keyframes).
 */
const MAX_GUIDE_WAIT_MS = 5000;
/** Guide chunks waiting to decode, or to be put in order; beyond it the newest are dropped as lost (a flood cannot grow the queue). */
const MAX_QUEUED_GUIDES = 32;

interface KeptGuide {
  referenceId: number;
  timeMs: number;
  intervalMs: number;
  picture: Uint8Array;
  values: Float32Array;
  landmarks?: { shape: Float64Array; xyz: Float32Array };
}

interface PendingGuide {
  chunk: BundledGuide;
  kept: Omit<KeptGuide, 'picture'>;
  /** When it reached this end, and when it was handed to onPacket (reordering waits from then: a queue before it delays the chunks it overtook too). */
  arrivedMs: number;
  handedMs: number;
}

interface BufferedFrame {
  timeMs: number;
  referenceId: number;
  values: Float32Array | null; // null: the sender saw no face from here on
}

interface LoadedReference {
  id: number;
  shape: Float64Array;
  /** The coded picture it was loaded from: a copy of it that comes again is not loaded again. */
  picture: Uint8Array;
}

export class NeuralReceiver {
  readonly stats: ReceiverStats = {
    payloadBytes: 0,
    wireBytes: 0,
    messages: 0,
    references: 0,
    referenceBytes: 0,
    framesReceived: 0,
    packetErrors: {},
    pictureErrors: {},
    referencesSkipped: 0,
    referencesRepeated: 0,
    framesEvicted: 0,
    requestsSent: 0,
    concealedFrames: 0,
    guidePictures: 0,
    guideBytes: 0,
    guidesLost: 0,
    guidesSkipped: 0,
    guideErrors: 0,
    guideKeyframeRequests: 0,
  };
  private readonly geometry: GeometryDecoder;
  private readonly jitterMs: number;
  private active: LoadedReference | undefined;
  /** The load loop while it runs, and the newest reference waiting for it (at most one). */
  private loading: Promise<void> | undefined;
  private waiting: { id: number; format: PictureFormat; picture: Uint8Array; nowMs: number } | undefined;
  private newestReferenceSeen: number | undefined;
  private frames: BufferedFrame[] = [];
  private lastTimestamp: number | undefined;
  private readonly clockSamples: { atMs: number; offset: number }[] = [];
  private clockFromFrames = false;
  private lastRequestMs = -Infinity;
  private unknownAnchorSinceMs: number | undefined;
  private firstPacketMs: number | undefined;
  /** Whether the sender's newest geometry packet (by its frame time) said it sees no face. */
  private newestSaysNoFace = false;
  private newestGeometryMs = -Infinity;
  private guideDecoder: { codec: GuideCodecName; side: number; decoder: Promise<GuideDecoder> } | undefined;
  /** Resolves when the guide chunks so far are in the decoder (not their pictures: guidesInFlight). */
  private guideChain: Promise<void> = Promise.resolve();
  /** Guide pictures handed to the decoder and not back yet (its queue), each until it is kept or failed. */
  private readonly guidesInFlight = new Set<Promise<void>>();
  private lastGuideNumber: number | undefined;
  /** A picture was lost: delta pictures cannot decode until a keyframe. */
  private guideBroken = true;
  private lastGuideRequestMs = -Infinity;
  private guides: KeptGuide[] = [];
  /** Guide chunks arrived, not yet handed to the decoder (waiting for a missing earlier one). */
  private pendingGuides: PendingGuide[] = [];

  constructor(
    private readonly options: ReceiverOptions,
    private readonly hooks: ReceiverHooks,
  ) {
    this.geometry = new GeometryDecoder(options.coding);
    this.jitterMs = options.jitterMs ?? 60;
    if (options.guideCodecs && !options.landmarks) throw new Error('a receiver with guideCodecs needs landmarks() to place its guide pictures');
  }

  get referenceId(): number | undefined {
    return this.active?.id;
  }

  /**
   * One packet from the sender. Bad packets are counted and dropped; nothing here throws.
   * `arrivedMs` (same clock as nowMs): when the packet reached this end, where it waited in a queue
   * before this call (a browser worker still loading its models); guide pictures that waited too
   * long are not decoded.
   */
  onPacket(channel: CodecChannel, bytes: Uint8Array, nowMs: number, arrivedMs = nowMs): void {
    this.stats.payloadBytes += bytes.length;
    this.stats.wireBytes += datachannelWireBytes(bytes.length);
    this.stats.messages++;
    this.firstPacketMs ??= nowMs;
    const parsed = readPacket(bytes);
    if (!parsed.ok) return this.countError(parsed.error.code);
    if (parsed.value.type === PacketType.ReferenceRequest) return; // for senders, not for us
    if (parsed.value.type === PacketType.ReferencePicture) return this.onReferencePicture(bytes, nowMs);
    let guide: GuideSection | undefined;
    if (parsed.value.type === PacketType.GeometryFramesGuided) {
      const split = readGuidedFrames(bytes);
      if (!split.ok) return this.countError(split.error.code);
      guide = split.value.guide;
      bytes = split.value.frames;
    }

    const decoded = this.geometry.decode(bytes);
    if (!decoded.ok) {
      this.countError(decoded.error.code);
      if (decoded.error.code === 'unknown-anchor') {
        this.unknownAnchorSinceMs ??= nowMs;
        if (nowMs - this.unknownAnchorSinceMs > UNKNOWN_ANCHOR_PATIENCE_MS) this.request('unknown-anchor', nowMs);
      }
      return;
    }
    const g = decoded.value;
    if (g.kind === 'no-face') {
      const time = this.unwrap(g.timestampMs);
      // NoFace and anchors go out at once, FRAMES packets a bundle later: the clock follows
      // FRAMES packets, and the others only stand in until one has come.
      this.observeClock(time, nowMs, true);
      this.insert({ timeMs: time, referenceId: g.referenceId, values: null });
      this.noteNewest(time, true);
      return;
    }
    this.unknownAnchorSinceMs = undefined;
    const list = g.kind === 'anchor' ? [g.frame] : g.frames;
    const times = list.map((f) => this.unwrap(f.timestampMs));
    this.observeClock(times[0]!, nowMs, g.kind === 'anchor');
    list.forEach((f, i) => this.insert({ timeMs: times[i]!, referenceId: f.referenceId, values: f.values }));
    this.stats.framesReceived += list.length;
    this.noteNewest(times[times.length - 1]!, false);
    if (guide) this.onGuides(guide, list, times, nowMs, arrivedMs);
  }

  /** The guide pictures of a bundle whose geometry decoded: in order into the guide decoder. */
  private onGuides(section: GuideSection, frames: readonly { referenceId: number; values: Float32Array }[], times: readonly number[], nowMs: number, arrivedMs: number): void {
    const codecs = this.options.guideCodecs;
    if (!codecs) return;
    if (this.guideDecoder?.codec !== section.codec || this.guideDecoder.side !== section.side) {
      const old = this.guideDecoder;
      if (old) this.guideChain = this.guideChain.then(() => old.decoder.then((d) => d.close())).catch(() => undefined);
      if (!old) this.hooks.guideLayerSeen?.();
      const decoder = codecs.decoder({ codec: section.codec, side: section.side, fps: section.fps, kbps: 0 });
      decoder.catch(() => undefined); // reported by the pictures that await it
      this.guideDecoder = { codec: section.codec, side: section.side, decoder };
      this.guideBroken = true;
      this.pendingGuides = []; // the old stream's pictures
      this.lastGuideNumber = undefined;
    }
    for (const chunk of section.chunks) {
      const frame = frames[chunk.frameIndex];
      if (!frame) {
        this.countError('bad-field');
        continue;
      }
      const delta = this.lastGuideNumber === undefined ? undefined : guideNumberDelta(this.lastGuideNumber, chunk.number);
      if (delta !== undefined && delta <= 0) continue; // late or repeated: the chain has moved on
      if (this.pendingGuides.some((p) => p.chunk.number === chunk.number)) continue;
      const kept = { referenceId: frame.referenceId, timeMs: times[chunk.frameIndex]!, intervalMs: 1000 / section.fps, values: frame.values };
      this.pendingGuides.push({ chunk, kept, arrivedMs, handedMs: nowMs });
    }
    this.drainGuides(nowMs);
  }

  /**
   * Hands pending guide chunks to the decoder in picture order. Bundles may arrive out of order
   * (small ones inside audio frames, big ones such as keyframes on the datachannel), so a chunk
   * after a gap waits up to GUIDE_REORDER_MS for the missing ones before they count as lost.
   */
  private drainGuides(nowMs: number): void {
    const pending = this.pendingGuides;
    while (pending.length > 0) {
      const last = this.lastGuideNumber;
      const order = (n: number) => (last === undefined ? 0 : guideNumberDelta(last, n));
      pending.sort((a, b) => order(a.chunk.number) - order(b.chunk.number));
      const next = pending[0]!;
      const delta = last === undefined ? undefined : order(next.chunk.number);
      if (delta !== undefined && delta > 1) {
        // A gap: wait for the missing pictures unless a keyframe makes them moot, or it is too late.
        const keyframe = pending.find((p) => p.chunk.keyframe);
        if (!keyframe && nowMs - next.handedMs < GUIDE_REORDER_MS && pending.length < MAX_QUEUED_GUIDES) return;
        if (keyframe && keyframe !== next) {
          // Jump to the keyframe: what lies before it is of no use any more.
          const skip = pending.indexOf(keyframe);
          this.stats.guidesSkipped += skip;
          this.stats.guidesLost += order(keyframe.chunk.number) - 1 - skip;
          pending.splice(0, skip + 1);
          this.decodeGuide(keyframe, nowMs);
          continue;
        }
        this.stats.guidesLost += delta - 1;
        if (!next.chunk.keyframe) this.breakGuideChain(nowMs, next.arrivedMs);
      }
      pending.shift();
      this.decodeGuide(next, nowMs);
    }
  }

  private decodeGuide({ chunk, kept, arrivedMs }: PendingGuide, nowMs: number): void {
    const broken = (): void => this.breakGuideChain(nowMs, arrivedMs);
    const { decoder, side } = this.guideDecoder!;
    this.lastGuideNumber = chunk.number;
    if (nowMs - arrivedMs > MAX_GUIDE_WAIT_MS) {
      // Far too old to show: the pictures that came while a receiver loaded its models (~10 s of
      // them, its first keyframe among them) took a warming-up worker seconds to work through
      // (the guide came on 6-15 s after the first rebuilt pictures, 3-9 s since). A fresh keyframe is ~1 s away.
      this.stats.guidesSkipped++;
      broken();
      return;
    }
    if (chunk.keyframe) this.guideBroken = false;
    if (!this.guideBroken && this.guidesInFlight.size >= MAX_QUEUED_GUIDES) {
      // Dropped undecoded: every delta after it would decode against the wrong picture.
      this.stats.guidesLost++;
      broken();
      return;
    }
    if (this.guideBroken) {
      this.stats.guidesSkipped++;
      // Asked again (rate-limited) while no keyframe comes: the one sent may have been lost too.
      broken();
      return;
    }
    // Handed to the decoder in order, each without waiting for the picture before it: the decoder
    // (WebCodecs) works on its own thread while this one is busy, and every picture back costs this
    // thread a turn of its event loop. One at a time, a receiver warming up (100-800 ms a rebuild)
    // got ~3 pictures a second back of 10, the queue overflowed and the guide was off for the
    // call's first ~10 s (issue 17). The object keeps the picture's promise from being awaited.
    const handed = this.guideChain.then(async () => ({ picture: (await decoder).decode(chunk) }));
    this.guideChain = handed.then(() => undefined, () => undefined);
    const done = handed
      .then(({ picture }) => picture)
      .then((rgb) => {
        this.keepGuide({ ...kept, picture: guideTo64(rgb, side) });
        this.stats.guidePictures++;
        this.stats.guideBytes += chunk.data.length;
      })
      .catch(() => {
        this.stats.guideErrors++;
        // A delta picture without its predecessor, or a picture the decoder refused: wait for a keyframe.
        broken();
      })
      .finally(() => this.guidesInFlight.delete(done));
    this.guidesInFlight.add(done);
  }

  /** The chain is broken at a chunk that reached this end at `arrivedMs`: decode nothing until a keyframe, and ask for one. */
  private breakGuideChain(nowMs: number, arrivedMs: number): void {
    if (!this.guideBroken) {
      this.guideBroken = true;
      const decoder = this.guideDecoder?.decoder;
      // Pictures in the decoder before the loss still come out first (ffmpeg's reset ends its run).
      const before = [...this.guidesInFlight];
      if (decoder) this.guideChain = this.guideChain.then(() => Promise.all(before)).then(() => decoder).then((d) => d.reset(), () => undefined);
    }
    // A keyframe asked for while the decoder still works through a backlog (it fell behind: a
    // receiver warming up decodes ~3-5 guide pictures a second) would queue behind it, its pictures
    // too late to show, and the backlog would overflow again: each request bought a keyframe (~10
    // delta pictures' bytes) and nothing else. Asked for once the backlog could still be shown;
    // the pictures that keep coming while the chain is broken ask again.
    if (this.guidesInFlight.size > MAX_STALE_GUIDES) return;
    // Counted from the chunk's arrival: one that came before the keyframe could arrive (it waited in
    // a queue while the worker loaded its guided network) asked again for nothing.
    if (arrivedMs - this.lastGuideRequestMs < GUIDE_REQUEST_GAP_MS) return;
    this.lastGuideRequestMs = nowMs;
    this.stats.guideKeyframeRequests++;
    this.hooks.requestReference('guide-keyframe');
  }

  private keepGuide(guide: KeptGuide): void {
    let i = this.guides.length;
    while (i > 0 && this.guides[i - 1]!.timeMs > guide.timeMs) i--;
    this.guides.splice(i, 0, guide);
    if (this.guides.length > MAX_KEPT_GUIDES) this.guides.shift();
  }

  /** The newest good guide picture at or before sender time t, for reference `ref`, unless it is too stale. */
  private guideAt(t: number, ref: LoadedReference): DisplayGuide | undefined {
    const landmarks = this.options.landmarks;
    if (!landmarks) return undefined;
    const usable = this.guides.filter((g) => g.referenceId === ref.id % 256);
    const g = [...usable].reverse().find((c) => c.timeMs <= t) ?? usable[0];
    if (!g) return undefined;
    const stale = Math.max(0, Math.floor((t - g.timeMs) / g.intervalMs));
    if (stale > MAX_STALE_GUIDES) return undefined;
    if (g.landmarks?.shape !== ref.shape) g.landmarks = { shape: ref.shape, xyz: landmarks(g.values, ref.shape) };
    return { picture: g.picture, landmarks: g.landmarks.xyz, stale };
  }

  private noteNewest(timeMs: number, noFace: boolean): void {
    if (timeMs < this.newestGeometryMs) return; // a late packet says nothing about now
    this.newestGeometryMs = timeMs;
    this.newestSaysNoFace = noFace;
  }

  /**
   * Call on a timer: asks for a reference when none has come (a receiver that joins a running
   * stream, or whose first reference was lost with a connection).
   */
  tick(nowMs: number): void {
    if (!this.active && this.firstPacketMs !== undefined && this.newestReferenceSeen === undefined) this.request('join', nowMs);
  }

  /** What to show at `nowMs` (this receiver's clock, the one onPacket was given). */
  frameAt(nowMs: number): DisplayFrame {
    if (!this.active) return { state: 'waiting', reason: this.newestSaysNoFace ? 'no-face' : 'no-reference' };
    const offset = this.clockOffset();
    if (offset === undefined) return { state: 'waiting', reason: 'no-frames' };
    return this.frameAtSenderTime(nowMs - offset - this.jitterMs);
  }

  /**
   * What to show for the sender's frame time `t` (unwrapped ms). frameAt gets `t` from its
   * clock mapping; a replay on the sender's own clock (the bench) asks for each frame time.
   */
  frameAtSenderTime(t: number): DisplayFrame {
    const ref = this.active;
    if (!ref) return { state: 'waiting', reason: 'no-reference' };
    // Frames of older references cannot be drawn with this one's picture; newer ones wait for theirs.
    const usable = this.frames.filter((f) => f.referenceId === ref.id % 256);
    this.frames = this.frames.filter((f) => f.timeMs >= t - KEEP_BEHIND_MS || f === usable[usable.length - 1]);
    if (usable.length === 0) return { state: 'waiting', reason: 'no-frames' };

    let before: BufferedFrame | undefined;
    let after: BufferedFrame | undefined;
    for (const f of usable) {
      if (f.timeMs <= t) before = f;
      else {
        after = f;
        break;
      }
    }
    if (!before) before = usable[0]!; // the stream starts in the future: show its first frame
    if (!before.values) return { state: 'no-face', referenceId: ref.id };
    const face = (values: Float32Array, senderTimeMs: number, concealed: boolean, stale = false): DisplayFrame => ({
      state: 'face',
      values,
      referenceId: ref.id,
      shape: ref.shape,
      senderTimeMs,
      concealed,
      stale,
      guide: this.guideAt(t, ref),
    });
    if (after?.values && after.timeMs - before.timeMs <= MAX_INTERPOLATION_GAP_MS && t >= before.timeMs) {
      const w = (t - before.timeMs) / (after.timeMs - before.timeMs);
      return face(lerp(before.values, after.values, w), t, false);
    }
    if (after || t <= before.timeMs) return face(before.values, before.timeMs, false);
    // Past the newest frame: carry the motion on, slowing to a stop, then hold.
    this.stats.concealedFrames++;
    const since = t - before.timeMs;
    const previous = [...usable].reverse().find((f) => f.timeMs < before.timeMs && f.values);
    if (!previous?.values || since > CONCEAL_MS) return face(before.values, before.timeMs, true, since > CONCEAL_MS);
    const dt = before.timeMs - previous.timeMs;
    // Velocity decays linearly to 0 over CONCEAL_MS: displacement = v (s − s²/2C).
    const travel = (since - (since * since) / (2 * CONCEAL_MS)) / dt;
    return face(lerp(previous.values, before.values, 1 + Math.min(travel, 1)), t, true);
  }

  private onReferencePicture(bytes: Uint8Array, nowMs: number): void {
    const parsed = readReferencePicture(bytes);
    if (!parsed.ok) {
      this.countError(parsed.error.code);
      this.request('decode-failed', nowMs);
      return;
    }
    const { header, format, picture } = parsed.value;
    // A browser decodes whatever it is given, at whatever size the file claims: check first.
    const probed = probePicture(picture, format);
    if (!probed.ok) {
      this.stats.pictureErrors[probed.error.code] = (this.stats.pictureErrors[probed.error.code] ?? 0) + 1;
      this.request('decode-failed', nowMs);
      return;
    }
    this.stats.references++;
    this.stats.referenceBytes += picture.length;
    this.newestReferenceSeen = header.referenceId;
    const newest = this.waiting ?? this.active;
    if (newest?.id === header.referenceId && sameBytes(newest.picture, picture)) {
      this.stats.referencesRepeated++;
      return;
    }
    if (this.waiting) this.stats.referencesSkipped++; // never shown: geometry follows the newest
    this.waiting = { id: header.referenceId, format, picture, nowMs };
    this.loading ??= this.loadReferences();
  }

  /** Loads the waiting reference, one at a time, until none waits. */
  private async loadReferences(): Promise<void> {
    try {
      for (let next = this.waiting; next; next = this.waiting) {
        this.waiting = undefined;
        try {
          const landmarks = await this.hooks.loadReference(next.id, next.format, next.picture);
          this.active = { id: next.id, shape: this.options.referenceShape(landmarks), picture: next.picture };
        } catch {
          this.request('decode-failed', next.nowMs);
        }
      }
    } finally {
      this.loading = undefined;
    }
  }

  /** Resolves when the references received so far have loaded (for tests). */
  async settled(): Promise<void> {
    while (this.loading) await this.loading;
    for (let chain = this.guideChain; ; chain = this.guideChain) {
      await chain;
      await Promise.all(this.guidesInFlight);
      if (chain === this.guideChain && this.guidesInFlight.size === 0) break;
    }
  }

  /** Closes the guide decoder. */
  async close(): Promise<void> {
    await this.settled();
    const decoder = this.guideDecoder?.decoder;
    this.guideDecoder = undefined;
    await decoder?.then((d) => d.close(), () => undefined);
  }

  private request(reason: RequestReason, nowMs: number): void {
    if (nowMs - this.lastRequestMs < REQUEST_GAP_MS) return;
    this.lastRequestMs = nowMs;
    this.stats.requestsSent++;
    this.hooks.requestReference(reason);
  }

  private countError(code: PacketErrorCode): void {
    this.stats.packetErrors[code] = (this.stats.packetErrors[code] ?? 0) + 1;
  }

  /** 16-bit packet times → a continuous ms count (frames are never 32 s apart). */
  private unwrap(timestamp: number): number {
    const time = this.lastTimestamp === undefined ? timestamp : this.lastTimestamp + wrappingDelta16(this.lastTimestamp % 65536, timestamp);
    if (this.lastTimestamp === undefined || time > this.lastTimestamp) this.lastTimestamp = time;
    return time;
  }

  private observeClock(frameTimeMs: number, nowMs: number, standIn: boolean): void {
    if (standIn && this.clockFromFrames) return;
    if (!standIn && !this.clockFromFrames) this.clockSamples.length = 0;
    this.clockFromFrames ||= !standIn;
    this.clockSamples.push({ atMs: nowMs, offset: nowMs - frameTimeMs });
    while (this.clockSamples.length > 1 && this.clockSamples[0]!.atMs < nowMs - CLOCK_WINDOW_MS) this.clockSamples.shift();
    if (this.clockSamples.length > MAX_CLOCK_SAMPLES) this.clockSamples.shift();
  }

  private clockOffset(): number | undefined {
    if (this.clockSamples.length === 0) return undefined;
    let min = Infinity;
    for (const s of this.clockSamples) min = Math.min(min, s.offset);
    return min;
  }

  private insert(frame: BufferedFrame): void {
    let i = this.frames.length;
    while (i > 0 && this.frames[i - 1]!.timeMs > frame.timeMs) i--;
    if (this.frames[i - 1]?.timeMs === frame.timeMs) this.frames[i - 1] = frame;
    else this.frames.splice(i, 0, frame);
    // Pruning by display time needs a loaded reference; this bound holds before one too.
    if (this.frames.length > MAX_BUFFERED_FRAMES) {
      this.frames.shift();
      this.stats.framesEvicted++;
    }
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
