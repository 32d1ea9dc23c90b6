import { describe, expect, it } from 'vitest';
import { loadFaceGeometry } from '../../../codec/runners/shipped-node.ts';
import { toCropPixels, type CropBox } from '../../../codec/geometry/reference-crop.ts';
import { geometryCodingConfig } from '../../../codec/geometry/geometry-coder.ts';
import { FRAME_SLOT_MS } from '../../../codec/shipped.ts';
import { NeuralSender, type PreparedReference, type SenderError, type SenderHooks } from '../../../codec/stream/neural-sender.ts';
import { rateModeFor } from '../../../codec/stream/rate-modes.ts';
import { packetType } from '../../../codec/stream/reference-packet.ts';
import { PacketType } from '../../../codec/bitstream/packet.ts';
import { webpLossless } from '../../../scripts/fuzz/picture-headers.ts';

// A sender whose reference pictures or closed-loop checks fail must say so (stats and an 'error'
// event the page can show) and keep retrying, instead of leaving receivers waiting in silence.

const { geometry, model } = loadFaceGeometry();
const coding = geometryCodingConfig(geometry);
const face = geometry.decode(Float32Array.from({ length: geometry.dimensions }, (_, i) => (i === 3 ? 320 : i === 4 ? 240 : i === 6 ? Math.log(9) : 0)), geometry.referenceShape(new Float32Array(model.canonical)));

function sender(hooks: Omit<SenderHooks<number>, 'send'>) {
  const sent: Uint8Array[] = [];
  const errors: SenderError[] = [];
  const s = new NeuralSender<number>({ geometry, coding, mode: rateModeFor(10), qualityCheckMs: 200 }, { ...hooks, send: (_channel, bytes) => sent.push(bytes) > 0 });
  s.events.on('error', (e) => errors.push(e));
  const run = async (from: number, to: number): Promise<void> => {
    for (let slot = from; slot < to; slot++) {
      s.pushFrame(slot * FRAME_SLOT_MS, face, slot);
      await s.settled();
      await new Promise((resolve) => setTimeout(resolve, 0)); // let a quality check finish
    }
  };
  return { sender: s, sent, errors, run };
}

const picture = (box: CropBox): PreparedReference => ({ format: 'webp', bytes: webpLossless(256, 256), landmarks: toCropPixels(face, box) });

describe('NeuralSender failures', () => {
  it('counts a reference that cannot be made, emits an error, and retries until one goes out', async () => {
    let attempts = 0;
    const { sender: s, sent, errors, run } = sender({
      async makeReference(_frame, box) {
        attempts++;
        if (attempts <= 2) throw new Error('WebP encoder unavailable');
        return picture(box);
      },
    });
    await run(0, 1);
    expect(s.stats.referenceFailures).toBe(1);
    expect(s.stats.lastError).toEqual({ kind: 'reference', message: 'WebP encoder unavailable', slotMs: 0 });
    expect(errors).toHaveLength(1);
    expect(sent).toHaveLength(0);
    await run(1, 10);
    expect(attempts).toBe(3);
    expect(s.stats.referenceFailures).toBe(2);
    expect(s.stats.references).toBe(1);
    expect(sent.map(packetType)).toContain(PacketType.ReferencePicture);
  });

  it('counts a coded picture without a face as a failed reference', async () => {
    const { sender: s, errors, run } = sender({ makeReference: async () => undefined });
    await run(0, 3);
    expect(s.stats.referenceFailures).toBe(3);
    expect(s.stats.references).toBe(0);
    expect(errors.map((e) => e.kind)).toEqual(['reference', 'reference', 'reference']);
    expect(s.stats.lastError?.message).toMatch(/no face/);
  });

  it('counts closed-loop checks that throw, keeps the reference and keeps checking', async () => {
    let checks = 0;
    const { sender: s, errors, run } = sender({
      makeReference: async (_frame, box) => picture(box),
      async checkQuality() {
        checks++;
        throw new Error('self-check worker gone');
      },
    });
    await run(0, 30); // 1.2 s: checks every 200 ms
    expect(checks).toBeGreaterThan(3);
    expect(s.stats.qualityCheckFailures).toBe(checks);
    expect(s.stats.references).toBe(1);
    expect(s.stats.lastError).toMatchObject({ kind: 'quality-check', message: 'self-check worker gone' });
    expect(errors.every((e) => e.kind === 'quality-check')).toBe(true);
  });
});
