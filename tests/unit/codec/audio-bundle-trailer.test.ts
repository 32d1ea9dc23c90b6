import { describe, expect, it } from 'vitest';
import { appendBundles, AUDIO_TRAILER_MAGIC, stripBundles, trailerOverhead } from '../../../codec/audio-bundle-trailer.ts';

const opus = Uint8Array.from({ length: 57 }, (_, i) => (i * 37 + 11) & 0xff);

describe('audio bundle trailer', () => {
  it('round-trips bundles behind an audio frame and gives back the frame byte for byte', () => {
    const bundles = [Uint8Array.of(1, 2, 3), new Uint8Array(300).fill(9), Uint8Array.of(7)];
    const framed = appendBundles(opus, bundles);
    expect(framed.length).toBe(opus.length + 304 + trailerOverhead(3));
    const { media, bundles: out } = stripBundles(framed);
    expect([...media]).toEqual([...opus]);
    expect(out.map((b) => [...b])).toEqual(bundles.map((b) => [...b]));
  });

  it('leaves a frame without bundles untouched', () => {
    expect(appendBundles(opus, [])).toBe(opus);
    const { media, bundles } = stripBundles(opus);
    expect(media).toBe(opus);
    expect(bundles).toEqual([]);
  });

  it('leaves a frame alone whose end looks like the magic but does not parse as a trailer', () => {
    // Magic at the end, a count whose lengths run past the frame's start.
    const fake = Uint8Array.of(0xfc, 0x01, 0x02, 0xff, 0xff, 5, ...AUDIO_TRAILER_MAGIC);
    expect(stripBundles(fake)).toEqual({ media: fake, bundles: [] });
    // Count 0 is never written.
    const zero = Uint8Array.of(0xfc, 0x01, 0, ...AUDIO_TRAILER_MAGIC);
    expect(stripBundles(zero).bundles).toEqual([]);
    // The magic alone is not a frame.
    expect(stripBundles(AUDIO_TRAILER_MAGIC).media).toBe(AUDIO_TRAILER_MAGIC);
  });

  it('strips a trailer in front of which the audio frame is empty only as an empty frame', () => {
    const { media, bundles } = stripBundles(appendBundles(new Uint8Array(0), [Uint8Array.of(4, 5)]));
    expect(media.length).toBe(0);
    expect(bundles.map((b) => [...b])).toEqual([[4, 5]]);
  });
});
