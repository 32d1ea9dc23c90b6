// Kiloface frame bundles riding at the end of an encoded audio frame (issue 16 item 4): they pay
// no packet headers of their own and arrive with the voice. The trailer sits at the end, so the
// receiver finds it without knowing the audio codec's framing:
//
//   audio frame | bundle 1 | … | bundle n | length 1 … length n (u16 BE) | n (u8) | magic (4 B)
//
// A receiver that negotiated the trailer strips it from every frame before the decoder; a frame
// whose end does not parse as a whole trailer is left as it is (a plain audio frame).

/** "kFb" + format version 1. */
export const AUDIO_TRAILER_MAGIC = Uint8Array.of(0x6b, 0x46, 0x62, 0x01);
export const MAX_BUNDLES_PER_FRAME = 255;
export const MAX_BUNDLE_BYTES = 0xffff;
/**
 * Bundle bytes one audio frame carries at most: a 60 ms Opus frame at 8 kbit/s is ~60 B, and the
 * RTP packet must stay far below the path's MTU (~1200 B), since audio packets are never split.
 */
export const MAX_BUNDLE_BYTES_PER_FRAME = 600;

export interface StrippedFrame {
  /** The audio codec's own bytes. */
  media: Uint8Array;
  /** The bundles carried (empty when the frame had no trailer). */
  bundles: Uint8Array[];
}

/** Trailer bytes for these bundles beside their own bytes. */
export function trailerOverhead(bundleCount: number): number {
  return bundleCount === 0 ? 0 : 2 * bundleCount + 1 + AUDIO_TRAILER_MAGIC.length;
}

export function appendBundles(media: Uint8Array, bundles: readonly Uint8Array[]): Uint8Array {
  if (bundles.length === 0) return media;
  if (bundles.length > MAX_BUNDLES_PER_FRAME) throw new RangeError(`at most ${MAX_BUNDLES_PER_FRAME} bundles per frame`);
  const payload = bundles.reduce((sum, b) => sum + b.length, 0);
  const out = new Uint8Array(media.length + payload + trailerOverhead(bundles.length));
  out.set(media, 0);
  let at = media.length;
  for (const bundle of bundles) {
    if (bundle.length > MAX_BUNDLE_BYTES) throw new RangeError('bundle too long for the audio trailer');
    out.set(bundle, at);
    at += bundle.length;
  }
  for (const bundle of bundles) {
    out[at++] = bundle.length >> 8;
    out[at++] = bundle.length & 0xff;
  }
  out[at++] = bundles.length;
  out.set(AUDIO_TRAILER_MAGIC, at);
  return out;
}

export function stripBundles(frame: Uint8Array): StrippedFrame {
  const plain = { media: frame, bundles: [] };
  const magicAt = frame.length - AUDIO_TRAILER_MAGIC.length;
  if (magicAt < 1) return plain;
  for (let i = 0; i < AUDIO_TRAILER_MAGIC.length; i++) if (frame[magicAt + i] !== AUDIO_TRAILER_MAGIC[i]) return plain;
  const count = frame[magicAt - 1]!;
  const lengthsAt = magicAt - 1 - 2 * count;
  if (count === 0 || lengthsAt < 0) return plain;
  const lengths: number[] = [];
  let payload = 0;
  for (let i = 0; i < count; i++) {
    const length = (frame[lengthsAt + 2 * i]! << 8) | frame[lengthsAt + 2 * i + 1]!;
    lengths.push(length);
    payload += length;
  }
  const mediaEnd = lengthsAt - payload;
  if (mediaEnd < 0) return plain;
  const bundles: Uint8Array[] = [];
  let at = mediaEnd;
  for (const length of lengths) {
    bundles.push(frame.subarray(at, at + length));
    at += length;
  }
  return { media: frame.subarray(0, mediaEnd), bundles };
}
