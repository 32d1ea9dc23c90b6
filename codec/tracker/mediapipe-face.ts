// The I/O conventions of models/mediapipe (face_detection_short_range.onnx, face_landmark.onnx),
// transcribed from models/mediapipe/model.json; tests/unit/tracker/model-config.test.ts checks
// that they still agree. Kept as code, not a JSON import, so the tracker loads the same way in
// the browser, Node and the bench.

import type { SsdAnchorOptions } from './anchors.ts';
import type { DetectionDecodeOptions } from './detection.ts';

export const DETECTOR_FILE = 'face_detection_short_range.onnx';
export const LANDMARK_FILE = 'face_landmark.onnx';

export const DETECTOR_INPUT_SIZE = 128;
export const LANDMARK_INPUT_SIZE = 192;
export const LANDMARK_COUNT = 468;
export const INPUT_NAME = 'input';

/** MediaPipe SsdAnchorsCalculator options of face_detection_short_range. */
export const DETECTOR_ANCHORS: SsdAnchorOptions = {
  numLayers: 4,
  minScale: 0.1484375,
  maxScale: 0.75,
  inputSizeHeight: DETECTOR_INPUT_SIZE,
  inputSizeWidth: DETECTOR_INPUT_SIZE,
  anchorOffsetX: 0.5,
  anchorOffsetY: 0.5,
  strides: [8, 16, 16, 16],
  aspectRatios: [1.0],
  interpolatedScaleAspectRatio: 1.0,
  fixedAnchorSize: true,
  reduceBoxesInLowestLayer: false,
};

/** MediaPipe TensorsToDetectionsCalculator + NonMaxSuppressionCalculator options. */
export const DETECTOR_DECODE: DetectionDecodeOptions = {
  numCoords: 16,
  boxCoordOffset: 0,
  keypointCoordOffset: 4,
  numKeypoints: 6,
  numValuesPerKeypoint: 2,
  reverseOutputOrder: true,
  xScale: 128,
  yScale: 128,
  wScale: 128,
  hScale: 128,
  sigmoidScore: true,
  scoreClippingThresh: 100,
  minScoreThresh: 0.5,
  minSuppressionThreshold: 0.3,
};

/** Detector keypoints: 0 right eye (image left), 1 left eye (image right), ... */
export const KEYPOINT_RIGHT_EYE = 0;
export const KEYPOINT_LEFT_EYE = 1;

/** Face-mesh landmarks used for the tracking ROI's rotation: outer eye corners (image left, right). */
export const LANDMARK_EYE_LEFT_IN_IMAGE = 33;
export const LANDMARK_EYE_RIGHT_IN_IMAGE = 263;

/** RectTransformationCalculator scale of both ROI rules (square_long). */
export const ROI_SCALE = 1.5;

/** Detector input: u8 / 127.5 - 1. Landmark input: u8 / 255. */
export const DETECTOR_NORMALISATION = { scale: 1 / 127.5, offset: -1 } as const;
export const LANDMARK_NORMALISATION = { scale: 1 / 255, offset: 0 } as const;
