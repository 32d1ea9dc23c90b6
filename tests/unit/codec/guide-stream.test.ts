import { describe, expect, it } from 'vitest';
import { PacketType, readPacket } from '../../../codec/bitstream/packet.ts';
import { GeometryDecoder, GeometryEncoder, geometryCodingConfig } from '../../../codec/geometry/geometry-coder.ts';
import { toCropPixels, type CropBox } from '../../../codec/geometry/reference-crop.ts';
import { GUIDE_INPUTS, NeuralDecoder } from '../../../codec/decoder/neural-decoder.ts';
import type { ModelRunner, Tensors } from '../../../codec/model-runner.ts';
import { loadFaceGeometry } from '../../../codec/runners/shipped-node.ts';
import { FRAME_SLOT_MS as SLOT_MS } from '../../../codec/shipped.ts';
import { GuideChainError, GUIDE_INPUT_SIDE, MAX_STALE_GUIDES, type GuideCodecs, type GuideLayer } from '../../../codec/stream/guide-codec.ts';
import { readGuidedFrames, writeGuidedFrames, type GuideSection } from '../../../codec/stream/guide-packet.ts';
import { NeuralReceiver, type DisplayFrame } from '../../../codec/stream/neural-receiver.ts';
import { NeuralSender } from '../../../codec/stream/neural-sender.ts';
import { RATE_MODES, type RateMode } from '../../../codec/stream/rate-modes.ts';
import type { CodecChannel } from '../../../codec/transport.ts';
import { syntheticTalker } from '../../helpers/synthetic-talker.ts';
import { referenceStandIn } from '../../helpers/reference-stand-in.ts';
import { GUIDE_VARIANTS } from '../../../bench/codecs/guide-ffmpeg.ts';
import { rng } from './random.ts';

const { geometry, model } = loadFaceGeometry();
const coding = geometryCodingConfig(geometry);
const talker = syntheticTalker(geometry, model.canonical, { scale: 9, x: 320, y: 240, driftPxPerS: 4, nodPx: 6 });

const LAYER: GuideLayer = { codec: 'av1', side: 8, fps: 12.5, kbps: 3 };
const MODE: RateMode = { ...RATE_MODES[2]!, guide: LAYER };

/**
 * A stand-in guide codec: a chunk is [picture number, the picture's first byte]; the decoder
 * knows its chain like a real one (a delta picture needs the one before it) and "decodes" a flat
 * picture of that byte, so tests can see which picture a frame was given.
 */
function fakeCodecs(): GuideCodecs & { keyframes: number[] } {
  const keyframes: number[] = [];
  return {
    keyframes,
    encoder: async (layer) => {
      let n = 0;
      return {
        encode: async (rgb, keyframe) => {
          if (keyframe) keyframes.push(n);
          return { keyframe, data: Uint8Array.of(n++ % 256, rgb[0]!) };
        },
        close: () => undefined,
      };
    },
    decoder: async (layer) => {
      let last: number | undefined;
      return {
        decode: async (chunk) => {
          if (!chunk.keyframe && (last === undefined || (last + 1) % 256 !== chunk.data[0])) throw new GuideChainError('broken chain');
          last = chunk.data[0];
          return new Uint8Array(layer.side * layer.side * 3).fill(chunk.data[1]!);
        },
        reset: () => (last = undefined),
        close: () => undefined,
      };
    },
  };
}

/** A sender and a receiver with guide pictures, joined by a link that can drop FRAMES packets. */
function guidedLink(codecs = fakeCodecs()) {
  const references = referenceStandIn(talker);
  const requests: string[] = [];
  const layersSeen: number[] = [];
  let drop = false;
  let swap = false;
  /** How long packets waited before the receiver was handed them (a busy browser worker). */
  let queueDelayMs = 0;
  let held: { channel: CodecChannel; bytes: Uint8Array } | undefined;
  const inFlight: { channel: CodecChannel; bytes: Uint8Array }[] = [];
  const sender = new NeuralSender<number>(
    { geometry, coding, mode: MODE, guideCodecs: codecs },
    {
      send(channel, bytes) {
        if (drop && channel === 'frames') return true;
        if (swap && channel === 'frames') {
          // Every other FRAMES packet overtaken by the next one (two paths: audio and datachannel).
          if (held) {
            inFlight.push({ channel, bytes }, held);
            held = undefined;
          } else held = { channel, bytes };
          return true;
        }
        inFlight.push({ channel, bytes });
        return true;
      },
      makeReference: references.makeReference,
      // The "picture" of slot t: flat, its value the slot number (mod 256).
      guidePicture: (frameTime, _box, side) => new Uint8Array(side * side * 3).fill((frameTime / SLOT_MS) % 256),
    },
  );
  const receiver = new NeuralReceiver(
    { coding, referenceShape: (l) => geometry.referenceShape(l), guideCodecs: codecs, landmarks: (v, shape) => geometry.decode(v, shape) },
    {
      loadReference: references.loadReference,
      requestReference: (reason) => {
        requests.push(reason);
        sender.requestReference(reason); // the control channel, instantly
      },
      guideLayerSeen: () => layersSeen.push(layersSeen.length),
    },
  );
  async function run(fromMs: number, untilMs: number): Promise<{ atMs: number; frame: DisplayFrame }[]> {
    const shown: { atMs: number; frame: DisplayFrame }[] = [];
    for (let now = fromMs; now < untilMs; now += SLOT_MS) {
      sender.pushFrame(now, talker(now), now);
      await sender.settled();
      for (const p of inFlight.splice(0)) receiver.onPacket(p.channel, p.bytes, now, now - queueDelayMs);
      await receiver.settled();
      shown.push({ atMs: now, frame: receiver.frameAtSenderTime(now - 5 * SLOT_MS) });
    }
    return shown;
  }
  /** Packets reach the receiver, which is not waited for (its decoding may lag). */
  async function deliver(fromMs: number, untilMs: number): Promise<void> {
    for (let now = fromMs; now < untilMs; now += SLOT_MS) {
      sender.pushFrame(now, talker(now), now);
      await sender.settled();
      for (const p of inFlight.splice(0)) receiver.onPacket(p.channel, p.bytes, now);
    }
  }
  /** The packets sent meanwhile, with their send times, not delivered (a receiver still loading). */
  async function queue(fromMs: number, untilMs: number): Promise<{ channel: CodecChannel; bytes: Uint8Array; atMs: number }[]> {
    const queued: { channel: CodecChannel; bytes: Uint8Array; atMs: number }[] = [];
    for (let now = fromMs; now < untilMs; now += SLOT_MS) {
      sender.pushFrame(now, talker(now), now);
      await sender.settled();
      queued.push(...inFlight.splice(0).map((p) => ({ ...p, atMs: now })));
    }
    return queued;
  }
  return { sender, receiver, codecs, requests, layersSeen, run, deliver, queue, setDrop: (d: boolean) => (drop = d), setSwap: (on: boolean) => (swap = on), setQueueDelay: (ms: number) => (queueDelayMs = ms) };
}

const faces = (shown: { frame: DisplayFrame }[]) => shown.flatMap((s) => (s.frame.state === 'face' ? [s.frame] : []));

// The stream cases code seconds of synthetic talker; at a load average of ~10 they took 6-9 s.
describe('guide pictures in the stream', { timeout: 60_000 }, () => {
  it('GeometryFramesGuided round-trips, and its geometry is the GeometryFrames packet it was made from', () => {
    const encoder = new GeometryEncoder(coding);
    const decoder = new GeometryDecoder(coding);
    const values = [0, 1, 2].map((k) => geometry.encode(toCropPixels(talker(k * 40), { x: 192, y: 112, size: 256 }), geometry.referenceShape(toCropPixels(talker(0), { x: 192, y: 112, size: 256 }))));
    decoder.decode(encoder.encodeAnchor(values[0]!, { sequence: 0, timestampMs: 0, referenceId: 3 }).packet);
    const { packet } = encoder.encodeFrames(values, 40, { sequence: 1, timestampMs: 40, referenceId: 3 });
    const section: GuideSection = {
      codec: 'vp9',
      side: 48,
      fps: 12.5,
      chunks: [
        { keyframe: true, frameIndex: 0, number: 255, data: new Uint8Array(300).fill(7) }, // a 2-byte length
        { keyframe: false, frameIndex: 2, number: 0, data: Uint8Array.of(1, 2, 3) },
      ],
    };
    const guided = writeGuidedFrames(packet, section);
    const header = readPacket(guided);
    expect(header.ok && header.value).toMatchObject({ type: PacketType.GeometryFramesGuided, sequence: 1, referenceId: 3 });
    expect(guided.length).toBe(packet.length + 3 + (2 + 2 + 300) + (2 + 1 + 3));
    const read = readGuidedFrames(guided);
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(read.value.guide).toEqual(section);
    expect(read.value.frames).toEqual(packet);
    // The geometry decoder refuses the guided packet itself: an old receiver cannot misread it.
    const direct = decoder.decode(guided);
    expect(!direct.ok && direct.error.code).toBe('unknown-type');
    expect(decoder.decode(read.value.frames).ok).toBe(true);
  });

  it('malformed guide sections give typed errors, never a throw', () => {
    const encoder = new GeometryEncoder(coding);
    encoder.encodeAnchor(new Float32Array(coding.dimensions), { sequence: 0, timestampMs: 0, referenceId: 0 });
    const { packet } = encoder.encodeFrames([new Float32Array(coding.dimensions)], 40, { sequence: 1, timestampMs: 0, referenceId: 0 });
    const guided = writeGuidedFrames(packet, { codec: 'av1', side: 32, fps: 10, chunks: [{ keyframe: true, frameIndex: 0, number: 0, data: new Uint8Array(200).fill(9) }] });
    const codes = new Set<string>();
    for (let n = 0; n < guided.length; n++) {
      const r = readGuidedFrames(guided.subarray(0, n));
      if (!r.ok) codes.add(r.error.code);
    }
    expect(codes).toEqual(new Set(['truncated']));
    const random = rng(3);
    for (let i = 0; i < 5000; i++) {
      const bytes = guided.slice();
      for (let k = 0; k < 1 + Math.floor(random() * 4); k++) {
        const at = Math.floor(random() * bytes.length);
        bytes[at] = bytes[at]! ^ (1 << Math.floor(random() * 8));
      }
      bytes[0] = (bytes[0]! & 0x0f) | 0x10; // keep the version: exercise the section
      const r = readGuidedFrames(bytes);
      if (!r.ok) expect(['truncated', 'bad-field', 'unknown-type']).toContain(r.error.code);
    }
    const bad = guided.slice();
    bad[6] = 0x31; // codec 3
    expect(readGuidedFrames(bad)).toMatchObject({ ok: false, error: { code: 'bad-field' } });
    bad[6] = 0x10; // no chunks
    expect(readGuidedFrames(bad)).toMatchObject({ ok: false, error: { code: 'bad-field' } });
  });

  it('the receiver hands each frame the newest guide picture at or before it, with the landmarks of its frame', async () => {
    const { run, sender, layersSeen } = guidedLink();
    const all = faces(await run(0, 2000));
    expect(layersSeen).toHaveLength(1); // the first guide section told the page's decoder, once
    // Before the first bundle only the anchor's frame is there (no guide yet, or the first one,
    // which comes from a later frame: the decoder warps it back with its landmarks).
    const firstGuideMs = Math.min(...all.flatMap((f) => (f.guide ? [f.guide.picture[0]! * SLOT_MS] : [])));
    const shown = all.filter((f) => f.senderTimeMs >= firstGuideMs);
    expect(shown.length).toBeGreaterThan(30);
    expect(shown.every((f) => f.guide)).toBe(true);
    for (const f of shown) {
      // 12.5/s: every 2nd slot; the picture of slot s is flat with value s.
      const slot = f.guide!.picture[0]!;
      expect(slot % 2).toBe(0);
      expect(f.senderTimeMs / SLOT_MS - slot).toBeGreaterThanOrEqual(0);
      expect(f.senderTimeMs / SLOT_MS - slot).toBeLessThan(2);
      expect(f.guide!.picture.length).toBe(GUIDE_INPUT_SIDE * GUIDE_INPUT_SIDE * 3);
      expect(f.guide!.stale).toBe(0);
      const truth = toCropPixels(talker(slot * SLOT_MS), sender.currentReference!.box);
      let err = 0;
      for (let i = 0; i < truth.length; i += 3) err = Math.max(err, Math.hypot(truth[i]! - f.guide!.landmarks[i]!, truth[i + 1]! - f.guide!.landmarks[i + 1]!));
      expect(err).toBeLessThan(2); // the quantised geometry of that frame
    }
    expect(sender.stats.guidePictures).toBe(24); // slots 2, 4, … 48 (slot 0 waits for the reference)
    expect(sender.stats.guideKeyframes).toBe(1);
  });

  it('a lost bundle: stale guides up to 4 pictures, then none, a keyframe request, and back on', async () => {
    const { run, setDrop, requests, codecs, receiver, sender } = guidedLink();
    await run(0, 1000);
    setDrop(true);
    const lost = await run(1000, 1600); // 3 bundles (15 slots, ~7 guide pictures) lost
    setDrop(false);
    const after = await run(1600, 3000);
    const stale = faces([...lost, ...after]).map((f) => f.guide?.stale ?? -1);
    // Rising staleness 0..4 while the old picture serves, then no guide (guide_on 0)...
    expect(stale).toContain(MAX_STALE_GUIDES);
    expect(Math.max(...stale)).toBe(MAX_STALE_GUIDES);
    expect(stale).toContain(-1);
    // ...the next bundle shows the gap: a keyframe request, served, and the guide is back.
    expect(requests).toContain('guide-keyframe');
    expect(receiver.stats.guidesLost).toBeGreaterThan(0);
    expect(sender.stats.guideKeyframeRequests).toBe(1);
    expect(codecs.keyframes.length).toBe(2);
    const tail = faces(after).slice(-10);
    expect(tail.every((f) => f.guide?.stale === 0)).toBe(true);
  });

  it.each([0, 1000])('bundles that overtake each other (handed %i ms after they arrived): the guide pictures still decode in order, none lost, no keyframe asked for', async (queueDelayMs) => {
    const { run, setSwap, setQueueDelay, requests, receiver } = guidedLink();
    setQueueDelay(queueDelayMs); // the overtaken bundle waited in the same queue: reordering still waits for it
    await run(0, 1000);
    const before = receiver.stats.guidePictures;
    setSwap(true);
    const swapped = await run(1000, 3000);
    expect(receiver.stats.guidesLost).toBe(0);
    expect(receiver.stats.guideErrors).toBe(0);
    expect(requests).not.toContain('guide-keyframe');
    expect(receiver.stats.guidePictures - before).toBeGreaterThan(20); // 12.5/s for 2 s, less the last held bundle
    expect(faces(swapped).slice(-20).every((f) => f.guide !== undefined)).toBe(true);
  });

  it('chunks go to the decoder without waiting for the pictures before them (a busy receiver gets pictures back in batches)', async () => {
    const inner = fakeCodecs();
    // Pictures come back only when the test says (a worker busy rebuilding gives its event loop a turn rarely).
    const held: (() => void)[] = [];
    let handed = 0;
    const batched: GuideCodecs & { keyframes: number[] } = {
      keyframes: inner.keyframes,
      encoder: inner.encoder,
      decoder: async (layer) => {
        const d = await inner.decoder(layer);
        return {
          ...d,
          decode: (chunk) => {
            handed++;
            const picture = d.decode(chunk); // the chain is checked as the chunk goes in, as WebCodecs does
            return new Promise<Uint8Array>((resolve, reject) => held.push(() => void picture.then(resolve, reject)));
          },
        };
      },
    };
    const { run, deliver, requests, receiver, sender } = guidedLink(batched);
    await deliver(0, 2000);
    for (let i = 0; i < 5; i++) await Promise.resolve(); // the hand-over's own microtasks
    await new Promise((resolve) => setTimeout(resolve, 0));
    const coded = sender.stats.guidePictures;
    expect(coded).toBeGreaterThan(10);
    // Every picture that reached the receiver is in the decoder, though none has come back yet.
    expect(held.length).toBe(handed);
    expect(handed).toBeGreaterThanOrEqual(coded - 2); // the newest bundle may still be open
    for (const release of held.splice(0)) release();
    await receiver.settled();
    expect(receiver.stats.guidePictures).toBe(handed);
    expect(receiver.stats.guidesLost + receiver.stats.guidesSkipped + receiver.stats.guideErrors).toBe(0);
    expect(requests).not.toContain('guide-keyframe');
    const pump = setInterval(() => held.splice(0).forEach((release) => release()), 1);
    try {
      const tail = faces(await run(2000, 3000)).slice(-5);
      expect(tail.every((f) => f.guide !== undefined)).toBe(true);
    } finally {
      clearInterval(pump);
    }
  });

  it('a decoder that falls behind: a chunk dropped from the full queue breaks the chain (no delta decodes against the wrong picture), and the keyframe is asked for once the backlog is out', async () => {
    const inner = fakeCodecs();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow: GuideCodecs & { keyframes: number[] } = {
      keyframes: inner.keyframes,
      encoder: inner.encoder,
      decoder: async (layer) => {
        const d = await inner.decoder(layer);
        return { ...d, decode: async (chunk) => { await gate; return d.decode(chunk); } };
      },
    };
    const { run, deliver, requests, receiver, sender } = guidedLink(slow);
    await deliver(0, 4000); // ~50 guide pictures while the decoder is stuck: the queue (32) overflows
    expect(receiver.stats.guidesLost).toBeGreaterThan(0);
    // No keyframe asked for while the backlog is still in the decoder: it would queue behind it.
    expect(requests).not.toContain('guide-keyframe');
    release();
    await receiver.settled();
    // Nothing decoded against a wrong predecessor: the fake decoder throws on a broken chain.
    expect(receiver.stats.guideErrors).toBe(0);
    const tail = faces(await run(4000, 6000)).slice(-10);
    // Once the backlog is out, the next picture asks; one keyframe, and the guide is back.
    expect(requests.filter((r) => r === 'guide-keyframe')).toHaveLength(1);
    expect(sender.stats.guideKeyframeRequests).toBe(1);
    expect(tail.every((f) => f.guide?.stale === 0)).toBe(true);
  });

  it('pictures that waited in a queue past MAX_GUIDE_WAIT_MS (a receiver loading its models) are not decoded: a keyframe is asked for at once, once, and the guide is back with it', async () => {
    const inner = fakeCodecs();
    let handed = 0;
    const counted: GuideCodecs & { keyframes: number[] } = {
      ...inner,
      decoder: async (layer) => {
        const d = await inner.decoder(layer);
        return { ...d, decode: (chunk) => (handed++, d.decode(chunk)) };
      },
    };
    const { run, queue, requests, receiver, sender } = guidedLink(counted);
    const backlog = await queue(0, 6000); // its first keyframe among them
    expect(sender.stats.guidePictures).toBeGreaterThan(50);
    // Handed in two runs 1.5 s apart (the worker blocked between them): the second run's pictures
    // came before the keyframe could have, so they do not ask again.
    for (const p of backlog) receiver.onPacket(p.channel, p.bytes, p.atMs < 3000 ? 7000 : 8500, p.atMs);
    await receiver.settled();
    // Those of the last 5 s (MAX_GUIDE_WAIT_MS) are young enough, but deltas whose keyframe was dropped.
    expect(handed).toBe(0);
    expect(requests.filter((r) => r === 'guide-keyframe')).toHaveLength(1);
    const tail = faces(await run(8500, 9500)).slice(-5);
    expect(tail.every((f) => f.guide?.stale === 0)).toBe(true);
    expect(sender.stats.guideKeyframeRequests).toBe(1);
    expect(receiver.stats.guideErrors).toBe(0);
  });

  it('a new reference crop box starts the guide again with a keyframe; a new layer with a new encoder', async () => {
    const codecs = fakeCodecs();
    const encoders: GuideLayer[] = [];
    const counting: GuideCodecs = { encoder: (layer) => (encoders.push(layer), codecs.encoder(layer)), decoder: codecs.decoder };
    const boxes: CropBox[] = [];
    const sender = new NeuralSender<number>(
      { geometry, coding, mode: { ...MODE, minReferenceGapSeconds: 0.5 }, guideCodecs: counting },
      {
        send: () => true,
        makeReference: async (t: number, box: CropBox) => ({ format: 'webp', bytes: Uint8Array.of(1), landmarks: toCropPixels(talker(t), box) }),
        guidePicture: (_t, box, side) => (boxes.push(box), new Uint8Array(side * side * 3)),
      },
    );
    // The face jumps 150 px to the right at 1 s: the sender makes a reference with a new box.
    const moved = (t: number) => (t < 1000 ? talker(t) : talker(t).map((v, i) => (i % 3 === 0 ? v + 150 : v)));
    for (let t = 0; t < 2000; t += SLOT_MS) {
      sender.pushFrame(t, moved(t), t);
      await sender.settled();
    }
    expect(sender.stats.referencesByCause.moved).toBeGreaterThanOrEqual(1);
    // A keyframe at the first picture and wherever the box changed, nowhere else.
    const changes = boxes.flatMap((b, i) => (i > 0 && (b.x !== boxes[i - 1]!.x || b.y !== boxes[i - 1]!.y || b.size !== boxes[i - 1]!.size) ? [i] : []));
    expect(changes.length).toBeGreaterThanOrEqual(1);
    expect(codecs.keyframes).toEqual([0, ...changes]);
    sender.setMode({ ...MODE, guide: { ...LAYER, side: 16 } });
    for (let t = 2000; t < 2200; t += SLOT_MS) {
      sender.pushFrame(t, moved(t), t);
      await sender.settled();
    }
    expect(encoders.map((l) => l.side)).toEqual([8, 16]);
    await sender.close();
  });

  it('the picture queued behind one that fails is still coded as a keyframe', async () => {
    const codecs = fakeCodecs();
    let pictures = 0;
    let failAt = -1;
    const sender = new NeuralSender<number>(
      { geometry, coding, mode: MODE, guideCodecs: codecs },
      {
        send: () => true,
        makeReference: async (t: number, box: CropBox) => ({ format: 'webp', bytes: Uint8Array.of(1), landmarks: toCropPixels(talker(t), box) }),
        guidePicture: (_t, _box, side) => {
          if (pictures++ === failAt) throw new Error('no picture this time');
          return new Uint8Array(side * side * 3);
        },
      },
    );
    let t = 0;
    for (; t < 1000; t += SLOT_MS) {
      sender.pushFrame(t, talker(t), t);
      await sender.settled();
    }
    const coded = pictures;
    expect(codecs.keyframes).toEqual([0]);
    // Several guide pictures queued before any is coded; the first of them fails. The encoder
    // numbers the pictures it codes, so the next one it codes is number `coded`.
    failAt = pictures;
    for (const until = t + 6 * SLOT_MS; t < until; t += SLOT_MS) sender.pushFrame(t, talker(t), t);
    await sender.settled();
    expect(pictures).toBeGreaterThanOrEqual(coded + 2);
    expect(sender.stats.guideFailures).toBe(1);
    expect(codecs.keyframes).toEqual([0, coded]);
    await sender.close();
  });

  it('NeuralDecoder feeds guide_on 1 with a guide and 0 without', async () => {
    const feeds: Tensors[] = [];
    const runner = (inputs: string[], run: (f: Tensors) => Tensors): ModelRunner => ({ inputNames: inputs, outputNames: [], backend: 'cpu', run: async (f) => run(f), close: async () => undefined });
    const one = { data: new Float32Array(1), dims: [1] };
    const decoder = new NeuralDecoder(
      runner(['ref_image', 'ref_landmarks'], () => ({ ref_feat: one, ref_mouth_feat: one })),
      runner(['ref_image', 'tgt_landmarks', ...GUIDE_INPUTS], (f) => (feeds.push(f), { image: one })),
    );
    expect(decoder.takesGuide).toBe(true);
    await decoder.setReference({ data: new Float32Array(3 * 256 * 256), dims: [1, 3, 256, 256] }, new Float32Array(468 * 3));
    const landmarks = new Float32Array(468 * 3).map((_, i) => i);
    await decoder.decode(landmarks, { picture: new Uint8Array(64 * 64 * 3).fill(255), landmarks });
    await decoder.decode(landmarks);
    expect(feeds[0]!.guide_on!.data[0]).toBe(1);
    expect(feeds[0]!.guide!.data.every((v) => v === 1)).toBe(true);
    expect(Array.from(feeds[0]!.guide_landmarks!.data.subarray(0, 4))).toEqual([0, 1, 3, 4]);
    expect(feeds[1]!.guide_on!.data[0]).toBe(0);
    expect(feeds[1]!.guide!.data.every((v) => v === 0)).toBe(true);
  });

  it('rate modes: geometry only at the bottom, then the trained guide variants, rising to ~32 kbit/s', () => {
    const targets = RATE_MODES.map((m) => m.targetKbps);
    expect([...targets].sort((a, b) => a - b)).toEqual(targets);
    expect(RATE_MODES[0]!.guide).toBeUndefined();
    expect(targets[targets.length - 1]).toBeLessThanOrEqual(32);
    const firstGuided = RATE_MODES.findIndex((m) => m.guide);
    expect(firstGuided).toBeGreaterThan(0);
    for (const mode of RATE_MODES.slice(firstGuided)) {
      expect(mode.guide, `${mode.targetKbps}`).toBeDefined();
      expect(Object.values(GUIDE_VARIANTS)).toContainEqual(mode.guide);
      expect(mode.frameStride).toBe(1);
    }
  });
});
