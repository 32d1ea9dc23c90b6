import type { ModelRunner, ModelRunnerOptions, ModelRuntime, ModelSource, Tensor } from '../model-runner.ts';
import { LANDMARKS } from '../geometry/face-geometry.ts';
import { CROP_SIZE } from '../shipped.ts';
import { GUIDE_INPUT_SIDE } from '../stream/guide-codec.ts';

// The receiver's network (models/kiloface-v2; v1 still loads): reference.onnx runs once per
// reference picture, frame.onnx once per frame; warp.onnx (optional) is the landmark warp alone,
// the evaluation's "warp only" baseline, which calls never run. Images are planar RGB in [0, 1]
// (1×3×256×256); landmarks are the 468 points' x, y in crop pixels (1×468×2).
//
// Decoder v2's frame.onnx takes the guide layer too (issue 17): `guide` 1×3×64×64 (the decoded
// guide picture scaled to 64, RGB u8 / 255), `guide_landmarks` (the landmarks of the frame the
// guide picture was taken from: the network warps a stale guide to the current frame) and
// `guide_on` 1×1 (0: no guide, and the network is exactly decoder v1). A frame.onnx without these
// inputs (v1) ignores the guide. Beside it, frame-geometry.onnx is the same network without its
// guide branch: the picture of guide_on 0 in ~29 ms instead of ~39 (WASM, one thread), a third
// smaller to download. Frames without a guide run it; and where frame.onnx is given as a function,
// it is fetched only when the first guide comes, so a geometry-only call never downloads it.

export interface DecodedFrame {
  /** The refined picture (1×3×256×256, [0, 1]). */
  image: Float32Array;
}

export interface DecoderFiles {
  reference: ModelSource;
  /** The per-frame network (with frameGeometry beside it: the one for frames with a guide). A function: loaded when the first guide comes. */
  frame: ModelSource | (() => Promise<ModelSource>);
  /** Decoder v2's frame network without the guide branch (frame-geometry.onnx), for frames without a guide. */
  frameGeometry?: ModelSource;
  /** Only for evaluation (warpOnly). */
  warp?: ModelSource;
}

/** The guide layer for one rebuilt frame (codec/stream/guide-codec.ts). */
export interface GuideInput {
  /** GUIDE_INPUT_SIDE² RGB bytes, interleaved (guideTo64 of the decoded guide picture). */
  picture: Uint8Array;
  /** 468 xyz (crop pixels) of the frame the guide picture was taken from. */
  landmarks: ArrayLike<number>;
}

export const GUIDE_INPUTS = ['guide', 'guide_landmarks', 'guide_on'] as const;

/** Whether a frame network takes the guide inputs (decoder v2's frame.onnx). */
function takesGuideInputs(runner: ModelRunner): boolean {
  return GUIDE_INPUTS.every((name) => runner.inputNames.includes(name));
}

/** Interleaved RGB bytes of the 64x64 guide → the network's planar 1×3×64×64 [0, 1]. */
export function guideTensor(rgb: ArrayLike<number>): Tensor {
  const n = GUIDE_INPUT_SIDE * GUIDE_INPUT_SIDE;
  if (rgb.length !== n * 3) throw new RangeError(`expected a ${GUIDE_INPUT_SIDE}x${GUIDE_INPUT_SIDE} RGB guide picture, got ${rgb.length} bytes`);
  const data = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) data[c * n + i] = rgb[i * 3 + c]! / 255;
  return { data, dims: [1, 3, GUIDE_INPUT_SIDE, GUIDE_INPUT_SIDE] };
}

const NO_GUIDE: Record<(typeof GUIDE_INPUTS)[number], Tensor> = {
  guide: { data: new Float32Array(3 * GUIDE_INPUT_SIDE * GUIDE_INPUT_SIDE), dims: [1, 3, GUIDE_INPUT_SIDE, GUIDE_INPUT_SIDE] },
  guide_landmarks: { data: new Float32Array(LANDMARKS * 2), dims: [1, LANDMARKS, 2] },
  guide_on: { data: new Float32Array(1), dims: [1, 1] },
};

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
  /** The network for frames with a guide: loaded, loading (lazily, on the first guide), or none. */
  private guided: ModelRunner | undefined;
  /** Loads the guided network when the first guide comes (given as a loader); spent once loaded. */
  private loadGuided: (() => Promise<ModelRunner>) | undefined;
  private guidedLoading: Promise<void> | undefined;
  private closed = false;

  /**
   * geometryRunner decodes frames without a guide (frame-geometry.onnx, or frame.onnx itself);
   * guidedRunner those with one: a runner, a loader called on the first guide, or none (v1).
   */
  constructor(
    private readonly referenceRunner: ModelRunner,
    private readonly geometryRunner: ModelRunner,
    guidedRunner?: ModelRunner | (() => Promise<ModelRunner>),
    private readonly warpRunner?: ModelRunner,
  ) {
    if (typeof guidedRunner === 'function') this.loadGuided = guidedRunner;
    else this.guided = guidedRunner ?? (takesGuideInputs(geometryRunner) ? geometryRunner : undefined);
  }

  static async load(runtime: ModelRuntime, files: DecoderFiles, options: ModelRunnerOptions = {}): Promise<NeuralDecoder> {
    const loaded: ModelRunner[] = [];
    const load = async (source: ModelSource): Promise<ModelRunner> => {
      const runner = await runtime.load(source, options);
      loaded.push(runner);
      return runner;
    };
    try {
      const reference = await load(files.reference);
      const { frame, frameGeometry } = files;
      const geometry = await load(frameGeometry ?? (typeof frame === 'function' ? await frame() : frame));
      const guided = frameGeometry === undefined ? undefined : typeof frame === 'function' ? async () => runtime.load(await frame(), options) : await load(frame);
      const warp = files.warp === undefined ? undefined : await load(files.warp);
      return new NeuralDecoder(reference, geometry, guided, warp);
    } catch (error) {
      await Promise.all(loaded.map((runner) => runner.close()));
      throw error;
    }
  }

  /** The execution provider the per-frame network runs on ('cpu', 'wasm', 'webgpu', …). */
  get backend(): string {
    return this.geometryRunner.backend;
  }

  /** Whether this decoder uses the guide layer (decoder v2, its guided network loaded or to be loaded); without it decode() ignores a guide. */
  get takesGuide(): boolean {
    return this.guided !== undefined || this.loadGuided !== undefined;
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

  /**
   * Rebuilds one frame from its landmarks (crop pixels), with the guide layer when there is one.
   * Without a guide, or while the guided network is still loading, the geometry-only picture.
   */
  async decode(landmarks: ArrayLike<number>, guide?: GuideInput): Promise<DecodedFrame> {
    const ref = this.reference;
    if (!ref) throw new Error('setReference must come first');
    if (guide && !this.guided) this.prepareGuided();
    const runner = guide && this.guided ? this.guided : this.geometryRunner;
    const guideFeeds = !takesGuideInputs(runner)
      ? {}
      : guide
        ? { guide: guideTensor(guide.picture), guide_landmarks: landmarksTensor(guide.landmarks), guide_on: { data: Float32Array.of(1), dims: [1, 1] } }
        : NO_GUIDE;
    const out = await runner.run({
      ref_image: ref.image,
      ref_feat: ref.feat,
      ref_mouth_feat: ref.mouthFeat,
      ref_landmarks: ref.landmarks,
      tgt_landmarks: landmarksTensor(landmarks),
      ...guideFeeds,
    });
    if (!out.image) throw new Error('frame.onnx did not return image');
    return { image: out.image.data };
  }

  /** Starts loading the guided network once (decode does on its first guide); a failed load is tried again on a later guide. */
  prepareGuided(): void {
    const load = this.loadGuided;
    if (!load || this.guidedLoading) return;
    this.guidedLoading = load().then(
      async (runner) => {
        if (this.closed) await runner.close();
        else {
          this.guided = runner;
          this.loadGuided = undefined;
        }
      },
      (error: unknown) => {
        console.warn(`kiloface: the guided decoder did not load (${(error as Error).message}); frames stay geometry-only`);
        this.guidedLoading = undefined;
      },
    );
  }

  /** Resolves once a guided network that is loading has loaded (or failed): for tests and tools. */
  async guidedReady(): Promise<boolean> {
    await this.guidedLoading;
    return this.guided !== undefined;
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
    this.closed = true;
    const runners = new Set([this.referenceRunner, this.geometryRunner, this.guided, this.warpRunner]);
    await Promise.all([...runners].map((runner) => runner?.close()));
  }
}
