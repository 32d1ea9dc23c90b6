// The TypeScript tracker against the Python reference (models/mediapipe/landmarks.py), raw
// landmarks (no smoothing): on synthetic frames when a Python with numpy + opencv +
// onnxruntime is found ($MEDIAPIPE_PYTHON, /tmp/mpvenv, python3), and on the first 50 frames of
// two shared clips when ../shared/data is present (then against landmarks.py computed on the
// fly, or, without Python, against a few aggregate numbers landmarks.py gave: no frames or
// landmarks of the clips are stored).
import { existsSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect } from 'vitest';
import { itNeeds } from '../../helpers/needs.ts';

import { DEFAULT_SMOOTHING, type FaceTracker } from '../../../codec/tracker/face-tracker.ts';
import type { ImageLike } from '../../../codec/tracker/image.ts';
import { centroid, secondDifferenceJitter, smoothSequence } from '../../helpers/tracker/metrics.ts';
import { loadTracker } from '../../../codec/runners/shipped-node.ts';
import { findPython, pythonLandmarks } from '../../helpers/tracker/python.ts';
import { drawSyntheticFace } from '../../helpers/tracker/synthetic-face.ts';
import { clipPath, DATA_DIR, decodeFrames } from '../../helpers/tracker/video.ts';

const python = findPython();
const FRAMES = 50;

/**
 * What landmarks.py gave on the first 50 frames (decoded by ffmpeg to rgb24 as decodeFrames
 * does; `python tests/helpers/tracker/landmarks_raw.py W H`), 2026-11-26: aggregates only.
 */
const CLIPS = [
  {
    file: 'FuxiVirtualHuman_styletalk__samples_source_video_video_Obama_clip3.mp4',
    width: 256, height: 256, fps: 30,
    reference: { framesWithFace: 50, detectorRuns: 1, meanCentroid: [153.477, 123.207], meanEyeDistance: 78.931 },
  },
  {
    file: 'polimi-ispl_icpr2020dfdc__test_data_ffpp_original_sequences_youtube_c23_videos_519.mp4',
    width: 640, height: 480, fps: 25,
    reference: { framesWithFace: 50, detectorRuns: 1, meanCentroid: [412.661, 143.202], meanEyeDistance: 48.795 },
  },
] as const;

interface Comparison {
  meanPx: number;
  maxPx: number;
  stateMismatches: number;
}

/** Per-point 2-D distance between our raw landmarks and the reference's, over frames where both found a face. */
function compare(ours: (Float32Array | null)[], theirs: Float32Array[]): Comparison {
  let sum = 0;
  let n = 0;
  let max = 0;
  let stateMismatches = 0;
  ours.forEach((a, i) => {
    const b = theirs[i]!;
    const bFace = Number.isFinite(b[0]!);
    if (!a || !bFace) {
      if (!!a !== bFace) stateMismatches++;
      return;
    }
    for (let k = 0; k < 468; k++) {
      const d = Math.hypot(a[3 * k]! - b[3 * k]!, a[3 * k + 1]! - b[3 * k + 1]!);
      sum += d;
      n++;
      if (d > max) max = d;
    }
  });
  return { meanPx: sum / Math.max(n, 1), maxPx: max, stateMismatches };
}

async function runOurs(tracker: FaceTracker, frames: readonly ImageLike[]): Promise<(Float32Array | null)[]> {
  tracker.reset();
  const out: (Float32Array | null)[] = [];
  for (const f of frames) {
    const r = await tracker.track(f);
    out.push(r.state === 'face' ? r.rawLandmarks : null);
  }
  return out;
}

describe('tracker vs models/mediapipe/landmarks.py', () => {
  let tracker: FaceTracker;
  beforeAll(async () => {
    tracker = await loadTracker({ smoothing: false });
  });
  afterAll(async () => {
    await tracker?.close();
  });

  const noPython = python ? null : 'no Python with numpy, cv2, onnxruntime (set MEDIAPIPE_PYTHON)';
  itNeeds(noPython)('synthetic moving face: same landmarks (mean < 0.1 px, max < 1 px)' + (noPython ? ` [skipped: ${noPython}]` : ''), async () => {
    const frames = Array.from({ length: 20 }, (_, i) => drawSyntheticFace({ width: 256, height: 256, cx: 100 + 2.3 * i, cy: 130 - i, size: 150, noise: 2, seed: i + 1 }));
    const ref = pythonLandmarks(python!, frames);
    const ours = await runOurs(tracker, frames);
    const c = compare(ours, ref.landmarks);
    expect(c.stateMismatches).toBe(0);
    expect(ours.every((o) => o !== null)).toBe(true);
    expect(c.meanPx).toBeLessThan(0.1); // measured 0.043
    expect(c.maxPx).toBeLessThan(1); // measured 0.27
    expect(ref.detectorRuns).toBe(1);
  });

  const haveData = existsSync(DATA_DIR) && CLIPS.every((c) => existsSync(clipPath(c.file)));
  for (const clip of CLIPS) {
    const name = `${clip.width}x${clip.height} clip ${clip.file}: first ${FRAMES} frames`;
    const noData = haveData ? null : `no ${DATA_DIR}/clips (set KILOFACE_DATA)`;
    // Decoding 50 frames with ffmpeg and tracking them takes longer than vitest's default 5 s on a loaded machine.
    itNeeds(noData)(noData ? `${name} [skipped: ${noData}]` : name, { timeout: 60_000 }, async () => {
      const frames = decodeFrames(clipPath(clip.file), clip.width, clip.height, FRAMES);
      expect(frames).toHaveLength(FRAMES);
      const before = tracker.stats.detectorRuns;
      const ours = await runOurs(tracker, frames);
      const faces = ours.filter((o): o is Float32Array => o !== null);
      expect(faces).toHaveLength(clip.reference.framesWithFace);
      expect(tracker.stats.detectorRuns - before).toBe(clip.reference.detectorRuns);

      // Aggregates (always): mean centroid and mean outer-eye-corner distance, px.
      const meanCentroid = [0, 1].map((c) => faces.reduce((s, f) => s + centroid(f)[c]!, 0) / faces.length);
      const eye = faces.reduce((s, f) => s + Math.hypot(f[3 * 33]! - f[3 * 263]!, f[3 * 33 + 1]! - f[3 * 263 + 1]!), 0) / faces.length;
      expect(meanCentroid[0]).toBeCloseTo(clip.reference.meanCentroid[0], 1);
      expect(meanCentroid[1]).toBeCloseTo(clip.reference.meanCentroid[1], 1);
      expect(eye).toBeCloseTo(clip.reference.meanEyeDistance, 1);

      // Point by point, when the Python reference can run here.
      if (python) {
        const ref = pythonLandmarks(python, frames);
        const c = compare(ours, ref.landmarks);
        expect(c.stateMismatches).toBe(0);
        expect(c.meanPx).toBeLessThan(0.05); // measured 0.013 (256x256), 0.006 (640x480)
        expect(c.maxPx).toBeLessThan(0.5); // measured 0.12, 0.04
      } else {
        console.info(`${clip.file}: point-by-point comparison skipped (no Python with numpy, cv2, onnxruntime); aggregates checked`);
      }

      // The tuned smoothing calms the frame-to-frame wobble of a real face.
      const seq = { frames: faces, times: faces.map((_, i) => i / clip.fps) };
      expect(secondDifferenceJitter(smoothSequence(seq, DEFAULT_SMOOTHING))).toBeLessThan(secondDifferenceJitter(faces));
    });
  }
});
