import { CROP_SIZE } from '../shipped.ts';
import type { PictureFormat } from './reference-packet.ts';

// What a reference picture says about itself, read from its first bytes before anything decodes
// it. A browser decodes whatever it is given: a 32 kB PNG that declares 16384x16384, sent as
// "webp", took 1 GB and 17.7 s in Chromium (issue 13). So the receiver checks that the file is
// the format the packet names (magic bytes) and that its declared size is one a sender makes.

/**
 * Senders make CROP_SIZE (256) square crops; a reference may be larger (DESIGN.md), up to 4x
 * on a side: 1024x1024, 4 MB of RGBA once decoded.
 */
export const MAX_REFERENCE_SIDE = 4 * CROP_SIZE;

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
// extents) property per image item (the picture, its alpha plane, thumbnails). Every one must be
// within bounds, and there must be at least one. The AV1 decoder does not read `ispe` but the
// sequence header at the start of each item's data (its max frame size), so that is read too:
// items are found through iinf (only plain `av01` images, Exif and XMP are accepted; no grids)
// and iloc (their bytes in the file or in idat).
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

/** Item types a reference picture may contain: AV1 images and metadata. Grids and the rest are refused. */
const AVIF_ITEM_TYPES = new Set(['av01', 'Exif', 'mime']);

function avifSize(bytes: Uint8Array): { width: number; height: number } | string {
  const top = boxes(bytes, 0, bytes.length);
  if (typeof top === 'string') return top;
  const meta = top.find((b) => b.type === 'meta');
  if (!meta) return 'no meta box';
  const inMeta = boxes(bytes, meta.body + 4, meta.end); // meta is a full box: 4 bytes of version and flags
  if (typeof inMeta === 'string') return inMeta;
  const child = (list: Box[], type: string): Box | undefined => list.find((b) => b.type === type);
  const [iprp, iinf, iloc] = [child(inMeta, 'iprp'), child(inMeta, 'iinf'), child(inMeta, 'iloc')];
  if (!iprp || !iinf || !iloc) return 'meta lacks iprp, iinf or iloc';
  const inIprp = boxes(bytes, iprp.body, iprp.end);
  if (typeof inIprp === 'string') return inIprp;
  const ipco = child(inIprp, 'ipco');
  if (!ipco) return 'no ipco box';
  const properties = boxes(bytes, ipco.body, ipco.end);
  if (typeof properties === 'string') return properties;
  const v = view(bytes);
  let size: { width: number; height: number } | undefined;
  for (const p of properties) {
    if (p.type !== 'ispe') continue;
    if (p.end - p.body < 12) return 'ispe box too short';
    const extent = { width: v.getUint32(p.body + 4), height: v.getUint32(p.body + 8) };
    if (extent.width === 0 || extent.height === 0) return extent;
    size = larger(size, extent); // the worst of them is what counts
  }
  if (!size) return 'no ispe property';

  const types = avifItemTypes(bytes, iinf);
  if (typeof types === 'string') return types;
  const locations = avifItemLocations(bytes, iloc, child(inMeta, 'idat'));
  if (typeof locations === 'string') return locations;
  let images = 0;
  for (const [id, type] of types) {
    if (!AVIF_ITEM_TYPES.has(type)) return `item type ${type} is not accepted in a reference picture`;
    if (type !== 'av01') continue;
    images++;
    const data = locations.get(id);
    if (!data) return `image item ${id} has no location`;
    const frame = av1MaxFrameSize(bytes.subarray(data.start, data.end));
    if (typeof frame === 'string') return `image item ${id}: ${frame}`;
    size = larger(size, frame);
  }
  return images > 0 ? size : 'no av01 image item';
}

/** iinf: item id → item type, from its infe boxes (versions 2 and 3 name the type). */
function avifItemTypes(bytes: Uint8Array, iinf: Box): Map<number, string> | string {
  const v = view(bytes);
  const version = v.getUint8(iinf.body);
  const entries = boxes(bytes, iinf.body + (version === 0 ? 6 : 8), iinf.end);
  if (typeof entries === 'string') return entries;
  const types = new Map<number, string>();
  for (const infe of entries) {
    if (infe.type !== 'infe') continue;
    const infeVersion = v.getUint8(infe.body);
    if (infeVersion < 2) return `infe version ${infeVersion} does not name the item type`;
    const id = infeVersion === 2 ? v.getUint16(infe.body + 4) : v.getUint32(infe.body + 4);
    types.set(id, ascii(bytes, infe.body + (infeVersion === 2 ? 8 : 10), 4));
  }
  return types;
}

/** iloc: item id → the bytes of its first extent (in the file, or in idat). */
function avifItemLocations(bytes: Uint8Array, iloc: Box, idat: Box | undefined): Map<number, { start: number; end: number }> | string {
  const v = view(bytes);
  let at = iloc.body;
  const version = v.getUint8(at);
  if (version > 2) return `iloc version ${version}`;
  const sizes = v.getUint16(at + 4);
  const [offsetSize, lengthSize, baseOffsetSize, indexSize] = [sizes >> 12, (sizes >> 8) & 15, (sizes >> 4) & 15, version > 0 ? sizes & 15 : 0];
  const read = (n: number): number | undefined => {
    if (n !== 0 && n !== 4 && n !== 8) return undefined;
    const value = n === 0 ? 0 : n === 4 ? v.getUint32(at) : v.getUint32(at) === 0 ? v.getUint32(at + 4) : undefined; // beyond 4 GB: not in this file
    at += n;
    return value;
  };
  at += 6;
  const count = version < 2 ? v.getUint16(at) : v.getUint32(at);
  at += version < 2 ? 2 : 4;
  const locations = new Map<number, { start: number; end: number }>();
  for (let i = 0; i < count && at < iloc.end; i++) {
    const id = version < 2 ? v.getUint16(at) : v.getUint32(at);
    at += version < 2 ? 2 : 4;
    const method = version > 0 ? v.getUint16(at) & 15 : 0;
    at += version > 0 ? 2 : 0;
    at += 2; // data_reference_index
    const base = read(baseOffsetSize);
    const extents = v.getUint16(at);
    at += 2;
    if (base === undefined || extents === 0) return `item ${id}: bad location`;
    for (let e = 0; e < extents; e++) {
      if (indexSize > 0 && read(indexSize) === undefined) return `item ${id}: bad extent index`;
      const offset = read(offsetSize);
      const length = read(lengthSize);
      if (offset === undefined || length === undefined) return `item ${id}: bad extent`;
      if (e > 0) continue; // the sequence header is at the start of the first extent
      const [origin, limit] = method === 0 ? [0, bytes.length] : method === 1 && idat ? [idat.body, idat.end] : [-1, -1];
      if (origin < 0) return `item ${id}: construction method ${method}`;
      const start = origin + base + offset;
      const end = length === 0 ? limit : start + length;
      if (start > limit || end > limit) return `item ${id}: data outside the file`;
      locations.set(id, { start, end });
    }
  }
  return locations;
}

/** The max frame size an AV1 sequence header (the first one among the OBUs of `data`) declares. */
function av1MaxFrameSize(data: Uint8Array): { width: number; height: number } | string {
  let at = 0;
  // An image item holds a handful of OBUs; the sequence header comes first or nearly so.
  for (let obus = 0; obus < 8 && at < data.length; obus++) {
    const header = data[at]!;
    if (header & 0x80) return 'OBU forbidden bit set';
    const type = (header >> 3) & 15;
    at += header & 0x04 ? 2 : 1; // extension byte
    let size = data.length - at;
    if (header & 0x02) {
      size = 0;
      for (let i = 0; ; i++) {
        if (i === 8 || at >= data.length) return 'bad OBU size';
        const b = data[at++]!;
        size += (b & 0x7f) * 2 ** (7 * i);
        if (!(b & 0x80)) break;
      }
    }
    if (at + size > data.length) return 'OBU runs past the item';
    if (type === 1) return av1SequenceHeaderSize(data.subarray(at, at + size));
    at += size;
  }
  return 'no AV1 sequence header';
}

/** AV1 spec 5.5.1: everything before max_frame_width_minus_1 is read only to be skipped. */
function av1SequenceHeaderSize(data: Uint8Array): { width: number; height: number } {
  let bit = 0;
  const f = (n: number): number => {
    let value = 0;
    for (let i = 0; i < n; i++, bit++) {
      const byte = data[bit >> 3];
      if (byte === undefined) throw new RangeError('sequence header cut short');
      value = value * 2 + ((byte >> (7 - (bit & 7))) & 1);
    }
    return value;
  };
  const uvlc = (): void => {
    let zeros = 0;
    while (f(1) === 0) if (++zeros >= 32) return;
    f(zeros);
  };
  f(3); // seq_profile
  f(1); // still_picture
  if (f(1)) {
    f(5); // reduced_still_picture_header: seq_level_idx only
  } else {
    let decoderModelInfo = false;
    let bufferDelayLength = 0;
    if (f(1)) {
      // timing_info
      f(32);
      f(32);
      if (f(1)) uvlc();
      decoderModelInfo = f(1) === 1;
      if (decoderModelInfo) {
        bufferDelayLength = f(5) + 1;
        f(32);
        f(5);
        f(5);
      }
    }
    const initialDisplayDelay = f(1) === 1;
    const operatingPoints = f(5) + 1;
    for (let i = 0; i < operatingPoints; i++) {
      f(12); // operating_point_idc
      if (f(5) > 7) f(1); // seq_level_idx, seq_tier
      if (decoderModelInfo && f(1)) {
        f(bufferDelayLength);
        f(bufferDelayLength);
        f(1);
      }
      if (initialDisplayDelay && f(1)) f(4);
    }
  }
  const widthBits = f(4) + 1;
  const heightBits = f(4) + 1;
  return { width: f(widthBits) + 1, height: f(heightBits) + 1 };
}
