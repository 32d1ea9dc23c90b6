import type { Detection } from './detection.ts';
import { FaceDetector } from './face-detector.ts';
import { FaceLandmarker } from './face-landmarker.ts';
import { checkImage, type ImageLike } from './image.ts';
import type { ModelRunner, ModelRunnerOptions, ModelRuntime, ModelSource } from '../model-runner.ts';
import { LANDMARK_COUNT, ROI_SCALE } from './mediapipe-face.ts';
import { OneEuroVectorFilter, type OneEuroParams } from './one-euro.ts';
import { isFiniteRoi, roiCentreInFrame, roiFromDetection, roiFromLandmarks, type Roi, type SamplingGrid } from './roi.ts';

// The sender's face tracker: MediaPipe Face Mesh's tracking scheme for one face
// (face_landmark_front_cpu.pbtxt; models/mediapipe/landmarks.py is the Python reference), plus
// One Euro smoothing of the output.
//
//   detecting --detector finds a face--> landmarks in the detection's ROI
//   tracking  --> landmarks in the ROI made from the previous frame's landmarks
//   after landmarks: presence >= minPresence -> 'face', next ROI from these (raw) landmarks,
//                    phase = tracking; else -> 'no-face', phase = detecting (MediaPipe runs the
//                    detector again on the next frame, not this one).
//   A tracked ROI whose centre has left the frame is dropped and the detector runs at once.
//
// The ROI always follows the raw landmarks (as MediaPipe's); smoothing only shapes what the
// tracker reports, and restarts whenever the face is lost, so a re-found face is never dragged
// from where the old one was.

export interface FaceTrackerOptions {
  /** Detector score threshold (MediaPipe min_detection_confidence, 0.5). */
  minDetectionScore?: number;
  /** Face presence threshold (MediaPipe min_tracking_confidence, 0.5). */
  minPresence?: number;
  /** One Euro parameters for the reported landmarks, or false for raw landmarks. */
  smoothing?: OneEuroParams | false;
  /** Frame rate assumed when track() is given no timestamp (default 25). */
  fps?: number;
  /**
   * How crops sample the frame: 'corner' (default: models/mediapipe/landmarks.py and MediaPipe's
   * CPU graph, what the geometry basis was fitted on) or 'centre' (MediaPipe's WebGL graph, as
   * @mediapipe/face_mesh runs in browsers). See roi.ts and README.md.
   */
  samplingGrid?: SamplingGrid;
}

/**
 * Tuned on measurements (codec/tracker/README.md, "Smoothing"): speeds are in face sizes per
 * second (the filter's derivative is scaled by 1 / face size).
 */
export const DEFAULT_SMOOTHING: OneEuroParams = { minCutoff: 0.3, beta: 30, derivativeCutoff: 1 };

export type NoFaceReason =
  /** The detector found no face (score >= minDetectionScore) in this frame. */
  | 'no-detection'
  /** The landmark model's face flag was below minPresence in the ROI: the face was lost. */
  | 'low-presence'
  /** The models gave non-finite numbers: nothing trustworthy to report. */
  | 'invalid-output';

interface FrameInfo {
  /** Index of this frame since the tracker was made (counts every call). */
  frame: number;
  /** The frame's time (ms): the caller's timestamp, or frame / fps. */
  timeMs: number;
  /** The detector ran on this frame. */
  detected: boolean;
}

export interface FaceFound extends FrameInfo {
  state: 'face';
  /** 468 x (x, y, z), image pixels, smoothed (raw when smoothing is off). */
  landmarks: Float32Array;
  /** The landmark model's own output for this frame, unsmoothed (what the ROI follows). */
  rawLandmarks: Float32Array;
  /** The ROI the landmarks were found in. */
  roi: Roi;
  /** sigmoid(face_flag) in that ROI. */
  presence: number;
  /** The detection this frame started from, when the detector ran. */
  detection: Detection | null;
}

export interface NoFace extends FrameInfo {
  state: 'no-face';
  reason: NoFaceReason;
  /** The face flag when the landmark model ran, else null. */
  presence: number | null;
}

export type TrackResult = FaceFound | NoFace;

export type TrackerPhase = 'detecting' | 'tracking';

export interface TrackerStats {
  frames: number;
  framesWithFace: number;
  detectorRuns: number;
  landmarkRuns: number;
  /** Times a tracked face was lost (presence fell below the threshold). */
  facesLost: number;
  /** Times a tracked ROI left the frame and the detector had to run. */
  roiLeftFrame: number;
}

export class FaceTracker {
  readonly stats: TrackerStats = { frames: 0, framesWithFace: 0, detectorRuns: 0, landmarkRuns: 0, facesLost: 0, roiLeftFrame: 0 };
  private readonly detector: FaceDetector;
  private readonly landmarker: FaceLandmarker;
  private readonly minPresence: number;
  private readonly fps: number;
  private readonly smoother: OneEuroVectorFilter | null;
  private roi: Roi | null = null;
  private frameSize = '';
  private busy = false;

  /** Loads both models through a runtime (onnxruntime-node or -web); the tracker owns the runners. */
  static async load(runtime: ModelRuntime, models: { detector: ModelSource; landmarks: ModelSource }, options: FaceTrackerOptions & ModelRunnerOptions = {}): Promise<FaceTracker> {
    const runnerOptions: ModelRunnerOptions = {};
    if (options.threads !== undefined) runnerOptions.threads = options.threads;
    if (options.preferGpu !== undefined) runnerOptions.preferGpu = options.preferGpu;
    const detector = await runtime.load(models.detector, runnerOptions);
    try {
      const landmarks = await runtime.load(models.landmarks, runnerOptions);
      return new FaceTracker(detector, landmarks, options, true);
    } catch (error) {
      await detector.close();
      throw error;
    }
  }

  constructor(
    private readonly detectorRunner: ModelRunner,
    private readonly landmarkRunner: ModelRunner,
    options: FaceTrackerOptions = {},
    /** Whether close() also closes the runners. */
    private readonly ownsRunners = false,
  ) {
    const grid = options.samplingGrid ?? 'corner';
    this.detector = new FaceDetector(detectorRunner, { samplingGrid: grid, ...(options.minDetectionScore === undefined ? {} : { minScore: options.minDetectionScore }) });
    this.landmarker = new FaceLandmarker(landmarkRunner, grid);
    this.minPresence = options.minPresence ?? 0.5;
    this.fps = options.fps ?? 25;
    if (!(this.fps > 0)) throw new RangeError('fps must be positive');
    const smoothing = options.smoothing ?? DEFAULT_SMOOTHING;
    this.smoother = smoothing === false ? null : new OneEuroVectorFilter(LANDMARK_COUNT * 3, smoothing);
  }

  /** 'tracking' when the next frame will reuse the ROI from this frame's landmarks. */
  get phase(): TrackerPhase {
    return this.roi ? 'tracking' : 'detecting';
  }

  /**
   * One frame in, one answer out: landmarks of the face, or 'no-face' with the reason. Frames
   * must come in order, one call at a time; `timeMs` (the frame's capture time) drives the
   * smoothing, default frame index / fps.
   */
  async track(image: ImageLike, timeMs?: number): Promise<TrackResult> {
    if (this.busy) throw new Error('FaceTracker.track() called again before the previous frame finished');
    this.busy = true;
    try {
      return await this.trackFrame(image, timeMs);
    } finally {
      this.busy = false;
    }
  }

  private async trackFrame(image: ImageLike, timeMs: number | undefined): Promise<TrackResult> {
    checkImage(image);
    const info: FrameInfo = { frame: this.stats.frames++, timeMs: timeMs ?? (this.stats.frames - 1) * (1000 / this.fps), detected: false };
    const size = `${image.width}x${image.height}`;
    if (size !== this.frameSize) {
      this.reset(); // a new camera or resolution: start over
      this.frameSize = size;
    }

    if (this.roi && !roiCentreInFrame(this.roi, image.width, image.height)) {
      this.stats.roiLeftFrame++;
      this.roi = null;
    }

    let detection: Detection | null = null;
    if (!this.roi) {
      this.stats.detectorRuns++;
      info.detected = true;
      const faces = await this.detector.detect(image);
      detection = faces[0] ?? null;
      const roi = detection ? roiFromDetection(detection) : null;
      if (!roi || !isFiniteRoi(roi)) return this.noFace(info, detection ? 'invalid-output' : 'no-detection', null);
      this.roi = roi;
    }

    const roi = this.roi;
    this.stats.landmarkRuns++;
    const { landmarks: raw, presence } = await this.landmarker.landmarks(image, roi);
    if (!Number.isFinite(presence)) return this.noFace(info, 'invalid-output', null);
    if (presence < this.minPresence) {
      if (!detection) this.stats.facesLost++;
      return this.noFace(info, 'low-presence', presence);
    }
    if (!raw.every(Number.isFinite)) return this.noFace(info, 'invalid-output', presence);
    const next = roiFromLandmarks(raw);
    if (!isFiniteRoi(next)) return this.noFace(info, 'invalid-output', presence);
    this.roi = next;
    this.stats.framesWithFace++;

    // Scale the filter's speed by the face size (the long side of the landmarks' bounding box).
    const landmarks = this.smoother ? this.smoother.filter(raw, info.timeMs / 1000, ROI_SCALE / next.size) : raw;
    return { ...info, state: 'face', landmarks, rawLandmarks: raw, roi, presence, detection };
  }

  private noFace(info: FrameInfo, reason: NoFaceReason, presence: number | null): NoFace {
    this.roi = null;
    this.smoother?.reset();
    return { ...info, state: 'no-face', reason, presence };
  }

  /** Forget the face: the next frame runs the detector and smoothing starts afresh. */
  reset(): void {
    this.roi = null;
    this.smoother?.reset();
  }

  async close(): Promise<void> {
    if (!this.ownsRunners) return;
    await Promise.all([this.detectorRunner.close(), this.landmarkRunner.close()]);
  }
}
