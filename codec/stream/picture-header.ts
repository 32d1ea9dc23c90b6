import type { PictureFormat } from './reference-packet.ts';

// What a reference picture says about itself, read from its first bytes before anything decodes
// it. A browser decodes whatever it is given: a 32 kB PNG that declares 16384x16384, sent as
// "webp", took 1 GB and 17.7 s in Chromium (issue 13). So the receiver checks that the file is
// the format the packet names (magic bytes) and that its declared size is one a sender makes.

/** Our senders make 256x256 crops (CROP_OUT_SIZE); larger references are allowed up to this side. */
export const MAX_REFERENCE_SIDE = 1024;

export type PictureErrorCode =
  /** The file is another format than the packet declares (or none we know). */
  | 'format-mismatch'
  /** The header cannot be read: truncated, malformed, or a feature we do not accept (animation). */
  | 'bad-header'
  /** The declared size is zero, or larger than MAX_REFERENCE_SIDE on a side. */
  | 'bad-size';

export class PictureError extends Error {
  constructor(
    readonly code: PictureErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PictureError';
  }
}

export interface PictureInfo {
  format: PictureFormat;
  width: number;
  height: number;
}

export type PictureResult = { ok: true; value: PictureInfo } | { ok: false; error: PictureError };

const failure = (code: PictureErrorCode, message: string): PictureResult => ({ ok: false, error: new PictureError(code, message) });

const ascii = (bytes: Uint8Array, at: number, length: number): string => String.fromCharCode(...bytes.subarray(at, at + length));

/** The format the bytes are, by their magic numbers; undefined when none we know. */
export function sniffPicture(bytes: Uint8Array): PictureFormat | 'png' | 'gif' | 'bmp' | undefined {
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return 'webp';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 12 && ascii(bytes, 4, 4) === 'ftyp' && isAvifBrand(bytes)) return 'avif';
  if (bytes.length >= 8 && bytes[0] === 0x89 && ascii(bytes, 1, 3) === 'PNG') return 'png';
  if (bytes.length >= 6 && ascii(bytes, 0, 4) === 'GIF8') return 'gif';
  if (bytes.length >= 2 && ascii(bytes, 0, 2) === 'BM') return 'bmp';
  return undefined;
}

export type SniffedFormat = NonNullable<ReturnType<typeof sniffPicture>>;

/**
 * The size a picture's header declares, for any format sniffPicture knows (a browser would
 * decode PNG, GIF and BMP too): what a decoder allocates for. A string says why it cannot be read.
 * Never throws.
 */
export function declaredSize(bytes: Uint8Array, format: SniffedFormat): { width: number; height: number } | string {
  try {
    switch (format) {
      case 'webp':
        return webpSize(bytes);
      case 'jpeg':
        return jpegSize(bytes);
      case 'avif':
        return avifSize(bytes);
      case 'png': // IHDR is the first chunk: width and height at bytes 16 and 20
        return ascii(bytes, 12, 4) === 'IHDR' ? { width: view(bytes).getUint32(16), height: view(bytes).getUint32(20) } : 'IHDR missing';
      case 'gif': // logical screen size
        return { width: view(bytes).getUint16(6, true), height: view(bytes).getUint16(8, true) };
      case 'bmp':
        return { width: Math.abs(view(bytes).getInt32(18, true)), height: Math.abs(view(bytes).getInt32(22, true)) };
    }
  } catch (error) {
    // Reads past the end of a truncated header land here (DataView throws RangeError).
    return `header unreadable: ${(error as Error).message}`;
  }
}

/**
 * Checks a coded picture before it is decoded: it must be the declared format, its header must
 * read, and its size must be within MAX_REFERENCE_SIDE. Never throws.
 */
export function probePicture(bytes: Uint8Array, declared: PictureFormat): PictureResult {
  const actual = sniffPicture(bytes);
  if (actual !== declared) return failure('format-mismatch', `declared ${declared}, the bytes are ${actual ?? 'no known format'}`);
  const size = declaredSize(bytes, declared);
  if (typeof size === 'string') return failure('bad-header', `${declared}: ${size}`);
  const { width, height } = size;
  if (width < 1 || height < 1 || width > MAX_REFERENCE_SIDE || height > MAX_REFERENCE_SIDE) {
    return failure('bad-size', `${declared} declares ${width}x${height}; at most ${MAX_REFERENCE_SIDE}x${MAX_REFERENCE_SIDE} is accepted`);
  }
  return { ok: true, value: { format: declared, width, height } };
}

const view = (bytes: Uint8Array): DataView => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

// WebP (RIFF): the first chunk is VP8 (lossy), VP8L (lossless) or VP8X (extended: canvas size,
// then the image in a VP8/VP8L chunk). Both the canvas and the image bitstream's own size are
// checked, since a decoder may allocate for either.
function webpSize(bytes: Uint8Array): { width: number; height: number } | string {
  const v = view(bytes);
  let at = 12;
  let canvas: { width: number; height: number } | undefined;
  // Chunks before the image (ICCP, ALPH, …) are skipped; a few is all a real file has.
  for (let chunks = 0; chunks < 16 && at + 8 <= bytes.length; chunks++) {
    const fourcc = ascii(bytes, at, 4);
    const length = v.getUint32(at + 4, true);
    const body = at + 8;
    if (fourcc === 'VP8X') {
      if (chunks !== 0) return 'VP8X chunk is not first';
      const flags = v.getUint8(body);
      if (flags & 0x02) return 'animated WebP is not a reference picture';
      canvas = { width: 1 + uint24le(v, body + 4), height: 1 + uint24le(v, body + 7) };
    } else if (fourcc === 'VP8 ') {
      // Frame tag (3 bytes), start code 9d 01 2a, then 14-bit width and height (2 bits of scale).
      if (v.getUint8(body + 3) !== 0x9d || v.getUint8(body + 4) !== 0x01 || v.getUint8(body + 5) !== 0x2a) return 'VP8 start code missing';
      return larger(canvas, { width: v.getUint16(body + 6, true) & 0x3fff, height: v.getUint16(body + 8, true) & 0x3fff });
    } else if (fourcc === 'VP8L') {
      // Signature 0x2f, then 14 bits width − 1 and 14 bits height − 1, little-endian bit order.
      if (v.getUint8(body) !== 0x2f) return 'VP8L signature missing';
      const bits = v.getUint32(body + 1, true);
      return larger(canvas, { width: 1 + (bits & 0x3fff), height: 1 + ((bits >>> 14) & 0x3fff) });
    }
    at = body + length + (length & 1); // chunks are padded to an even length
  }
  return 'no image chunk';
}

function uint24le(v: DataView, at: number): number {
  return v.getUint8(at) | (v.getUint8(at + 1) << 8) | (v.getUint8(at + 2) << 16);
}

function larger(a: { width: number; height: number } | undefined, b: { width: number; height: number }): { width: number; height: number } {
  return a ? { width: Math.max(a.width, b.width), height: Math.max(a.height, b.height) } : b;
}

// JPEG: walk the marker segments to the first start-of-frame (SOF0-SOF15 less DHT, JPG, DAC);
// its height and width are the picture's size. A height of 0 (size given later by DNL) is refused.
function jpegSize(bytes: Uint8Array): { width: number; height: number } | string {
  const v = view(bytes);
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (v.getUint8(at) !== 0xff) return `no marker at byte ${at}`;
    const marker = v.getUint8(at + 1);
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2; // markers without a segment
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return 'no frame header before the scan';
    const length = v.getUint16(at + 2);
    if (length < 2) return 'segment length below 2';
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      const height = v.getUint16(at + 5);
      const width = v.getUint16(at + 7);
      if (height === 0) return 'height deferred to a DNL marker';
      return { width, height };
    }
    at += 2 + length;
  }
  return 'no frame header';
}

// AVIF (ISO BMFF, HEIF): ftyp names the brand; meta/iprp/ipco holds an `ispe` (image spatial
// extents) property per image item (the picture, its alpha plane, grid tiles, thumbnails).
// Every one of them must be within bounds, and there must be at least one.
function isAvifBrand(bytes: Uint8Array): boolean {
  const size = view(bytes).getUint32(0);
  const end = Math.min(bytes.length, size);
  if (ascii(bytes, 8, 4) === 'avif') return true;
  for (let at = 16; at + 4 <= end; at += 4) if (ascii(bytes, at, 4) === 'avif') return true;
  return false;
}

interface Box {
  type: string;
  body: number;
  end: number;
}

/** The boxes in [start, end); a box whose size runs past `end` is an error. */
function boxes(bytes: Uint8Array, start: number, end: number): Box[] | string {
  const v = view(bytes);
  const found: Box[] = [];
  let at = start;
  // Real files have a handful of boxes per level; the cap keeps a hostile file's walk short.
  while (at + 8 <= end && found.length < 64) {
    let size = v.getUint32(at);
    let body = at + 8;
    if (size === 1) {
      const high = v.getUint32(at + 8);
      if (high !== 0) return 'box larger than 4 GB';
      size = v.getUint32(at + 12);
      body = at + 16;
    } else if (size === 0) size = end - at; // to the end of the enclosing box
    if (size < body - at || at + size > end) return `box ${ascii(bytes, at + 4, 4)} overruns its parent`;
    found.push({ type: ascii(bytes, at + 4, 4), body, end: at + size });
    at += size;
  }
  return found;
}

function avifSize(bytes: Uint8Array): { width: number; height: number } | string {
  const top = boxes(bytes, 0, bytes.length);
  if (typeof top === 'string') return top;
  const meta = top.find((b) => b.type === 'meta');
  if (!meta) return 'no meta box';
  const inMeta = boxes(bytes, meta.body + 4, meta.end); // meta is a full box: 4 bytes of version and flags
  if (typeof inMeta === 'string') return inMeta;
  const iprp = inMeta.find((b) => b.type === 'iprp');
  if (!iprp) return 'no iprp box';
  const inIprp = boxes(bytes, iprp.body, iprp.end);
  if (typeof inIprp === 'string') return inIprp;
  const ipco = inIprp.find((b) => b.type === 'ipco');
  if (!ipco) return 'no ipco box';
  const properties = boxes(bytes, ipco.body, ipco.end);
  if (typeof properties === 'string') return properties;
  const v = view(bytes);
  let size: { width: number; height: number } | undefined;
  for (const p of properties) {
    if (p.type !== 'ispe') continue;
    if (p.end - p.body < 12) return 'ispe box too short';
    // Compare as numbers: a u32 can exceed any limit, and Math.max keeps the worst.
    const extent = { width: v.getUint32(p.body + 4), height: v.getUint32(p.body + 8) };
    size = larger(size, extent);
    if (extent.width === 0 || extent.height === 0) return { width: 0, height: 0 };
  }
  return size ?? 'no ispe property';
}
