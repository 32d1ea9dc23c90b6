import { sampleAffine } from './affine-sampler.ts';
import { sigmoid } from './detection.ts';
import { outputOf } from './face-detector.ts';
import { checkImage, type ImageLike } from './image.ts';
import type { ModelRunner } from '../model-runner.ts';
import { INPUT_NAME, LANDMARK_COUNT, LANDMARK_INPUT_SIZE, LANDMARK_NORMALISATION } from './mediapipe-face.ts';
import { roiCropMap, type Roi, type SamplingGrid } from './roi.ts';

// MediaPipe's face mesh network on one ROI: warp the rotated square to 192x192 (bilinear,
// replicated border), run the model, map the 468 points back to image pixels.

export interface RoiLandmarks {
  /** 468 * 3 values: x, y in image pixels; z in pixels at the same scale, negative towards the camera. */
  landmarks: Float32Array;
  /** sigmoid(face_flag): MediaPipe keeps the face when >= 0.5. */
  presence: number;
}

export class FaceLandmarker {
  private readonly input = new Float32Array(LANDMARK_INPUT_SIZE * LANDMARK_INPUT_SIZE * 3);

  /** `grid`: how the crop samples the ROI (default 'corner', as landmarks.py; see SamplingGrid). */
  constructor(
    private readonly runner: ModelRunner,
    private readonly grid: SamplingGrid = 'corner',
  ) {}

  /** The model's input tensor for an ROI (exposed for tests and tools). */
  prepareInput(image: ImageLike, roi: Roi): Float32Array {
    checkImage(image);
    const map = roiCropMap(roi, LANDMARK_INPUT_SIZE, this.grid);
    return sampleAffine(image, map, LANDMARK_INPUT_SIZE, LANDMARK_INPUT_SIZE, { border: 'replicate', ...LANDMARK_NORMALISATION }, this.input);
  }

  async landmarks(image: ImageLike, roi: Roi): Promise<RoiLandmarks> {
    const input = this.prepareInput(image, roi);
    const outputs = await this.runner.run({ [INPUT_NAME]: { data: input, dims: [1, LANDMARK_INPUT_SIZE, LANDMARK_INPUT_SIZE, 3] } });
    const raw = outputOf(outputs, 'landmarks', LANDMARK_COUNT * 3);
    const flag = outputOf(outputs, 'face_flag', 1)[0]!;
    return { landmarks: projectLandmarks(raw, roi), presence: sigmoid(flag) };
  }
}

/** Crop-pixel landmarks (0..192) -> image pixels through the ROI (MediaPipe's LandmarkProjection). */
export function projectLandmarks(raw: ArrayLike<number>, roi: Roi, cropSize = LANDMARK_INPUT_SIZE): Float32Array {
  const out = new Float32Array(LANDMARK_COUNT * 3);
  const c = Math.cos(roi.angle);
  const s = Math.sin(roi.angle);
  const k = roi.size / cropSize;
  for (let i = 0; i < LANDMARK_COUNT; i++) {
    const a = raw[3 * i]! / cropSize - 0.5;
    const b = raw[3 * i + 1]! / cropSize - 0.5;
    out[3 * i] = roi.cx + roi.size * (c * a - s * b);
    out[3 * i + 1] = roi.cy + roi.size * (s * a + c * b);
    out[3 * i + 2] = raw[3 * i + 2]! * k;
  }
  return out;
}
