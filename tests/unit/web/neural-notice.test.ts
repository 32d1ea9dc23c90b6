import { describe, expect, it } from 'vitest';
import { describeNeural, type NeuralFacts } from '../../../web/ui/neural-notice.ts';

const facts = (over: Partial<NeuralFacts>): NeuralFacts => ({ name: 'Alice', receiver: undefined, cameraOff: false, pictures: undefined, ...over });

describe('the kiloface picture says what is happening (issue 15 items 6 and 7)', () => {
  it('names each step before the first face', () => {
    expect(describeNeural(facts({}))).toEqual({ shown: 'waiting', text: "waiting for Alice's kiloface stream…" });
    expect(describeNeural(facts({ receiver: { kind: 'download', files: 2, filesTotal: 6, bytes: 3_100_000, bytesTotal: 9_000_000 } })).text).toBe('downloading kiloface models 2/6 (3.1 of 9.0 MB)…');
    expect(describeNeural(facts({ receiver: { kind: 'download', files: 0, filesTotal: 6, bytes: 1_250_000, bytesTotal: undefined } })).text).toBe('downloading kiloface models 0/6 (1.3 MB so far)…');
    expect(describeNeural(facts({ receiver: { kind: 'compile' } })).text).toBe('compiling the kiloface decoder…');
    expect(describeNeural(facts({ receiver: { kind: 'waiting', reason: 'no-reference' } })).text).toBe("waiting for Alice's first reference picture…");
    expect(describeNeural(facts({ receiver: { kind: 'waiting', reason: 'no-frames' } })).text).toBe("waiting for Alice's first kiloface frames…");
  });

  it('no face is the camera\'s, before a reference and after; camera off wins over no face', () => {
    expect(describeNeural(facts({ receiver: { kind: 'waiting', reason: 'no-face' } }))).toEqual({ shown: 'no-face', text: "Alice's camera sees no face" });
    expect(describeNeural(facts({ receiver: { kind: 'no-face' } }))).toEqual({ shown: 'no-face', text: "Alice's camera sees no face" });
    expect(describeNeural(facts({ receiver: { kind: 'no-face' }, cameraOff: true }))).toEqual({ shown: 'camera-off', text: "Alice's camera is off" });
    expect(describeNeural(facts({ receiver: undefined, cameraOff: true })).shown).toBe('camera-off');
  });

  it('a decoder that lags is said to lag, bright, and only a stalled stream is "interrupted"', () => {
    expect(describeNeural(facts({ receiver: { kind: 'face' }, pictures: { drawn: 8, due: 25 } }))).toEqual({ shown: 'behind', text: 'decoder slower than the stream (8 of 25 pictures)' });
    expect(describeNeural(facts({ receiver: { kind: 'face' }, pictures: { drawn: 21, due: 25 } }))).toEqual({ shown: 'face', text: '' });
    // Too few pictures due in the period to judge (a still face, a short period).
    expect(describeNeural(facts({ receiver: { kind: 'face' }, pictures: { drawn: 1, due: 4 } })).shown).toBe('face');
    expect(describeNeural(facts({ receiver: { kind: 'stalled' }, pictures: { drawn: 0, due: 0 } }))).toEqual({ shown: 'stale', text: 'kiloface stream from Alice interrupted…' });
  });
});
