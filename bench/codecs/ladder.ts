// The adaptive anchor: under a low bitrate a WebRTC sender (libwebrtc) scales the picture and
// the frame rate down instead of starving a full-size picture. A ladder rung is one such
// (size, frame rate); the bench codes the 256x256 25 fps crop at each rung and shows the result
// the way a receiver does: scaled back to 256x256 bicubically, on the 25 fps grid, each source
// frame showing the latest decoded picture. Metrics then compare with the original frames.
import { CROP_SIZE } from '../../codec/shipped.ts';
import { BENCH_FPS } from '../prepared-clip.ts';
import type { OperatingPoint } from './codec.ts';

export interface LadderRung {
  /** Side of the coded square picture, px. */
  size: number;
  /** Coded pictures per second. */
  fps: number;
}

/** The full-size rung: the bench's ordinary points (no filters). */
export const FULL_RUNG: LadderRung = { size: CROP_SIZE, fps: BENCH_FPS };

// Quick: 3 sizes x 2 rates (6 rungs); full: 3 sizes x 3 rates. The ladder stops at 128 px
// because the full-size points (256 px, 25 fps) are every codec's own sweep.
export const QUICK_LADDER: readonly LadderRung[] = [64, 96, 128].flatMap((size) => [10, 25].map((fps) => ({ size, fps })));
export const FULL_LADDER: readonly LadderRung[] = [64, 96, 128].flatMap((size) => [10, 15, 25].map((fps) => ({ size, fps })));
/** Ladder rungs are coded only at the run's targets up to this rate: above it full size wins anyway. */
export const LADDER_MAX_KBPS = 40;

export const isFullRung = (r: LadderRung): boolean => r.size === CROP_SIZE && r.fps === BENCH_FPS;

/** The rung an operating point is coded at (full size when its params name none). */
export function rungOf(point: OperatingPoint): LadderRung {
  const size = point.params.size;
  const fps = point.params.fps;
  return { size: typeof size === 'number' ? size : CROP_SIZE, fps: typeof fps === 'number' ? fps : BENCH_FPS };
}

export const rungName = (r: LadderRung): string => `${r.size}px ${r.fps}fps`;

/** A standard codec's sweep: its full-size targets, then each ladder rung at the targets up to LADDER_MAX_KBPS. */
export function ladderPoints(targetsKbps: readonly number[], ladder: readonly LadderRung[]): OperatingPoint[] {
  const full = targetsKbps.map((kbps) => ({ id: `${kbps}k`, label: `${kbps} kbit/s target`, targetKbps: kbps, params: { kbps } }));
  const low = targetsKbps.filter((k) => k <= LADDER_MAX_KBPS);
  const rungs = ladder.filter((r) => !isFullRung(r)).flatMap((rung) =>
    low.map((kbps) => ({
      id: `${rung.size}px${rung.fps}-${kbps}k`,
      label: `${rungName(rung)}, ${kbps} kbit/s target`,
      targetKbps: kbps,
      params: { kbps, size: rung.size, fps: rung.fps },
    })),
  );
  return [...full, ...rungs];
}

/**
 * Sender side: the camera picture the sender takes at each of its capture slots and scales down.
 * `round=up` makes the fps filter pick, for the slot at time j/fps, the latest 25 fps source
 * frame at or before it (checked in tests/integration/bench/ladder.test.ts); `area` is a box
 * filter like libyuv's downscaler. Null for the full rung.
 */
export function encodeFilter(rung: LadderRung): string | null {
  if (isFullRung(rung)) return null;
  const parts: string[] = [];
  if (rung.fps !== BENCH_FPS) parts.push(`fps=${rung.fps}:round=up`);
  if (rung.size !== CROP_SIZE) parts.push(`scale=${rung.size}:${rung.size}:flags=area`);
  return parts.join(',');
}

/** Receiver side: the decoded picture scaled back to the crop size, as the call's canvas shows it. */
export function decodeFilter(rung: LadderRung): string | null {
  return rung.size === CROP_SIZE ? null : `scale=${CROP_SIZE}:${CROP_SIZE}:flags=bicubic`;
}

/**
 * Index of the decoded picture a viewer sees at source frame `frame` (25 fps grid): picture j
 * carries time j / fps and shows from the first source frame at or after that time until the
 * next one arrives. The epsilon keeps exact ratios (15 fps: j = 3 at frame 5) from rounding down.
 */
export function shownPicture(frame: number, fps: number): number {
  return Math.floor((frame * fps) / BENCH_FPS + 1e-9);
}

/**
 * Constant 25 fps playback of pictures decoded at `fps`: one picture per source frame. A stream
 * that ends early (an encoder dropped its last pictures) keeps showing its last picture.
 */
export function playbackAt25<T>(pictures: readonly T[], sourceFrames: number, fps: number): T[] {
  if (pictures.length === 0) throw new Error('no decoded pictures to show');
  return Array.from({ length: sourceFrames }, (_, i) => pictures[Math.min(shownPicture(i, fps), pictures.length - 1)]!);
}

/** The source frame a sender at `fps` took picture `picture` from (the latest at or before its time). */
export function sourceFrameOf(picture: number, fps: number): number {
  return Math.floor((picture * BENCH_FPS) / fps + 1e-9);
}

/** How many pictures a sender at `fps` takes from `sourceFrames` frames at 25 fps (the slots up to the last frame). */
export function picturesTaken(sourceFrames: number, fps: number): number {
  return sourceFrames === 0 ? 0 : shownPicture(sourceFrames - 1, fps) + 1;
}
