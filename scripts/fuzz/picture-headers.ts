// The smallest files whose headers say "WebP/JPEG/AVIF/PNG of width x height": what a picture
// probe reads, and no picture data after it. The receiver fuzz surface and the unit tests build
// hostile headers from them (huge sizes, one format sent as another). Layouts: codec/stream/picture-header.ts.

const text = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
const u32be = (n: number): number[] => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
const u32le = (n: number): number[] => u32be(n).reverse();
const u24le = (n: number): number[] => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255];
const u16be = (n: number): number[] => [(n >>> 8) & 255, n & 255];
const u16le = (n: number): number[] => [n & 255, (n >>> 8) & 255];

function riff(chunks: number[][]): Uint8Array {
  const body = [...text('WEBP'), ...chunks.flat()];
  return Uint8Array.from([...text('RIFF'), ...u32le(body.length), ...body]);
}

function chunk(fourcc: string, data: number[]): number[] {
  return [...text(fourcc), ...u32le(data.length), ...data, ...(data.length & 1 ? [0] : [])];
}

/** Lossless WebP (VP8L): sizes 1..16384. */
export function webpLossless(width: number, height: number): Uint8Array {
  const bits = ((width - 1) & 0x3fff) | (((height - 1) & 0x3fff) << 14);
  return riff([chunk('VP8L', [0x2f, ...u32le(bits >>> 0), 0, 0, 0])]);
}

/** Lossy WebP (VP8 key frame header): sizes 0..16383. */
export function webpLossy(width: number, height: number): Uint8Array {
  return riff([chunk('VP8 ', [0x30, 0x01, 0x00, 0x9d, 0x01, 0x2a, ...u16le(width & 0x3fff), ...u16le(height & 0x3fff), 0, 0])]);
}

/** Extended WebP (VP8X): a canvas of one size around a VP8L image of another, sizes 1..2^24. */
export function webpExtended(canvasWidth: number, canvasHeight: number, width = canvasWidth, height = canvasHeight, flags = 0): Uint8Array {
  const image = webpLossless(width, height).subarray(12);
  return riff([chunk('VP8X', [flags, 0, 0, 0, ...u24le(canvasWidth - 1), ...u24le(canvasHeight - 1)]), [...image]]);
}

/** Baseline JPEG: SOI, APP0 (JFIF), SOF0 of width x height (one component), EOI. */
export function jpeg(width: number, height: number, sof = 0xc0): Uint8Array {
  const app0 = [0xff, 0xe0, ...u16be(16), ...text('JFIF'), 0, 1, 2, 0, 0, 1, 0, 1, 0, 0];
  const frame = [0xff, sof, ...u16be(11), 8, ...u16be(height), ...u16be(width), 1, 1, 0x11, 0];
  return Uint8Array.from([0xff, 0xd8, ...app0, ...frame, 0xff, 0xd9]);
}

function box(type: string, data: number[]): number[] {
  return [...u32be(8 + data.length), ...text(type), ...data];
}

/** An AV1 sequence header OBU (reduced still picture) declaring a max frame of width x height (up to 65536). */
function av1SequenceHeader(width: number, height: number): number[] {
  // seq_profile 0, still_picture 1, reduced_still_picture_header 1, seq_level_idx 0, 16-bit sizes.
  const fields: [number, number][] = [[0, 3], [1, 1], [1, 1], [0, 5], [15, 4], [15, 4], [width - 1, 16], [height - 1, 16]];
  const bits = fields.flatMap(([value, n]) => Array.from({ length: n }, (_, i) => (value >> (n - 1 - i)) & 1));
  while (bits.length % 8) bits.push(0);
  const payload = Array.from({ length: bits.length / 8 }, (_, i) => bits.slice(8 * i, 8 * i + 8).reduce((a, b) => a * 2 + b, 0));
  return [0x0a, payload.length, ...payload]; // OBU type 1 with a size field
}

/**
 * AVIF: ftyp, then meta (hdlr, iloc, iinf with one av01 item, iprp/ipco with one `ispe` per size
 * in `extents`) and mdat holding the item: an AV1 sequence header of `frame` (default: the first extent).
 */
export function avif(extents: [number, number][], frame: [number, number] = extents[0] ?? [256, 256]): Uint8Array {
  const ftyp = box('ftyp', [...text('avif'), 0, 0, 0, 0, ...text('mif1'), ...text('miaf')]);
  const ispes = extents.flatMap(([w, h]) => box('ispe', [0, 0, 0, 0, ...u32be(w), ...u32be(h)]));
  const item = av1SequenceHeader(...frame);
  const metaWith = (dataOffset: number): number[] =>
    box('meta', [
      0, 0, 0, 0,
      ...box('hdlr', [0, 0, 0, 0, 0, 0, 0, 0, ...text('pict'), ...new Array(13).fill(0)]),
      // iloc v0: 4-byte offsets and lengths, no base offset; item 1, one extent
      ...box('iloc', [0, 0, 0, 0, 0x44, 0x00, ...u16be(1), ...u16be(1), ...u16be(0), ...u16be(1), ...u32be(dataOffset), ...u32be(item.length)]),
      ...box('iinf', [0, 0, 0, 0, ...u16be(1), ...box('infe', [2, 0, 0, 0, ...u16be(1), ...u16be(0), ...text('av01'), 0])]),
      ...box('iprp', box('ipco', ispes)),
    ]);
  const dataOffset = ftyp.length + metaWith(0).length + 8;
  return Uint8Array.from([...ftyp, ...metaWith(dataOffset), ...box('mdat', item)]);
}

/** PNG: signature and IHDR (no CRC check needed by a probe; one is left as zeros). */
export function png(width: number, height: number): Uint8Array {
  return Uint8Array.from([0x89, ...text('PNG'), 0x0d, 0x0a, 0x1a, 0x0a, ...u32be(13), ...text('IHDR'), ...u32be(width), ...u32be(height), 8, 2, 0, 0, 0, 0, 0, 0, 0]);
}
