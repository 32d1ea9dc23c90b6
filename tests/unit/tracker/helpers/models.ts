// Loads the tracker with onnxruntime-node on the shipped models (tests and tools).
import path from 'node:path';

import { onnxNodeRuntime } from '../../../../codec/runners/onnx-node.ts';
import { FaceTracker, type FaceTrackerOptions } from '../../../../codec/tracker/face-tracker.ts';
import { SHIPPED_MODELS } from '../../../../codec/shipped.ts';
import { ROOT } from './video.ts';

const DETECTOR_PATH = path.join(ROOT, SHIPPED_MODELS.detector);
const LANDMARK_PATH = path.join(ROOT, SHIPPED_MODELS.landmarks);

export function loadTracker(options: FaceTrackerOptions = {}, threads = 1): Promise<FaceTracker> {
  return FaceTracker.load(onnxNodeRuntime, { detector: DETECTOR_PATH, landmarks: LANDMARK_PATH }, { ...options, threads });
}
