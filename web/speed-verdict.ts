import { CAMERA_FPS } from '../codec/shipped.ts';

const perSecond = (ms: number): string => {
  const n = 1000 / ms;
  return n >= 10 ? String(Math.round(n)) : n.toFixed(1);
};

/**
 * /speed's verdict in words, from the measured medians: how many faces a second this device
 * rebuilds (decoder-frame, once per shown frame of each person) and so how many people it can
 * show at the camera's frame rate, plus what tracking our own face costs (landmarks, each frame).
 * The page measures one network at a time with the threads it was given; a call runs the
 * tracker and each person's decoder in workers of their own, side by side.
 */
export function speedVerdict(decodeMs: number | undefined, trackMs?: number): string {
  const parts: string[] = [];
  if (decodeMs !== undefined && decodeMs > 0) {
    const people = Math.floor(1000 / decodeMs / CAMERA_FPS);
    const rate = `This device rebuilds ~${perSecond(decodeMs)} faces a second`;
    parts.push(
      people >= 1
        ? `${rate}: enough for ${people} ${people === 1 ? 'person' : 'people'} at ${CAMERA_FPS} fps.`
        : `${rate}: not enough for one person at ${CAMERA_FPS} fps, so kiloface pictures will be jerky (~${perSecond(decodeMs)} fps); the standard video and the sound are not affected.`,
    );
  } else parts.push('The decoder was not measured, so there is no verdict on receiving kiloface.');
  if (trackMs !== undefined && trackMs > 0) {
    const share = Math.round((trackMs * CAMERA_FPS) / 10);
    parts.push(`Tracking your own face takes ${trackMs.toFixed(0)} ms a frame: ${share}% of the time between frames at ${CAMERA_FPS} fps${share > 100 ? ', more than there is: your face will be tracked at a lower rate' : ''}.`);
  }
  return parts.join(' ');
}
