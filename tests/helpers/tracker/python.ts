// Runs models/mediapipe/landmarks.py (through landmarks_raw.py) on the same RGB frames the
// TypeScript tracker sees, when a Python with its packages is at hand. Not guaranteed on a
// clean clone: callers skip with a message when findPython() returns null.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import type { ImageLike } from '../../../codec/tracker/image.ts';

const HELPER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'landmarks_raw.py');

/**
 * $MEDIAPIPE_PYTHON, the venv models/mediapipe/README.md builds (/tmp/mpvenv), the repository's
 * .venv (.ci/run installs tests/python/requirements.txt there), or python3, if it has the
 * packages; MEDIAPIPE_PYTHON=none turns the Python comparisons off.
 */
export function findPython(): string | null {
  if (process.env.MEDIAPIPE_PYTHON === 'none') return null;
  const candidates = [process.env.MEDIAPIPE_PYTHON, '/tmp/mpvenv/bin/python', '.venv/bin/python', 'python3'].filter((p): p is string => !!p);
  for (const python of candidates) {
    if (python.includes('/') && !existsSync(python)) continue;
    const probe = spawnSync(python, ['-c', 'import numpy, cv2, onnxruntime'], { stdio: 'ignore' });
    if (probe.status === 0) return python;
  }
  return null;
}

export interface PythonLandmarks {
  /** [frames][468 * 3], NaN where no face. */
  landmarks: Float32Array[];
  detectorRuns: number;
  presence: number[];
}

export function pythonLandmarks(python: string, frames: readonly ImageLike[]): PythonLandmarks {
  const first = frames[0];
  if (!first) return { landmarks: [], detectorRuns: 0, presence: [] };
  const input = Buffer.concat(frames.map((f) => {
    if (f.channels !== 3) throw new Error('RGB frames only');
    return Buffer.from(f.data.buffer, f.data.byteOffset, f.data.length);
  }));
  const run = spawnSync(python, [HELPER, String(first.width), String(first.height)], { input, maxBuffer: frames.length * 468 * 12 + 1024 });
  if (run.status !== 0) throw new Error(`landmarks_raw.py failed: ${run.stderr.toString()}`);
  const all = new Float32Array(new Uint8Array(run.stdout).buffer);
  const stats = JSON.parse(run.stderr.toString().trim().split('\n').pop() ?? '{}') as { detector_runs: number; presence: number[] };
  const landmarks = frames.map((_, i) => all.slice(i * 468 * 3, (i + 1) * 468 * 3));
  return { landmarks, detectorRuns: stats.detector_runs, presence: stats.presence };
}
