import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { declaredSize, MAX_REFERENCE_SIDE, probePicture, sniffPicture } from '../../../codec/stream/picture-header.ts';
import { avif, jpeg, png, webpExtended, webpLossless, webpLossy } from '../../../scripts/fuzz/picture-headers.ts';

// Real files made by ffmpeg 5.1 (libwebp, mjpeg, libaom) from its 48x32 test pattern:
//   ffmpeg -f lavfi -i testsrc2=size=48x32:rate=1 -frames:v 1 [-c:v libwebp -lossless 0|1 | -c:v libaom-av1 -still-picture 1] out.{webp,jpg,avif,png,gif}
// alpha.webp adds an alpha plane (VP8X + ALPH + VP8).
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../../fixtures/pictures/${name}`, import.meta.url)));

describe('reference picture header probe', () => {
  it('reads the size of real WebP (lossy, lossless, with alpha), JPEG and AVIF files', () => {
    for (const [name, format] of [
      ['lossy.webp', 'webp'],
      ['lossless.webp', 'webp'],
      ['alpha.webp', 'webp'],
      ['baseline.jpg', 'jpeg'],
      ['picture.avif', 'avif'],
    ] as const) {
      expect(probePicture(fixture(name), format), name).toEqual({ ok: true, value: { format, width: 48, height: 32 } });
    }
  });

  it('reads the size PNG and GIF files declare (what a browser would allocate for them)', () => {
    expect(declaredSize(fixture('picture.png'), 'png')).toEqual({ width: 48, height: 32 });
    expect(declaredSize(fixture('picture.gif'), 'gif')).toEqual({ width: 48, height: 32 });
    expect(declaredSize(png(16384, 16384), 'png')).toEqual({ width: 16384, height: 16384 });
  });

  it('refuses a file of another format than declared (the PNG sent as "webp" of issue 13)', () => {
    const result = probePicture(png(16384, 16384), 'webp');
    expect(result.ok || result.error.code).toBe('format-mismatch');
    expect(sniffPicture(fixture('picture.png'))).toBe('png');
    for (const [name, declared] of [
      ['picture.png', 'webp'],
      ['picture.gif', 'jpeg'],
      ['lossy.webp', 'avif'],
      ['baseline.jpg', 'webp'],
      ['picture.avif', 'jpeg'],
    ] as const) {
      const r = probePicture(fixture(name), declared);
      expect(r.ok || r.error.code, name).toBe('format-mismatch');
    }
  });

  it('refuses declared sizes beyond MAX_REFERENCE_SIDE in every header that carries one', () => {
    const huge = 16384;
    const cases: [string, Uint8Array, 'webp' | 'jpeg' | 'avif'][] = [
      ['VP8L', webpLossless(huge, huge), 'webp'],
      ['VP8', webpLossy(huge - 1, 256), 'webp'],
      ['VP8X canvas', webpExtended(huge, huge, 256, 256), 'webp'],
      ['VP8X image', webpExtended(256, 256, huge, 256), 'webp'],
      ['JPEG SOF0', jpeg(huge, huge), 'jpeg'],
      ['JPEG SOF2 (progressive)', jpeg(256, 65535, 0xc2), 'jpeg'],
      ['AVIF ispe', avif([[huge, huge]], [256, 256]), 'avif'],
      ['AVIF AV1 sequence header', avif([[256, 256]], [huge, huge]), 'avif'],
      ['AVIF second ispe', avif([[256, 256], [0xffffffff, 1]], [256, 256]), 'avif'],
      ['AVIF zero', avif([[0, 256]], [256, 256]), 'avif'],
    ];
    for (const [name, bytes, format] of cases) {
      const r = probePicture(bytes, format);
      expect(r.ok || r.error.code, name).toBe('bad-size');
    }
    // The same builders at the sender's 256x256, and at the limit, pass.
    for (const bytes of [webpLossless(256, 256), webpLossy(256, 256), webpExtended(MAX_REFERENCE_SIDE, MAX_REFERENCE_SIDE)]) expect(probePicture(bytes, 'webp').ok).toBe(true);
    expect(probePicture(jpeg(256, 256), 'jpeg').ok).toBe(true);
    expect(probePicture(avif([[256, 256], [256, 256]]), 'avif').ok).toBe(true);
  });

  it('patched real files: a huge size written into a real header is refused', () => {
    const webp = fixture('lossy.webp');
    webp.set([0xff, 0x3f, 0xff, 0x3f], 26); // VP8 width and height fields: 16383 x 16383
    const r = probePicture(webp, 'webp');
    expect(r.ok || r.error.code).toBe('bad-size');
    const avifFile = fixture('picture.avif');
    const ispe = Buffer.from(avifFile).indexOf('ispe');
    avifFile.set([0, 0, 0x40, 0], ispe + 8); // width 16384
    const a = probePicture(avifFile, 'avif');
    expect(a.ok || a.error.code).toBe('bad-size');
  });

  it('refuses truncated, animated and malformed headers without throwing', () => {
    // Cut anywhere before the end of its size fields (VP8L: byte 25, JPEG SOF0: byte 29, AVIF: the last ispe).
    for (const [bytes, sizeEnd] of [
      [webpLossless(256, 256), 25],
      [jpeg(256, 256), 29],
      [avif([[256, 256]]), avif([[256, 256]]).length],
    ] as const) {
      const format = sniffPicture(bytes) as 'webp' | 'jpeg' | 'avif';
      for (let n = 0; n < sizeEnd; n++) expect(probePicture(bytes.subarray(0, n), format).ok, `${format} cut to ${n} bytes`).toBe(false);
      expect(probePicture(bytes.subarray(0, sizeEnd), format).ok).toBe(true);
    }
    const animated = probePicture(webpExtended(256, 256, 256, 256, 0x02), 'webp');
    expect(animated.ok || animated.error.code).toBe('bad-header');
    const noFrame = jpeg(256, 0); // height given later by a DNL marker
    const dnl = probePicture(noFrame, 'jpeg');
    expect(dnl.ok || dnl.error.code).toBe('bad-header');
    const grid = avif([[256, 256]]);
    grid.set([...'grid'].map((c) => c.charCodeAt(0)), Buffer.from(grid).indexOf('av01')); // the item becomes a grid of tiles
    const g = probePicture(grid, 'avif');
    expect(g.ok || g.error.code).toBe('bad-header');
  });
});
