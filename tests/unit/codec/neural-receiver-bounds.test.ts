import { describe, expect, it } from 'vitest';
import { loadFaceGeometry } from '../../../codec/runners/shipped-node.ts';
import { MAX_PACKET_BYTES, HEADER_BYTES } from '../../../codec/bitstream/packet.ts';
import { GeometryEncoder, geometryCodingConfig, MAX_FRAMES_PER_PACKET } from '../../../codec/geometry/geometry-coder.ts';
import { FRAME_SLOT_MS } from '../../../codec/shipped.ts';
import { MAX_BUFFERED_FRAMES, MAX_CLOCK_SAMPLES, NeuralReceiver } from '../../../codec/stream/neural-receiver.ts';
import { writeReferencePicture, type PictureFormat } from '../../../codec/stream/reference-packet.ts';
import { png, webpLossless } from '../../../scripts/fuzz/picture-headers.ts';

// Issue 13, item 5: what a hostile sender can make a receiver keep. Each test floods one queue.

const { geometry, model } = loadFaceGeometry();
const coding = geometryCodingConfig(geometry);
const values = (t: number): Float32Array => Float32Array.from({ length: geometry.dimensions }, (_, i) => (i === 6 ? Math.log(9) : 0.01 * Math.sin(t + i)));
const landmarks = geometry.decode(values(0), new Float64Array(model.canonical));

/** A receiver whose picture loads wait until `release()` (a slow decoder), counting the calls. */
function receiver() {
  const loads: { id: number; format: PictureFormat; bytes: number }[] = [];
  const requests: string[] = [];
  let release!: () => void;
  let gate = new Promise<void>((resolve) => (release = resolve));
  const r = new NeuralReceiver(
    { coding, referenceShape: (l) => geometry.referenceShape(l) },
    {
      async loadReference(id, format, picture) {
        loads.push({ id, format, bytes: picture.length });
        await gate;
        return landmarks;
      },
      requestReference: (reason) => requests.push(reason),
    },
  );
  const open = (): void => {
    release();
    gate = Promise.resolve();
  };
  const internals = r as unknown as { frames: unknown[]; clockSamples: unknown[] };
  return { r, loads, requests, open, internals };
}

describe('neural receiver: bounded under floods (issue 13)', () => {
  it('2,000 FRAMES packets (32,000 frames) before any reference keep at most MAX_BUFFERED_FRAMES frames', () => {
    const { r, internals } = receiver();
    const FLOOD = 2000; // the 20,000 run in the fuzz surface; this is 125x the bound already
    const encoder = new GeometryEncoder(coding);
    r.onPacket('control', encoder.encodeAnchor(values(0), { sequence: 0, timestampMs: 0, referenceId: 0 }).packet, 0);
    const bundle = Array.from({ length: MAX_FRAMES_PER_PACKET }, (_, i) => values(i));
    const template = encoder.encodeFrames(bundle, 40, { sequence: 0, timestampMs: 0, referenceId: 0 }).packet;
    for (let p = 0; p < FLOOD; p++) {
      // One coded bundle, re-stamped (header bytes 1-4): the payload does not depend on the time.
      const packet = template.slice();
      const timestampMs = (p * MAX_FRAMES_PER_PACKET * FRAME_SLOT_MS) % 65536;
      packet.set([p >> 8, p & 255, timestampMs >> 8, timestampMs & 255], 1);
      // All at one instant: the clock window (by arrival time) cannot prune either.
      r.onPacket('frames', packet, 1000);
    }
    expect(r.stats.framesReceived).toBe(1 + FLOOD * MAX_FRAMES_PER_PACKET); // the anchor and the bundles
    expect(internals.frames.length).toBeLessThanOrEqual(MAX_BUFFERED_FRAMES);
    expect(internals.clockSamples.length).toBeLessThanOrEqual(MAX_CLOCK_SAMPLES);
    // Every frame time is distinct (the anchor shares t = 0 with the first bundle): kept + evicted = all.
    expect(internals.frames.length + r.stats.framesEvicted).toBe(FLOOD * MAX_FRAMES_PER_PACKET);
  }, 30_000);

  it('3,000 reference packets of 64 kB while one loads: only the newest waits, and it is the one shown', async () => {
    const { r, loads, open } = receiver();
    const filler = new Uint8Array(MAX_PACKET_BYTES - HEADER_BYTES - 1);
    filler.set(webpLossless(256, 256));
    for (let i = 0; i < 3000; i++) r.onPacket('control', writeReferencePicture({ sequence: i, timestampMs: 0, referenceId: i % 256 }, 'webp', filler), i);
    expect(loads.length).toBe(1); // the first is loading; the rest replaced one another while waiting
    open();
    await r.settled();
    expect(loads.map((l) => l.id)).toEqual([0, 2999 % 256]);
    expect(r.stats.referencesSkipped).toBe(2998);
    expect(r.referenceId).toBe(2999 % 256);
  }, 30_000);

  it('a PNG declaring 16384x16384 sent as "webp" never reaches the picture decoder', async () => {
    const { r, loads, requests, open } = receiver();
    open();
    r.onPacket('control', writeReferencePicture({ sequence: 0, timestampMs: 0, referenceId: 1 }, 'webp', png(16384, 16384)), 0);
    r.onPacket('control', writeReferencePicture({ sequence: 1, timestampMs: 0, referenceId: 2 }, 'webp', webpLossless(16384, 16384)), 5000);
    r.onPacket('control', writeReferencePicture({ sequence: 2, timestampMs: 0, referenceId: 3 }, 'jpeg', webpLossless(256, 256)), 5001);
    await r.settled();
    expect(loads).toEqual([]);
    expect(r.stats.pictureErrors).toEqual({ 'format-mismatch': 2, 'bad-size': 1 });
    expect(r.stats.references).toBe(0);
    expect(requests).toEqual(['decode-failed', 'decode-failed']); // rate-limited: 0 and 5000 ms
    // A real-sized picture still loads.
    r.onPacket('control', writeReferencePicture({ sequence: 3, timestampMs: 0, referenceId: 4 }, 'webp', webpLossless(256, 256)), 6000);
    await r.settled();
    expect(loads.map((l) => l.id)).toEqual([4]);
    expect(r.referenceId).toBe(4);
  });

  it('still plays a normal stream after a flood', async () => {
    const { r, open } = receiver();
    open();
    const encoder = new GeometryEncoder(coding);
    r.onPacket('control', encoder.encodeAnchor(values(0), { sequence: 0, timestampMs: 0, referenceId: 7 }).packet, 0);
    const bundle = Array.from({ length: 5 }, (_, i) => values(i));
    for (let p = 0; p < 2000; p++) r.onPacket('frames', encoder.encodeFrames(bundle, 40, { sequence: p, timestampMs: (p * 200) % 65536, referenceId: 7 }).packet, 10);
    r.onPacket('control', writeReferencePicture({ sequence: 1, timestampMs: 0, referenceId: 7 }, 'webp', webpLossless(256, 256)), 20);
    await r.settled();
    // Later frames (the sender's clock has moved on), arriving from 30,000 ms.
    for (let p = 0; p < 5; p++) r.onPacket('frames', encoder.encodeFrames(bundle, 40, { sequence: 6000 + p, timestampMs: (1_000_000 + p * 200) % 65536, referenceId: 7 }).packet, 30_000 + p * 200);
    expect(r.frameAt(30_500).state).toBe('face');
  }, 30_000);
});
