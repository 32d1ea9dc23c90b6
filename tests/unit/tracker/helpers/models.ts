// Loads the tracker with onnxruntime-node on the shipped models (tests and tools).
import path from 'node:path';

import { onnxNodeRuntime } from '../../../../codec/runners/onnx-node.ts';
import { FaceTracker, type FaceTrackerOptions } from '../../../../codec/tracker/face-tracker.ts';
import { DETECTOR_FILE, LANDMARK_FILE } from '../../../../codec/tracker/mediapipe-face.ts';
import { MODEL_DIR } from './video.ts';

export const DETECTOR_PATH = path.join(MODEL_DIR, DETECTOR_FILE);
export const LANDMARK_PATH = path.join(MODEL_DIR, LANDMARK_FILE);

export function loadTracker(options: FaceTrackerOptions = {}, threads = 1): Promise<FaceTracker> {
  return FaceTracker.load(onnxNodeRuntime, { detector: DETECTOR_PATH, landmarks: LANDMARK_PATH }, { ...options, threads });
}
