// AKD (average keypoint distance): mean pixel distance between facial landmarks found on the
// source frame and on the decoded frame, with the project's own landmark model (the codec's
// tracker: MediaPipe face detector + 468-point face mesh, bench/face-models.ts). Does the
// expression survive the codec?

/**
 * Landmarks of a sequence of 256x256 yuv420p frames, tracked in order: per frame
 * [x0, y0, x1, y1, ...] in pixels, or null where the model finds no face.
 */
export interface LandmarkModel {
  readonly name: string;
  landmarks(framesYuv420: readonly Uint8Array[], width: number, height: number): Promise<(Float32Array | null)[]>;
}

export type AkdResult =
  | {
      available: true;
      model: string;
      /** Mean over the frames where both the source and the decoded frame have a face; null if none. */
      meanPx: number | null;
      /** Frames with a face in the source. */
      sourceFaces: number;
      /** Of those, frames where the decoded picture has no face the model can find. */
      decodedMissing: number;
    }
  | { available: false; reason: string };

export const AKD_NOT_AVAILABLE: AkdResult = {
  available: false,
  reason: 'no landmark model passed to the metric step (the face models in models/mediapipe are missing)',
};

/** Mean Euclidean distance between corresponding landmarks. */
export function landmarkDistance(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length || a.length % 2 !== 0) throw new Error('landmark sets differ in size');
  let sum = 0;
  for (let i = 0; i < a.length; i += 2) sum += Math.hypot(a[i]! - b[i]!, a[i + 1]! - b[i + 1]!);
  return sum / (a.length / 2);
}

/**
 * AKD of a clip: the source's landmarks (computed once per clip) against the decoded frames'.
 * Frames where the source has no face do not count; decoded frames where the face is lost are
 * counted in `decodedMissing` (and left out of the mean: a distance to nothing is undefined).
 */
export async function averageKeypointDistance(
  model: LandmarkModel | null,
  sourceLandmarks: readonly (Float32Array | null)[],
  decoded: readonly Uint8Array[],
  width: number,
  height: number,
): Promise<AkdResult> {
  if (!model) return AKD_NOT_AVAILABLE;
  const found = await model.landmarks(decoded, width, height);
  let sum = 0;
  let n = 0;
  let sourceFaces = 0;
  let decodedMissing = 0;
  for (let i = 0; i < sourceLandmarks.length; i++) {
    const a = sourceLandmarks[i];
    if (!a) continue;
    sourceFaces++;
    const b = found[i];
    if (!b) {
      decodedMissing++;
      continue;
    }
    sum += landmarkDistance(a, b);
    n++;
  }
  return { available: true, model: model.name, meanPx: n > 0 ? sum / n : null, sourceFaces, decodedMissing };
}
