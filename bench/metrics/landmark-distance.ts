// AKD (average keypoint distance): mean pixel distance between facial landmarks found on the
// source frame and on the decoded frame. It needs the project's landmark model, which is not
// in the repository yet. This is the hook it plugs into; until then the bench reports AKD as
// "not available" and never estimates it another way.

/** Landmarks for one 256x256 luma+chroma frame, as [x0, y0, x1, y1, ...] in pixels. */
export interface LandmarkModel {
  readonly name: string;
  detect(frameYuv420: Uint8Array, width: number, height: number): Promise<Float32Array>;
}

export type AkdResult = { available: true; model: string; meanPx: number } | { available: false; reason: string };

export const AKD_NOT_AVAILABLE: AkdResult = {
  available: false,
  reason: 'landmark model not in the project yet (AKD needs it; no substitute is used)',
};

/** Mean Euclidean distance between corresponding landmarks. */
export function landmarkDistance(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length || a.length % 2 !== 0) throw new Error('landmark sets differ in size');
  let sum = 0;
  for (let i = 0; i < a.length; i += 2) sum += Math.hypot(a[i]! - b[i]!, a[i + 1]! - b[i + 1]!);
  return sum / (a.length / 2);
}

/** AKD over a clip's frames with a model; `null` model => not available. */
export async function averageKeypointDistance(
  model: LandmarkModel | null,
  source: readonly Uint8Array[],
  decoded: readonly Uint8Array[],
  width: number,
  height: number,
): Promise<AkdResult> {
  if (!model) return AKD_NOT_AVAILABLE;
  let sum = 0;
  for (let i = 0; i < source.length; i++) {
    const a = await model.detect(source[i]!, width, height);
    const b = await model.detect(decoded[i]!, width, height);
    sum += landmarkDistance(a, b);
  }
  return { available: true, model: model.name, meanPx: sum / source.length };
}
