// The bench's face tracking (onnxruntime-node, models loaded by codec/runners/shipped-node.ts):
// clip frames to the tracker's input, a pool of trackers, landmarks of whole sequences. Shared by
// the tracker crop rule, the kiloface codec and the AKD metric, so all three see faces the same way.
import { loadTracker } from '../codec/runners/shipped-node.ts';
import type { FaceTracker, FaceTrackerOptions } from '../codec/tracker/face-tracker.ts';
import type { LandmarkModel } from './metrics/landmark-distance.ts';
import { i420ToRgb } from '../codec/yuv420.ts';
import { FRAME_SLOT_MS } from '../codec/shipped.ts';

/** Keeps a few trackers for reuse; each sequence gets one to itself, reset first. */
export class TrackerPool {
  private readonly idle: FaceTracker[] = [];
  private readonly all: FaceTracker[] = [];
  constructor(private readonly options: FaceTrackerOptions = {}) {}

  async use<T>(work: (tracker: FaceTracker) => Promise<T>): Promise<T> {
    let tracker = this.idle.pop();
    if (!tracker) {
      tracker = await loadTracker(this.options);
      this.all.push(tracker);
    }
    tracker.reset();
    try {
      return await work(tracker);
    } finally {
      this.idle.push(tracker);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((t) => t.close()));
    this.all.length = 0;
    this.idle.length = 0;
  }
}

/**
 * Landmarks of every frame of a sequence, tracked in order as the codec's sender tracks them
 * (detector on the first frame and after a loss, then the ROI follows the landmarks): 468 xyz
 * in pixels of the frame, or null where no face was found. `every` > 1: the tracker's pace on a
 * busy device in a call (web/neural/tracking-pace.ts): while it follows a face it tracks only
 * every n-th frame; the frames it leaves out are undefined.
 */
export async function trackYuvSequence(
  pool: TrackerPool,
  frames: readonly Uint8Array[],
  width: number,
  height: number,
  onTracked?: (index: number) => void,
  every = 1,
): Promise<(Float32Array | null | undefined)[]> {
  return pool.use(async (tracker) => {
    const out: (Float32Array | null | undefined)[] = [];
    let face = false;
    for (const [index, frame] of frames.entries()) {
      if (face && index % every !== 0) out.push(undefined);
      else {
        const r = await tracker.track({ data: i420ToRgb(frame, width, height), width, height, channels: 3 }, index * FRAME_SLOT_MS);
        face = r.state === 'face';
        out.push(r.state === 'face' ? r.landmarks : null);
      }
      onTracked?.(index);
    }
    return out;
  });
}

/** 468 xyz -> 468 xy. */
export function landmarksXy(landmarks: Float32Array): Float32Array {
  const out = new Float32Array((landmarks.length / 3) * 2);
  for (let p = 0; p < landmarks.length / 3; p++) {
    out[p * 2] = landmarks[p * 3]!;
    out[p * 2 + 1] = landmarks[p * 3 + 1]!;
  }
  return out;
}

/**
 * The AKD landmark model: the codec's tracker run over the frames in order, raw landmarks (no
 * One Euro smoothing, which would lag behind the picture being measured).
 */
export class TrackerLandmarkModel implements LandmarkModel {
  readonly name = 'MediaPipe face mesh through the codec tracker (codec/tracker, onnxruntime-node, raw landmarks, 468 points, x y in 256x256 crop pixels)';
  private readonly pool = new TrackerPool({ smoothing: false });

  async landmarks(frames: readonly Uint8Array[], width: number, height: number): Promise<(Float32Array | null)[]> {
    return (await trackYuvSequence(this.pool, frames, width, height)).map((l) => (l ? landmarksXy(l) : null));
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
