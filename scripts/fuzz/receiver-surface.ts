// Fuzz surface: codec packets into the real NeuralReceiver (codec/stream), as a hostile peer
// would send them over the two datachannels. Seeded: input i of seed s is the same on every run.
//
// Only the browser parts around the receiver are stood in for, through its hooks: the picture
// decoder (createImageBitmap + the landmark tracker) becomes a Node one that reads the size the
// file declares and allocates its RGBA pixels, as a browser does, and finds a face on it. A
// picture above MAX_REFERENCE_SIDE that reaches it is a failure: in Chromium that is the 1 GB,
// 17.7 s decode of issue 13.
//
// Inputs come in blocks of one kind, so that floods happen as floods:
//   frame-flood      FRAMES packets at one instant, the first block before any reference (issue: 20,000)
//   reference-flood  valid reference pictures up to 64 kB while the decoder is busy (issue: 3,000)
//   hostile-picture  references with hostile headers: huge declared sizes, wrong magic, cut headers
//   random-bytes     anything, on either channel
//   mutated-packet   valid packets (all six types) with bytes flipped, cut, appended
//   valid-stream     a normal stream: reference, anchors, bundles (half with guide pictures), no-face
// A crash is an exception out of the receiver, or a broken bound (jitter buffer, clock samples,
// an oversized picture decoded, a non-finite value shown); each is named in `notes` with its input.
import v8 from 'node:v8';
import vm from 'node:vm';
import { HEADER_BYTES, MAX_PACKET_BYTES, PacketType, writePacket } from '../../codec/bitstream/packet.ts';
import { GeometryEncoder, geometryCodingConfig, MAX_FRAMES_PER_PACKET } from '../../codec/geometry/geometry-coder.ts';
import { loadFaceGeometry } from '../../codec/runners/shipped-node.ts';
import { FRAME_SLOT_MS } from '../../codec/shipped.ts';
import { MAX_BUFFERED_FRAMES, MAX_CLOCK_SAMPLES, NeuralReceiver } from '../../codec/stream/neural-receiver.ts';
import { declaredSize, MAX_REFERENCE_SIDE, sniffPicture } from '../../codec/stream/picture-header.ts';
import { writeReferencePicture, writeReferenceRequest, type PictureFormat } from '../../codec/stream/reference-packet.ts';
import type { CodecChannel } from '../../codec/transport.ts';
import { GuideChainError, GUIDE_INPUT_SIDE, type GuideCodecs } from '../../codec/stream/guide-codec.ts';
import { writeGuidedFrames } from '../../codec/stream/guide-packet.ts';
import { avif, jpeg, png, webpExtended, webpLossless, webpLossy } from './picture-headers.ts';
import { mulberry32 } from './prng.ts';

export interface SurfaceReport {
  surface: string;
  inputs: number;
  crashes: number;
  heapBeforeMB: number;
  heapAfterMB: number;
  notes: string[];
}

type Kind = 'frame-flood' | 'reference-flood' | 'hostile-picture' | 'random-bytes' | 'mutated-packet' | 'valid-stream';
const KIND_WEIGHTS: [Kind, number][] = [
  ['random-bytes', 0.2],
  ['mutated-packet', 0.25],
  ['hostile-picture', 0.2],
  ['frame-flood', 0.1],
  ['reference-flood', 0.1],
  ['valid-stream', 0.15],
];
/** Inputs per block; the decoder gets a turn (a macrotask) between blocks, not inside floods. */
const BLOCK = 500;
/** The issue's flood: 20,000 FRAMES packets before any reference. */
const FIRST_FLOOD = 20_000;
/** Kinds of failure described in the notes (each by its first input; the count goes on). */
const MAX_FAILURE_KINDS = 10;
const FORMATS: PictureFormat[] = ['webp', 'jpeg', 'avif'];

/** `gc` without a command-line flag: V8 exposes it to a new context once the flag is set. */
function collector(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

const heapMB = (gc: () => void): number => {
  gc();
  gc(); // a second pass frees what the first one's finalisers released
  return Math.round((process.memoryUsage().heapUsed / 2 ** 20) * 10) / 10;
};

export async function fuzzReceiver(opts: { seed: number; inputs: number }): Promise<SurfaceReport> {
  const random = mulberry32(opts.seed);
  const int = (n: number): number => Math.floor(random() * n);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)]!;
  const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => int(256));

  const { geometry, model } = loadFaceGeometry();
  const coding = geometryCodingConfig(geometry);
  const landmarks = geometry.decode(Float32Array.from({ length: geometry.dimensions }, (_, i) => (i === 6 ? Math.log(9) : 0)), new Float64Array(model.canonical));
  const notes: string[] = [];
  let crashes = 0;
  let input = 0;
  let kind: Kind = 'frame-flood';
  const failures = new Map<string, number>();
  /** `what` names the failure; `detail` is for its first occurrence only. */
  const crash = (what: string, detail = ''): void => {
    crashes++;
    const seen = failures.get(what) ?? 0;
    failures.set(what, seen + 1);
    if (seen === 0 && failures.size <= MAX_FAILURE_KINDS) notes.push(`crash: ${what}; first at seed ${opts.seed} input ${input} (${kind})${detail ? `: ${detail}` : ''}`);
  };

  // The Node picture decoder: what createImageBitmap does with the bytes, whatever they are declared as.
  const decoder = { calls: 0, oversized: 0, largestPixels: 0, held: undefined as Uint8ClampedArray | undefined };
  // The guide decoder stand-in: keeps its chain like a real one and returns a side x side picture.
  const guideCodecs: GuideCodecs = {
    encoder: () => Promise.reject(new Error('a receiver encodes nothing')),
    decoder: async (layer) => {
      let chained = false;
      return {
        async decode(chunk) {
          await new Promise((resolve) => setImmediate(resolve));
          if (!chunk.keyframe && !chained) throw new GuideChainError('delta picture first');
          if (chunk.data[0] === 0xff) throw new Error('the stand-in decoder refuses this picture');
          chained = true;
          return new Uint8Array(layer.side * layer.side * 3).fill(chunk.data[0]!);
        },
        reset: () => (chained = false),
        close: () => undefined,
      };
    },
  };
  const receiver = new NeuralReceiver(
    { coding, referenceShape: (l) => geometry.referenceShape(l), guideCodecs, landmarks: (v, shape) => geometry.decode(v, shape) },
    {
      async loadReference(_id, _declared, picture) {
        decoder.calls++;
        await new Promise((resolve) => setImmediate(resolve)); // decoding takes a while
        const actual = sniffPicture(picture);
        if (!actual) throw new Error('not an image');
        const size = declaredSize(picture, actual);
        if (typeof size === 'string') throw new Error(size);
        if (size.width > MAX_REFERENCE_SIDE || size.height > MAX_REFERENCE_SIDE) {
          decoder.oversized++;
          crash('an oversized picture reached the decoder', `${size.width}x${size.height} ${actual}, ${((size.width * size.height * 4) / 2 ** 20).toFixed(0)} MB of pixels`);
          throw new Error('refused by the stand-in decoder');
        }
        decoder.largestPixels = Math.max(decoder.largestPixels, size.width * size.height);
        decoder.held = new Uint8ClampedArray(size.width * size.height * 4).fill(128); // the decoder keeps its reference
        if (picture.length % 7 === 0) throw new Error('no face found on the reference picture');
        return landmarks;
      },
      requestReference: () => undefined,
    },
  );
  const internals = receiver as unknown as { frames: unknown[]; clockSamples: unknown[]; guides: unknown[]; queuedGuides: number };

  // The honest stream the hostile inputs are built from.
  const encoder = new GeometryEncoder(coding);
  let nowMs = 0;
  let senderMs = 0;
  let sequence = 0;
  let referenceId = 0;
  const values = (): Float32Array => Float32Array.from({ length: geometry.dimensions }, (_, i) => (i === 6 ? Math.log(9) : 0.3 * Math.sin(senderMs / 300 + i)));
  const header = () => ({ sequence: (sequence = (sequence + 1) % 65536), timestampMs: senderMs, referenceId });
  const anchor = (): Uint8Array => encoder.encodeAnchor(values(), header()).packet;
  const frames = (count = 1 + int(MAX_FRAMES_PER_PACKET)): Uint8Array => {
    if (encoder.currentAnchorId === undefined) anchor();
    const list = Array.from({ length: count }, () => values());
    const packet = encoder.encodeFrames(list, FRAME_SLOT_MS, header()).packet;
    senderMs += FRAME_SLOT_MS * count;
    return packet;
  };
  let guideNumber = 0;
  /** A bundle with 1-3 guide pictures (a keyframe now and then), as a guide mode sends it. */
  const guidedFrames = (count = 1 + int(MAX_FRAMES_PER_PACKET)): Uint8Array => {
    const chunks = Array.from({ length: 1 + int(Math.min(3, count)) }, () => ({
      keyframe: random() < 0.2,
      frameIndex: int(count),
      number: (guideNumber = (guideNumber + 1) % 256),
      data: bytes(1 + int(random() < 0.05 ? 4000 : 300)),
    }));
    return writeGuidedFrames(frames(count), { codec: pick(['av1', 'vp9'] as const), side: pick([32, 48, 64]), fps: pick([10, 12.5]), chunks });
  };
  const goodPicture = (format: PictureFormat): Uint8Array => (format === 'webp' ? pick([webpLossless, webpLossy])(256, 256) : format === 'jpeg' ? jpeg(256, 256) : avif([[256, 256]]));
  const reference = (size = 4000 + int(4000)): Uint8Array => {
    referenceId = (referenceId + 1) % 256;
    const format = pick(FORMATS);
    const picture = new Uint8Array(Math.min(size, MAX_PACKET_BYTES - HEADER_BYTES - 1));
    const head = goodPicture(format);
    picture.set(head);
    picture.set(bytes(Math.min(64, picture.length - head.length)), head.length);
    return writeReferencePicture(header(), format, picture);
  };

  function hostilePicture(): Uint8Array {
    const huge = pick([MAX_REFERENCE_SIDE + 1, 4096, 16383, 16384, 65535]);
    const candidates: (() => [Uint8Array, PictureFormat])[] = [
      () => [png(16384, 16384), pick(FORMATS)], // the issue's PNG sent as "webp"
      () => [webpLossless(huge, huge), 'webp'],
      () => [webpLossy(Math.min(huge, 16383), 256), 'webp'],
      () => [webpExtended(1 << 24, 1 << 24, 256, 256), 'webp'],
      () => [webpExtended(256, 256, Math.min(huge, 16384), Math.min(huge, 16384)), 'webp'],
      () => [webpExtended(256, 256, 256, 256, 0x02), 'webp'], // animated
      () => [jpeg(Math.min(huge, 65535), Math.min(huge, 65535), pick([0xc0, 0xc1, 0xc2, 0xc3, 0xc9])), 'jpeg'],
      () => [jpeg(256, 0), 'jpeg'],
      () => [avif([[huge, huge]]), 'avif'],
      () => [avif([[256, 256]], [huge, huge]), 'avif'], // the AV1 stream larger than its ispe
      () => [avif([[256, 256], [0xffffffff, 0xffffffff]], [256, 256]), 'avif'],
      () => [avif([[0, 0]], [256, 256]), 'avif'],
      () => {
        const format = pick(FORMATS);
        return [goodPicture(pick(FORMATS.filter((f) => f !== format))), format]; // one format declared as another
      },
      () => {
        const format = pick(FORMATS);
        const good = goodPicture(format);
        return [good.subarray(0, 1 + int(good.length - 1)), format]; // header cut short
      },
      () => {
        const format = pick(FORMATS);
        const good = goodPicture(format);
        const magic = format === 'avif' ? 12 : format === 'webp' ? 12 : 3;
        return [Uint8Array.from([...good.subarray(0, magic), ...bytes(int(200))]), format]; // right magic, garbage after
      },
    ];
    const [picture, declared] = pick(candidates)();
    return writeReferencePicture({ ...header(), referenceId: int(256) }, declared, picture);
  }

  function mutated(): Uint8Array {
    const base = pick([anchor, () => frames(), () => guidedFrames(), reference, hostilePicture, () => writePacket({ ...header(), type: PacketType.NoFace }, new Uint8Array(0)), () => writeReferenceRequest(header(), 'join', 'peer-xyz')])();
    let packet = base.slice();
    // Mostly payload damage, so that most packets get past the header into the decoders.
    for (let m = 1 + int(4); m > 0; m--) {
      const op = int(10);
      if (op < 5 && packet.length > 0) {
        const at = int(packet.length);
        packet[at] = packet[at]! ^ (1 << int(8));
      }
      else if (op < 7 && packet.length > 0) packet[int(packet.length)] = pick([0, 255, int(256)]);
      else if (op === 7) packet = packet.subarray(0, int(packet.length + 1));
      else if (op === 8) packet = Uint8Array.from([...packet, ...bytes(1 + int(32))]);
      else if (packet.length > 0) packet[0] = (int(16) << 4) | int(16); // version and type nibbles
    }
    return packet;
  }

  function send(channel: CodecChannel, packet: Uint8Array): void {
    try {
      receiver.onPacket(channel, packet, nowMs);
    } catch (error) {
      crash('onPacket threw', (error as Error).stack ?? String(error));
    }
  }

  function check(): void {
    try {
      receiver.tick(nowMs);
      const frame = receiver.frameAt(nowMs);
      if (frame.state === 'face' && (frame.values.length !== geometry.dimensions || !frame.values.every(Number.isFinite))) crash('frameAt gave non-finite or wrongly sized values');
      if (frame.state === 'face' && frame.guide && (frame.guide.picture.length !== GUIDE_INPUT_SIDE * GUIDE_INPUT_SIDE * 3 || !frame.guide.landmarks.every(Number.isFinite))) crash('frameAt gave a wrongly sized guide picture or non-finite guide landmarks');
    } catch (error) {
      crash('tick/frameAt threw', (error as Error).stack ?? String(error));
    }
    if (internals.frames.length > MAX_BUFFERED_FRAMES) crash(`jitter buffer over MAX_BUFFERED_FRAMES (${MAX_BUFFERED_FRAMES})`, `${internals.frames.length} frames`);
    if (internals.clockSamples.length > MAX_CLOCK_SAMPLES) crash(`clock samples over MAX_CLOCK_SAMPLES (${MAX_CLOCK_SAMPLES})`, `${internals.clockSamples.length} samples`);
    if (internals.guides.length > 8 || internals.queuedGuides > 32) crash('guide pictures kept or queued beyond their bounds', `${internals.guides.length} kept, ${internals.queuedGuides} queued`);
  }

  function one(k: Kind): void {
    switch (k) {
      case 'frame-flood':
        return send('frames', frames(MAX_FRAMES_PER_PACKET)); // at one instant: nowMs stays
      case 'reference-flood':
        return send('control', reference(pick([8000, 32_000, MAX_PACKET_BYTES])));
      case 'hostile-picture':
        nowMs += int(50);
        return send('control', hostilePicture());
      case 'random-bytes':
        nowMs += int(50);
        return send(random() < 0.5 ? 'frames' : 'control', bytes(random() < 0.01 ? MAX_PACKET_BYTES + int(2) - 1 : int(200)));
      case 'mutated-packet':
        nowMs += int(50);
        return send(random() < 0.5 ? 'frames' : 'control', mutated());
      case 'valid-stream': {
        nowMs += FRAME_SLOT_MS * (1 + int(5));
        const r = random();
        if (r < 0.02) send('control', reference());
        if (r < 0.1) send('control', anchor());
        if (r > 0.97) return send('control', writePacket({ ...header(), type: PacketType.NoFace }, new Uint8Array(0)));
        return send('frames', random() < 0.5 ? guidedFrames(5) : frames(5));
      }
    }
  }

  const gc = collector();
  const heapBeforeMB = heapMB(gc);
  const maxima = { frames: 0, clockSamples: 0, heapMB: heapBeforeMB };
  let blocks = 0;
  const firstFlood = Math.min(FIRST_FLOOD, Math.floor(opts.inputs / 5));
  send('control', anchor()); // the flood's frames decode against it; no reference has come
  while (input < opts.inputs) {
    const size = input === 0 ? firstFlood || Math.min(BLOCK, opts.inputs) : Math.min(BLOCK, opts.inputs - input);
    kind = input === 0 && firstFlood > 0 ? 'frame-flood' : weighted(random());
    for (let i = 0; i < size; i++, input++) {
      one(kind);
      if (i % 64 === 63) check();
    }
    check();
    maxima.frames = Math.max(maxima.frames, internals.frames.length);
    maxima.clockSamples = Math.max(maxima.clockSamples, internals.clockSamples.length);
    // What the receiver holds at the end of a flood, before the decoder's turn lets anything go.
    if (blocks++ % 4 === 0 || input === opts.inputs) maxima.heapMB = Math.max(maxima.heapMB, heapMB(gc));
    // The decoder's turn: loads started during the block finish (or fail) now.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
  }
  await receiver.settled();
  check();
  const heapAfterMB = heapMB(gc);

  const s = receiver.stats;
  const errors = (record: Record<string, number | undefined>): string => Object.entries(record).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  if (failures.size > 0) notes.push(`crashes by kind: ${[...failures].map(([what, n]) => `${what} ${n}`).join('; ')}`);
  notes.push(
    `heap: ${heapBeforeMB} MB before, at most ${maxima.heapMB} MB at the end of a block (sampled after the first flood, then every 4th block), ${heapAfterMB} MB after`,
    `first block: ${firstFlood} FRAMES packets of ${MAX_FRAMES_PER_PACKET} frames before any reference`,
    `receiver: ${s.messages} messages, ${s.framesReceived} frames decoded, ${s.framesEvicted} evicted from the jitter buffer (most held ${maxima.frames}, bound ${MAX_BUFFERED_FRAMES}), clock samples at most ${maxima.clockSamples} (bound ${MAX_CLOCK_SAMPLES})`,
    `references: ${s.references} accepted, ${s.referencesSkipped} skipped while another loaded, ${decoder.calls} decoded (largest ${Math.round(Math.sqrt(decoder.largestPixels))} px square, ${decoder.oversized} oversized), ${s.requestsSent} requests sent`,
    `guide pictures: ${s.guidePictures} decoded, ${s.guidesLost} lost, ${s.guidesSkipped} skipped, ${s.guideErrors} failed, ${s.guideKeyframeRequests} keyframe requests`,
    `packet errors: ${errors(s.packetErrors)}`,
    `picture errors: ${errors(s.pictureErrors)}`,
  );
  if (!(globalThis as { gc?: unknown }).gc) notes.push('heap: gc() taken from V8 at run time (node --expose-gc not needed)');
  decoder.held = undefined;
  return { surface: 'codec-receiver', inputs: input, crashes, heapBeforeMB, heapAfterMB, notes };

  function weighted(r: number): Kind {
    for (const [k, w] of KIND_WEIGHTS) {
      if (r < w) return k;
      r -= w;
    }
    return KIND_WEIGHTS[0]![0];
  }
}

// `tsx scripts/fuzz/receiver-surface.ts [inputs] [seed]`: one surface on its own.
if (import.meta.url === `file://${process.argv[1]}`) {
  const [inputs = '10000', seed = '1'] = process.argv.slice(2);
  const started = performance.now();
  const report = await fuzzReceiver({ seed: Number(seed), inputs: Number(inputs) });
  console.log(JSON.stringify({ ...report, seconds: Math.round((performance.now() - started) / 100) / 10 }, null, 2));
  process.exitCode = report.crashes === 0 ? 0 : 1;
}
