// Operating points of the live neural stream, picked from a target bitrate. What costs what, at
// 25 camera frames/s (measured on validation clips: codec/README.md, `npm run bench:encoder`):
//   geometry   ~68 bits/frame at quantiser 8 (~1.7 kbit/s at 25 fps)
//   headers    every datachannel message costs DATACHANNEL_WIRE_OVERHEAD (80, wire.ts) bytes on the wire:
//              at 5 messages/s that is 3.2 kbit/s, at 25/s 16 kbit/s: frames are bundled
//   references a 256x256 WebP face of 3-6 kB, sent at start, on request and when quality drops
// Bundling costs latency (a packet leaves when its last frame is coded): framesPerPacket x 40 ms.

import type { GuideLayer } from './guide-codec.ts';

export interface RateMode {
  /** Target wire bitrate, kbit/s, references included. */
  targetKbps: number;
  /** Code every n-th camera frame (1 = 25 fps, 2 = 12.5 fps); the receiver interpolates. */
  frameStride: number;
  framesPerPacket: number;
  /** Geometry quantiser 0-31 (step x 2^(q/4)). */
  quantizer: number;
  /** Reference picture quality for the browser's WebP encoder, 0-1. */
  referenceQuality: number;
  /** A new reference at least this often even when nothing asks (seconds). */
  refreshSeconds: number;
  /** References for quality or motion no closer together than this (seconds); requests wait 1 s at most. */
  minReferenceGapSeconds: number;
  /**
   * The guide layer (issue 17): a small picture of the crop, coded by a standard codec, inside the
   * bundles. Absent: geometry only. Needs frameStride 1 (a guide picture goes with a coded frame).
   */
  guide?: GuideLayer;
}

/**
 * What the guide modes share: every frame coded (a guide picture goes with a coded frame), 5 frames
 * a bundle, and a coarse reference (WebP 0.25): the guide carries the picture's low frequencies, so
 * WebP 0.7 bought only 0.04-0.12 dB for 65 % more reference bytes (docs/bench.md, 2026-12-08).
 */
const guided = { frameStride: 1, framesPerPacket: 5, quantizer: 8, referenceQuality: 0.25, refreshSeconds: 60, minReferenceGapSeconds: 12 } as const;

/**
 * From the cheapest up; rateModeFor picks the richest one that fits the target. The two lowest are
 * geometry only; above them each mode adds one of the guide variants decoder v2 was trained on
 * (models/train/data/guides.py VARIANTS, the only ones it knows), up to ~32 kbit/s on the wire:
 * guide payload + ~1.7 kbit/s geometry + 5 packets/s of headers (3.2 kbit/s) + ~0.5 kbit/s of
 * guide sections, references on top.
 */
export const RATE_MODES: readonly RateMode[] = [
  { targetKbps: 6, frameStride: 2, framesPerPacket: 5, quantizer: 10, referenceQuality: 0.5, refreshSeconds: 60, minReferenceGapSeconds: 20 },
  { targetKbps: 10, frameStride: 1, framesPerPacket: 5, quantizer: 8, referenceQuality: 0.6, refreshSeconds: 60, minReferenceGapSeconds: 12 },
  { targetKbps: 12, ...guided, guide: { codec: 'av1', side: 32, fps: 10, kbps: 3 } },
  { targetKbps: 16, ...guided, guide: { codec: 'av1', side: 48, fps: 10, kbps: 6 } },
  { targetKbps: 20, ...guided, guide: { codec: 'av1', side: 64, fps: 10, kbps: 12 } },
  { targetKbps: 32, ...guided, guide: { codec: 'av1', side: 64, fps: 12.5, kbps: 24 } },
];

export const DEFAULT_TARGET_KBPS = 10;

export function rateModeFor(targetKbps: number): RateMode {
  let mode = RATE_MODES[0]!;
  for (const m of RATE_MODES) if (m.targetKbps <= targetKbps) mode = m;
  return mode;
}
