import { sampleAffine } from './affine-sampler.ts';
import { generateAnchors, type Anchors } from './anchors.ts';
import { decodeDetections, weightedNonMaxSuppression, type Detection, type DetectionDecodeOptions } from './detection.ts';
import { checkImage, type ImageLike } from './image.ts';
import type { ModelRunner, Tensor } from '../model-runner.ts';
import { DETECTOR_ANCHORS, DETECTOR_DECODE, DETECTOR_INPUT_SIZE, DETECTOR_NORMALISATION, INPUT_NAME } from './mediapipe-face.ts';
import { roiCropMap, roiToImage, type Roi, type SamplingGrid } from './roi.ts';

// MediaPipe's short-range face detector (BlazeFace) on a whole frame: letterbox to 128x128
// (aspect kept, black border), run the model, decode the 896 anchors, weighted NMS, and map the
// faces back to image pixels.

export interface FaceDetectorOptions {
  /** Detections with sigmoid score below this are dropped (MediaPipe: 0.5). */
  minScore?: number;
  /** How the letterbox samples the frame (default 'corner', as landmarks.py). */
  samplingGrid?: SamplingGrid;
}

export function outputOf(outputs: Record<string, Tensor>, name: string, length: number): Float32Array {
  const t = outputs[name];
  if (!t) throw new Error(`model gave no output '${name}' (got ${Object.keys(outputs).join(', ')})`);
  if (t.data.length !== length) throw new Error(`model output '${name}' has ${t.data.length} values, expected ${length}`);
  return t.data;
}

/** The square (whole frame, centred, side max(W, H)) that MediaPipe letterboxes to the detector input. */
export function letterboxRoi(width: number, height: number): Roi {
  return { cx: width / 2, cy: height / 2, size: Math.max(width, height), angle: 0 };
}

export class FaceDetector {
  readonly anchors: Anchors = generateAnchors(DETECTOR_ANCHORS);
  private readonly decode: DetectionDecodeOptions;
  private readonly input = new Float32Array(DETECTOR_INPUT_SIZE * DETECTOR_INPUT_SIZE * 3);
  private readonly grid: SamplingGrid;

  constructor(
    private readonly runner: ModelRunner,
    options: FaceDetectorOptions = {},
  ) {
    this.decode = { ...DETECTOR_DECODE, minScoreThresh: options.minScore ?? DETECTOR_DECODE.minScoreThresh };
    this.grid = options.samplingGrid ?? 'corner';
  }

  /** The detector's input tensor for a frame (exposed for tests and tools). */
  prepareInput(image: ImageLike): Float32Array {
    checkImage(image);
    const map = roiCropMap(letterboxRoi(image.width, image.height), DETECTOR_INPUT_SIZE, this.grid);
    return sampleAffine(image, map, DETECTOR_INPUT_SIZE, DETECTOR_INPUT_SIZE, { border: 'constant', ...DETECTOR_NORMALISATION }, this.input);
  }

  /** Faces in image pixels, best score first. */
  async detect(image: ImageLike): Promise<Detection[]> {
    const input = this.prepareInput(image);
    const outputs = await this.runner.run({ [INPUT_NAME]: { data: input, dims: [1, DETECTOR_INPUT_SIZE, DETECTOR_INPUT_SIZE, 3] } });
    const n = this.anchors.count;
    const regressors = outputOf(outputs, 'regressors', n * this.decode.numCoords);
    const logits = outputOf(outputs, 'classificators', n);
    const faces = weightedNonMaxSuppression(decodeDetections(regressors, logits, this.anchors, this.decode), this.decode.minSuppressionThreshold);
    const box = letterboxRoi(image.width, image.height);
    return faces.map((d) => toImage(d, box));
  }
}

/** Maps a detection from the letterboxed input's [0, 1] frame to image pixels. */
function toImage(d: Detection, letterbox: Roi): Detection {
  const [xMin, yMin] = roiToImage(letterbox, d.xMin, d.yMin);
  const [xMax, yMax] = roiToImage(letterbox, d.xMax, d.yMax);
  const keypoints = new Float64Array(d.keypoints.length);
  for (let k = 0; k < keypoints.length; k += 2) {
    const [x, y] = roiToImage(letterbox, d.keypoints[k]!, d.keypoints[k + 1]!);
    keypoints[k] = x;
    keypoints[k + 1] = y;
  }
  return { xMin, yMin, xMax, yMax, keypoints, score: d.score };
}
