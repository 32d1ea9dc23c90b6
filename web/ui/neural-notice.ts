import type { ReceiverState, ReceiverStatus } from '../neural/protocol.ts';

// What a remote tile's kiloface picture says about itself: one function of what we know, so that
// each state has one wording (issue 15: say what is happening, never blame the stream for our
// decoder, and "camera off" is not "no face").

export interface NeuralFacts {
  /** Whose stream it is. */
  name: string;
  /** What their receiver worker does; undefined until their first packet started it. */
  receiver: ReceiverState | undefined;
  /** Their camera is off (their peer state): the tracker sees black frames, not a missing face. */
  cameraOff: boolean;
  /** The receiver's last status period. */
  pictures: Pick<ReceiverStatus['pictures'], 'drawn' | 'due'> | undefined;
}

/** 'waiting', 'no-face', 'camera-off' and 'stale' dim the picture; 'behind' keeps it bright. */
export type NeuralShown = 'waiting' | 'face' | 'behind' | 'no-face' | 'camera-off' | 'stale';

/** Drawn fewer than this share of the pictures due: the decoder is behind (a second's count). */
const BEHIND_SHARE = 0.8;
/** Below this many pictures due in a second there is too little to judge by. */
const MIN_DUE = 5;

const mb = (bytes: number): string => (bytes / 1e6).toFixed(1);

export function describeNeural(facts: NeuralFacts): { shown: NeuralShown; text: string } {
  const { name, receiver: state, pictures } = facts;
  if (facts.cameraOff) return { shown: 'camera-off', text: `${name}'s camera is off` };
  if (!state) return { shown: 'waiting', text: `waiting for ${name}'s kiloface stream…` };
  switch (state.kind) {
    case 'download': {
      const bytes = state.bytesTotal ? `${mb(state.bytes)} of ${mb(state.bytesTotal)} MB` : `${mb(state.bytes)} MB so far`;
      return { shown: 'waiting', text: `downloading kiloface models ${state.files}/${state.filesTotal} (${bytes})…` };
    }
    case 'compile':
      return { shown: 'waiting', text: 'compiling the kiloface decoder…' };
    case 'waiting':
      if (state.reason === 'no-face') return { shown: 'no-face', text: `${name}'s camera sees no face` };
      return { shown: 'waiting', text: state.reason === 'no-reference' ? `waiting for ${name}'s first reference picture…` : `waiting for ${name}'s first kiloface frames…` };
    case 'no-face':
      return { shown: 'no-face', text: `${name}'s camera sees no face` };
    case 'stalled':
      return { shown: 'stale', text: `kiloface stream from ${name} interrupted…` };
    case 'face':
      if (pictures && pictures.due >= MIN_DUE && pictures.drawn < BEHIND_SHARE * pictures.due) {
        return { shown: 'behind', text: `decoder slower than the stream (${pictures.drawn} of ${pictures.due} pictures)` };
      }
      return { shown: 'face', text: '' };
  }
}
