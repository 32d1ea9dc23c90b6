import { fail, HEADER_BYTES, ok, PacketType, readPacket, type Result } from '../bitstream/packet.ts';
import type { GuideChunk, GuideCodecName } from './guide-codec.ts';

// Guide pictures ride inside the geometry bundles (issue 17): a GeometryFramesGuided packet is a
// GeometryFrames packet with a guide section between the header and the geometry payload, so a
// guide picture pays no packet or datachannel header of its own.
//
//   bytes 0-5   packet header (codec/bitstream/packet.ts), type 6
//   byte 6      codec (high 4 bits: 1 av1, 2 vp9) | chunk count 1-15 (low 4 bits)
//   byte 7      coded picture side, px (8-255)
//   byte 8      guide pictures per second x 2 (1-255): the receiver's measure of a stale guide
//   per chunk:  flags (bit 7 keyframe, bits 0-3 index of the bundle's frame it was taken from),
//               picture number (u8, +1 per guide picture, wraps: a gap is a lost picture),
//               length (LEB128 varint, 1-3 bytes), the codec's bytes
//   then        the GeometryFrames payload (anchor id, frame count, interval, residuals)
//
// The geometry part is returned as a plain GeometryFrames packet (same header, type 1) for
// GeometryDecoder, so the geometry coding does not change.

const CODECS: readonly GuideCodecName[] = ['av1', 'vp9'];
export const MAX_GUIDE_CHUNKS = 15;
/** A guide picture is a few hundred bytes at most at these sizes; a packet stays well under MAX_PACKET_BYTES. */
export const MAX_GUIDE_CHUNK_BYTES = 16 * 1024;
const MIN_GUIDE_SIDE = 8;

/** One guide picture in a bundle. */
export interface BundledGuide extends GuideChunk {
  /** Index of the bundle's frame the picture was taken from (its geometry gives the guide's landmarks). */
  frameIndex: number;
  /** Counts guide pictures (mod 256). */
  number: number;
}

export interface GuideSection {
  codec: GuideCodecName;
  side: number;
  fps: number;
  chunks: BundledGuide[];
}

function checkUint(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${name} must be an integer in ${min}..${max}, got ${value}`);
}

/** A GeometryFrames packet (GeometryEncoder.encodeFrames) with guide pictures put inside it. */
export function writeGuidedFrames(framesPacket: Uint8Array, section: GuideSection): Uint8Array {
  const parsed = readPacket(framesPacket);
  if (!parsed.ok || parsed.value.type !== PacketType.GeometryFrames) throw new RangeError('writeGuidedFrames needs a GeometryFrames packet');
  checkUint('guide chunk count', section.chunks.length, 1, MAX_GUIDE_CHUNKS);
  checkUint('guide side', section.side, MIN_GUIDE_SIDE, 255);
  checkUint('guide pictures per second x 2', section.fps * 2, 1, 255);
  const head: number[] = [((CODECS.indexOf(section.codec) + 1) << 4) | section.chunks.length, section.side, section.fps * 2];
  const pieces: Uint8Array[] = [framesPacket.subarray(0, HEADER_BYTES), Uint8Array.from(head)];
  for (const c of section.chunks) {
    checkUint('guide frame index', c.frameIndex, 0, 15);
    checkUint('guide picture number', c.number, 0, 255);
    checkUint('guide chunk length', c.data.length, 1, MAX_GUIDE_CHUNK_BYTES);
    const chunkHead = [(c.keyframe ? 0x80 : 0) | c.frameIndex, c.number];
    for (let n = c.data.length; ; n >>= 7) {
      chunkHead.push(n < 0x80 ? n : (n & 0x7f) | 0x80);
      if (n < 0x80) break;
    }
    pieces.push(Uint8Array.from(chunkHead), c.data);
  }
  pieces.push(framesPacket.subarray(HEADER_BYTES));
  const out = new Uint8Array(pieces.reduce((sum, piece) => sum + piece.length, 0));
  let pos = 0;
  for (const piece of pieces) {
    out.set(piece, pos);
    pos += piece.length;
  }
  out[0] = (out[0]! & 0xf0) | PacketType.GeometryFramesGuided;
  return out;
}

/** A GeometryFramesGuided packet → its guide pictures and the GeometryFrames packet inside. Never throws. */
export function readGuidedFrames(bytes: Uint8Array): Result<{ guide: GuideSection; frames: Uint8Array }> {
  const parsed = readPacket(bytes);
  if (!parsed.ok) return parsed;
  if (parsed.value.type !== PacketType.GeometryFramesGuided) return fail('unknown-type', `packet type ${parsed.value.type} has no guide pictures`);
  const p = parsed.value.payload;
  if (p.length < 3) return fail('truncated', 'guide section shorter than 3 bytes');
  const codec = CODECS[(p[0]! >> 4) - 1];
  const count = p[0]! & 0x0f;
  if (!codec) return fail('bad-field', `guide codec ${p[0]! >> 4}`);
  if (count < 1) return fail('bad-field', 'guide section with no pictures');
  if (p[1]! < MIN_GUIDE_SIDE) return fail('bad-field', `guide side ${p[1]}`);
  if (p[2]! < 1) return fail('bad-field', 'guide rate 0');
  const chunks: BundledGuide[] = [];
  let pos = 3;
  for (let i = 0; i < count; i++) {
    if (pos + 3 > p.length) return fail('truncated', `guide picture ${i + 1} of ${count} cut short`);
    const flags = p[pos]!;
    if (flags & 0x70) return fail('bad-field', `guide flags ${flags}`);
    const number = p[pos + 1]!;
    pos += 2;
    let length = 0;
    for (let shift = 0; ; shift += 7) {
      if (shift > 14) return fail('bad-field', 'guide picture length longer than 3 bytes');
      if (pos >= p.length) return fail('truncated', 'guide picture length cut short');
      const b = p[pos++]!;
      length |= (b & 0x7f) << shift;
      if (!(b & 0x80)) break;
    }
    if (length < 1 || length > MAX_GUIDE_CHUNK_BYTES) return fail('bad-field', `guide picture of ${length} bytes`);
    if (pos + length > p.length) return fail('truncated', `guide picture of ${length} bytes, ${p.length - pos} left`);
    chunks.push({ keyframe: (flags & 0x80) !== 0, frameIndex: flags & 0x0f, number, data: p.slice(pos, pos + length) });
    pos += length;
  }
  const frames = new Uint8Array(HEADER_BYTES + p.length - pos);
  frames.set(bytes.subarray(0, HEADER_BYTES));
  frames[0] = (frames[0]! & 0xf0) | PacketType.GeometryFrames;
  frames.set(p.subarray(pos), HEADER_BYTES);
  return ok({ guide: { codec, side: p[1]!, fps: p[2]! / 2, chunks }, frames });
}

/** Distance from picture number a to b (mod 256), in -128..127. */
export function guideNumberDelta(a: number, b: number): number {
  return ((((b - a) % 256) + 256 + 128) % 256) - 128;
}
