import { describe, expect, it } from 'vitest';
import { cropRgb, kilofaceRateMode, uncropToFrame } from '../../../bench/codecs/kiloface-codec.ts';
import { readStream, receiveClip, sendClip, StreamFileError, writeStream, type ReceiverStep } from '../../../bench/codecs/kiloface-stream.ts';
import { datachannelOnlyWireBytes, kilofaceBits, type SentPacket } from '../../../bench/codecs/kiloface-wire.ts';
import { loadFaceGeometry } from '../../../codec/runners/shipped-node.ts';
import { trailerOverhead } from '../../../codec/audio-bundle-trailer.ts';
import { PacketType, writePacket } from '../../../codec/bitstream/packet.ts';
import { landmarkRmse } from '../../../codec/geometry/face-geometry.ts';
import { toCropPixels, type CropBox } from '../../../codec/geometry/reference-crop.ts';
import { geometryCodingConfig } from '../../../codec/geometry/geometry-coder.ts';
import { FRAME_SLOT_MS } from '../../../codec/shipped.ts';
import { NeuralSender, type PreparedReference } from '../../../codec/stream/neural-sender.ts';
import { RATE_MODES, type RateMode } from '../../../codec/stream/rate-modes.ts';
import { packetType } from '../../../codec/stream/reference-packet.ts';
import { datachannelWireBytes } from '../../../codec/stream/wire.ts';
import { webpLossless } from '../../../scripts/fuzz/picture-headers.ts';
import { syntheticTalker } from '../../helpers/synthetic-talker.ts';

const { geometry, model } = loadFaceGeometry();
const coding = geometryCodingConfig(geometry);

// The synthetic talker in the bench's 256x256 input
const talker = syntheticTalker(geometry, model.canonical, { scale: 4, x: 128, y: 130, driftPxPerS: 3, nodPx: 4 });

const FRAMES = 150;
/** 6 s of talking with the face gone for frames 30-41. */
const landmarks = Array.from({ length: FRAMES }, (_, i) => (i >= 30 && i < 42 ? null : talker(i * FRAME_SLOT_MS)));

/** A "picture" whose landmarks are exactly the frame's (the tracker finds them again): a WebP header and a tag. */
function fakePictures() {
  const pictures = new Map<string, Float32Array>();
  let count = 0;
  return {
    async makeReference(index: number, box: CropBox): Promise<PreparedReference> {
      const bytes = Uint8Array.from([...webpLossless(256, 256), ...new TextEncoder().encode(`picture ${count++}`)]);
      const found = toCropPixels(landmarks[index]!, box);
      pictures.set(new TextDecoder().decode(bytes), found);
      return { format: 'webp', bytes, landmarks: found };
    },
    async loadReference(_id: number, _format: string, picture: Uint8Array): Promise<{ landmarks: Float32Array; reference: string }> {
      const key = new TextDecoder().decode(picture);
      const found = pictures.get(key);
      if (!found) throw new Error('cannot decode');
      return { landmarks: found, reference: key };
    },
  };
}

/** The sender as the call's worker drives it: one pushFrame per camera slot, the reference made in the background. */
async function sendTheCallsWay(mode: RateMode): Promise<SentPacket[]> {
  const packets: SentPacket[] = [];
  let nowMs = 0;
  const { makeReference } = fakePictures();
  const sender = new NeuralSender<number>(
    { geometry, coding, mode },
    {
      send(channel, bytes) {
        packets.push({ channel, sendMs: nowMs, bytes: bytes.slice() });
        return true;
      },
      makeReference,
    },
  );
  for (const [index, l] of landmarks.entries()) {
    nowMs = index * FRAME_SLOT_MS;
    sender.pushFrame(nowMs, l, index);
    await new Promise((resolve) => setTimeout(resolve, 0)); // the tracker's turn: the reference finishes meanwhile
  }
  sender.flush();
  return packets;
}

const benchMode = kilofaceRateMode({ quantizer: 8, framesPerPacket: 5, referenceFormat: 'webp', referenceQuality: 75, refreshSeconds: 2 });

describe('the bench drives the call\'s stream (issue 14 item 1)', () => {
  for (const [name, mode] of [
    ['a bench point (5 frames/packet, a reference every 2 s)', benchMode],
    ['the call\'s 6 kbit/s mode (every 2nd frame)', RATE_MODES[0]!],
  ] as const) {
    it(`sendClip gives the packets of a NeuralSender driven as in a call: ${name}`, async () => {
      const bench = await sendClip({ geometry, coding, mode, landmarks, hooks: { makeReference: fakePictures().makeReference } });
      const call = await sendTheCallsWay(mode);
      expect(bench.packets.length).toBeGreaterThan(10);
      expect(bench.packets).toEqual(call);
      // What the file holds is what was sent, typed by the codec's own PacketType.
      const back = readStream(writeStream(bench.packets, FRAMES));
      expect(back).toEqual({ frameCount: FRAMES, packets: call, info: { referenceBoxes: {} } });
      const types = new Set(back.packets.map((p) => packetType(p.bytes)));
      expect([...types].sort()).toEqual([PacketType.GeometryFrames, PacketType.GeometryAnchor, PacketType.NoFace, PacketType.ReferencePicture]);
    });
  }

  it('NoFace follows the call\'s cadence: one per framesPerPacket x frameStride slots', async () => {
    for (const mode of [benchMode, RATE_MODES[0]!]) {
      const { packets } = await sendClip({ geometry, coding, mode, landmarks, hooks: { makeReference: fakePictures().makeReference } });
      const noFace = packets.filter((p) => packetType(p.bytes) === PacketType.NoFace).map((p) => p.sendMs / FRAME_SLOT_MS);
      const period = mode.framesPerPacket * mode.frameStride;
      expect(noFace).toEqual(Array.from({ length: Math.ceil(12 / period) }, (_, k) => 30 + k * period));
    }
  });

  it('receiveClip shows every frame once, in order, with the geometry that was sent', async () => {
    const pictures = fakePictures();
    const { packets, stats } = await sendClip({ geometry, coding, mode: benchMode, landmarks, hooks: { makeReference: pictures.makeReference } });
    expect(stats.referencesByCause).toMatchObject({ start: 1, refresh: 2 });
    const { steps } = await receiveClip<string>(packets, FRAMES, {
      coding,
      referenceShape: (l) => geometry.referenceShape(l),
      loadReference: pictures.loadReference,
    });
    const frames = steps.filter((s): s is Extract<ReceiverStep<string>, { kind: 'frame' }> => s.kind === 'frame');
    expect(frames.map((s) => s.index)).toEqual(Array.from({ length: FRAMES }, (_, i) => i));
    // Every frame with a face is shown at its own time, never concealed.
    for (const s of frames) {
      if (landmarks[s.index] === null) {
        expect(s.frame.state).toBe('no-face');
        continue;
      }
      expect(s.frame).toMatchObject({ state: 'face', concealed: false, senderTimeMs: s.index * FRAME_SLOT_MS });
    }
    // The frames before a new reference's slot are shown with the reference they were coded for.
    const referenceSlots = packets.filter((p) => packetType(p.bytes) === PacketType.ReferencePicture).map((p) => p.sendMs / FRAME_SLOT_MS);
    const loads = steps.flatMap((s, i) => (s.kind === 'reference' ? [i] : []));
    expect(loads).toHaveLength(3);
    for (const [k, at] of loads.entries()) {
      const shownBefore = steps.slice(0, at).filter((s) => s.kind === 'frame').length;
      expect(shownBefore).toBe(referenceSlots[k]);
    }
  });

  it('frames the tracker left out (its pace on a busy device) are filled in by the sender: every slot coded, the smooth motion within 1.5 px', async () => {
    const pictures = fakePictures();
    const boxes: CropBox[] = [];
    // As trackYuvSequence with every = 2: while it follows a face, odd frames are not tracked.
    const everyOther = landmarks.map((l, i) => (i % 2 === 1 && landmarks[i - 1] !== null ? undefined : l));
    const hooks = {
      makeReference: async (index: number, box: CropBox) => {
        boxes.push(box);
        return pictures.makeReference(index, box);
      },
    };
    const paced = await sendClip({ geometry, coding, mode: benchMode, landmarks: everyOther, hooks });
    const full = await sendClip({ geometry, coding, mode: benchMode, landmarks, hooks: { makeReference: fakePictures().makeReference } });
    // All but the clip's last frame (odd, left out, with nothing after it to interpolate towards).
    expect(everyOther.at(-1)).toBeUndefined();
    expect(paced.stats.framesCoded).toBe(full.stats.framesCoded - 1);
    const { steps } = await receiveClip<string>(paced.packets, FRAMES, { coding, referenceShape: (l) => geometry.referenceShape(l), loadReference: pictures.loadReference });
    let box: CropBox | undefined;
    let references = 0;
    let filled = 0;
    for (const s of steps) {
      if (s.kind === 'reference') box = boxes[references++];
      else if (s.frame.state === 'face') {
        if (everyOther[s.index] === undefined) filled++;
        expect(landmarkRmse(geometry.decode(s.frame.values, s.frame.shape), toCropPixels(landmarks[s.index]!, box!))).toBeLessThan(1.5);
      }
    }
    expect(filled).toBeGreaterThan(60);
  });

  it('the receiver\'s geometry rebuilds the landmarks within 1.5 px', async () => {
    const pictures = fakePictures();
    const boxes: CropBox[] = [];
    const { packets } = await sendClip({
      geometry,
      coding,
      mode: benchMode,
      landmarks,
      hooks: {
        makeReference: async (index, box) => {
          boxes.push(box);
          return pictures.makeReference(index, box);
        },
      },
    });
    const { steps } = await receiveClip<string>(packets, FRAMES, { coding, referenceShape: (l) => geometry.referenceShape(l), loadReference: pictures.loadReference });
    let box: CropBox | undefined;
    let references = 0;
    for (const s of steps) {
      if (s.kind === 'reference') box = boxes[references++];
      else if (s.frame.state === 'face') expect(landmarkRmse(geometry.decode(s.frame.values, s.frame.shape), toCropPixels(landmarks[s.index]!, box!))).toBeLessThan(1.5);
    }
  });
});

describe('kiloface wire bytes: the call\'s default path', () => {
  const frames = (sendMs: number, length: number): SentPacket => ({ channel: 'frames', sendMs, bytes: writePacket({ type: PacketType.GeometryFrames, sequence: 0, timestampMs: 0, referenceId: 0 }, new Uint8Array(length - 6)) });
  const control = (sendMs: number, type: PacketType, length: number): SentPacket => ({ channel: 'control', sendMs, bytes: writePacket({ type, sequence: 0, timestampMs: 0, referenceId: 0 }, new Uint8Array(length - 6)) });

  it('bundles ride the next 60 ms audio frame (trailer bytes only); references and anchors pay the datachannel', () => {
    const packets = [
      control(0, PacketType.ReferencePicture, 2500), // 3 SCTP packets
      control(0, PacketType.GeometryAnchor, 30),
      frames(40, 40), // audio frame at 60 ms
      frames(50, 30), // the same audio frame
      frames(200, 35), // audio frame at 240 ms
      frames(240, 700), // too big for an audio frame: datachannel
    ];
    const bits = kilofaceBits(packets);
    expect(bits.payloadBytes).toBe(2500 + 30 + 40 + 30 + 35 + 700);
    expect(bits.packets).toBe(3 + 1 + 1);
    expect(bits.wireBytes).toBe(datachannelWireBytes(2500) + datachannelWireBytes(30) + datachannelWireBytes(700) + 40 + 30 + trailerOverhead(2) + 35 + trailerOverhead(1));
    expect(bits.breakdown).toEqual({ reference: 2500, anchors: 30, frames: 805, noFace: 0 });
    expect(datachannelOnlyWireBytes(packets)).toBe(packets.reduce((sum, p) => sum + datachannelWireBytes(p.bytes.length), 0));
  });
});

describe('decoded pictures back onto the input grid', () => {
  const n = 256;
  const picture = Uint8Array.from({ length: n * n * 3 }, (_, i) => Math.floor(i / 3) % n); // value = column

  it('the whole input: unchanged', () => {
    expect(uncropToFrame(picture, { x: 0, y: 0, size: n })).toBe(picture);
  });

  it('a box one pixel up and left: shifted back by one pixel, the edge repeated', () => {
    const out = uncropToFrame(picture, { x: -1, y: -1, size: n });
    const row = (img: Uint8Array, y: number) => Array.from({ length: 5 }, (_, x) => img[(y * n + x) * 3]!);
    expect(row(out, 10)).toEqual([1, 2, 3, 4, 5]);
    expect(out[(10 * n + n - 1) * 3]).toBe(n - 1); // past the box's right edge: its last column
  });
  it('cropRgb cuts the sender\'s box out of the input (the guide picture\'s source), and uncropToFrame puts it back', () => {
    const box = { x: 64, y: 32, size: 128 };
    const crop = cropRgb(picture, box);
    // Output column u samples input column 64 + (u + 0.5) / 2 - 0.5.
    expect([0, 2, 100, 254].map((u) => crop[(5 * n + u) * 3])).toEqual([64, 65, 114, 191]);
    const back = uncropToFrame(crop, box);
    for (const x of [70, 100, 180]) expect(Math.abs(back[(100 * n + x) * 3]! - x)).toBeLessThanOrEqual(1);
  });
});

describe('the stream file', () => {
  const packets: SentPacket[] = [
    { channel: 'control', sendMs: 0, bytes: new Uint8Array([PacketType.ReferencePicture, 1, 2, 3]) },
    { channel: 'frames', sendMs: 200, bytes: new Uint8Array([PacketType.GeometryFrames, 4, 5]) },
  ];
  const info = { referenceBoxes: { abc: { x: -2, y: 3, size: 250 } }, source: { file: 'in.mp4', width: 640, height: 480, crop: { x: 100, y: 20, size: 300 } } };
  const file = writeStream(packets, 7, info);
  const failure = (bytes: Uint8Array): StreamFileError => {
    try {
      readStream(bytes);
    } catch (e) {
      if (e instanceof StreamFileError) return e;
      throw e;
    }
    throw new Error('read without an error');
  };

  it('reads back the packets, the frame count and the info', () => {
    expect(readStream(file)).toEqual({ frameCount: 7, packets, info });
  });

  it('reads the older KFS2 form (no packet count, no info)', () => {
    const old = Buffer.concat([Buffer.from('KFS2 7\n'), file.subarray(file.indexOf(0x0a, file.indexOf(0x0a) + 1) + 1)]);
    expect(readStream(old)).toEqual({ frameCount: 7, packets, info: { referenceBoxes: {} } });
  });

  it('a file cut anywhere is truncated, even at a packet boundary', () => {
    const headerEnd = file.indexOf(0x0a, file.indexOf(0x0a) + 1) + 1;
    for (const cut of [headerEnd - 5, headerEnd, headerEnd + 4, headerEnd + 9 + 4, file.length - 1]) {
      const e = failure(file.subarray(0, cut));
      expect(e.kind, `cut at ${cut}`).toBe('truncated');
      expect(e.message).toMatch(/^truncated kiloface stream file/);
    }
    expect(failure(file.subarray(0, headerEnd + 9 + 4)).message).toContain('1 of 2 packets');
  });

  it('other files are foreign, never NaN frames', () => {
    for (const text of ['hello\n', 'KFS3 many 2\n{}\n', 'KFS3 7 2 x\n{}\n', '\u0000\u0000\u0000 ftypisom', 'KFS3 7 0\n[1]\n', 'KFS3 7 0\nnot json\n']) {
      const e = failure(new Uint8Array(Buffer.from(text)));
      expect(e.kind, text).toBe('foreign');
      expect(e.message).toMatch(/^not a kiloface stream file/);
    }
  });
});
