import type { ModelRunner, ModelRunnerOptions, ModelRuntime, ModelSource, Tensor } from '../model-runner.ts';
import { LANDMARKS } from '../geometry/face-geometry.ts';
import { CROP_SIZE } from '../shipped.ts';

// The receiver's network (models/kiloface-v1): reference.onnx runs once per reference picture,
// frame.onnx once per frame; warp.onnx (optional) is the landmark warp alone, the evaluation's
// "warp only" baseline, which calls never run. Images are planar RGB in [0, 1] (1×3×256×256);
// landmarks are the 468 points' x, y in crop pixels (1×468×2).

export interface DecodedFrame {
  /** The refined picture (1×3×256×256, [0, 1]). */
  image: Float32Array;
}

export interface DecoderFiles {
  reference: ModelSource;
  frame: ModelSource;
  /** Only for evaluation (warpOnly). */
  warp?: ModelSource;
}

export interface ReferenceState {
  image: Tensor;
  landmarks: Tensor;
  feat: Tensor;
  mouthFeat: Tensor;
}

/** 468 xyz → the network's 1×468×2 (x, y). */
export function landmarksTensor(landmarks: ArrayLike<number>): Tensor {
  const data = new Float32Array(LANDMARKS * 2);
  for (let p = 0; p < LANDMARKS; p++) {
    data[p * 2] = landmarks[p * 3]!;
    data[p * 2 + 1] = landmarks[p * 3 + 1]!;
  }
  return { data, dims: [1, LANDMARKS, 2] };
}

/** Interleaved RGB(A) bytes of a 256×256 picture → planar [0, 1] floats. */
export function imageTensor(rgb: ArrayLike<number>, channels: 3 | 4 = 3): Tensor {
  const n = CROP_SIZE * CROP_SIZE;
  if (rgb.length !== n * channels) throw new RangeError(`expected a ${CROP_SIZE}x${CROP_SIZE} picture`);
  const data = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) data[c * n + i] = rgb[i * channels + c]! / 255;
  return { data, dims: [1, 3, CROP_SIZE, CROP_SIZE] };
}

export class NeuralDecoder {
  private reference: ReferenceState | undefined;

  constructor(
    private readonly referenceRunner: ModelRunner,
    private readonly frameRunner: ModelRunner,
    private readonly warpRunner?: ModelRunner,
  ) {}

  static async load(runtime: ModelRuntime, files: DecoderFiles, options: ModelRunnerOptions = {}): Promise<NeuralDecoder> {
    const loaded: ModelRunner[] = [];
    try {
      for (const source of [files.reference, files.frame, files.warp]) if (source !== undefined) loaded.push(await runtime.load(source, options));
    } catch (error) {
      await Promise.all(loaded.map((runner) => runner.close()));
      throw error;
    }
    return new NeuralDecoder(loaded[0]!, loaded[1]!, loaded[2]);
  }

  /** The execution provider the per-frame network runs on ('cpu', 'wasm', 'webgpu', …). */
  get backend(): string {
    return this.frameRunner.backend;
  }

  get hasReference(): boolean {
    return this.reference !== undefined;
  }

  /** Runs the once-per-reference part and keeps its outputs for every later frame. */
  async setReference(image: Tensor, landmarks: ArrayLike<number>): Promise<void> {
    const lm = landmarksTensor(landmarks);
    const out = await this.referenceRunner.run({ ref_image: image, ref_landmarks: lm });
    if (!out.ref_feat || !out.ref_mouth_feat) throw new Error('reference.onnx did not return ref_feat and ref_mouth_feat');
    this.reference = { image, landmarks: lm, feat: out.ref_feat, mouthFeat: out.ref_mouth_feat };
  }

  /** Rebuilds one frame from its landmarks (crop pixels). */
  async decode(landmarks: ArrayLike<number>): Promise<DecodedFrame> {
    const ref = this.reference;
    if (!ref) throw new Error('setReference must come first');
    const out = await this.frameRunner.run({
      ref_image: ref.image,
      ref_feat: ref.feat,
      ref_mouth_feat: ref.mouthFeat,
      ref_landmarks: ref.landmarks,
      tgt_landmarks: landmarksTensor(landmarks),
    });
    if (!out.image) throw new Error('frame.onnx did not return image');
    return { image: out.image.data };
  }

  /** The reference warped by the landmark motion alone, no learned part (the "warp only" decoder). */
  async warpOnly(landmarks: ArrayLike<number>): Promise<Float32Array> {
    const ref = this.reference;
    if (!ref) throw new Error('setReference must come first');
    if (!this.warpRunner) throw new Error('warpOnly needs warp.onnx (NeuralDecoder.load with files.warp)');
    const out = await this.warpRunner.run({ ref_image: ref.image, ref_landmarks: ref.landmarks, tgt_landmarks: landmarksTensor(landmarks) });
    if (!out.warped) throw new Error('warp.onnx did not return warped');
    return out.warped.data;
  }

  async close(): Promise<void> {
    await Promise.all([this.referenceRunner, this.frameRunner, this.warpRunner].map((runner) => runner?.close()));
  }
}
