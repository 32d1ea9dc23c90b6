// The face tracker: frames in, MediaPipe's 468 face landmarks (or an explicit 'no-face') out.
export { checkImage, type ImageLike } from './image.ts';
export { sampleAffine, type AffineMap, type BorderMode, type SampleOptions } from './affine-sampler.ts';
export { generateAnchors, type Anchors, type SsdAnchorOptions } from './anchors.ts';
export { decodeDetections, iou, sigmoid, weightedNonMaxSuppression, type Detection, type DetectionDecodeOptions } from './detection.ts';
export { FaceDetector, letterboxRoi, type FaceDetectorOptions } from './face-detector.ts';
export { FaceLandmarker, projectLandmarks, type RoiLandmarks } from './face-landmarker.ts';
export { OneEuroFilter, OneEuroVectorFilter, type OneEuroParams } from './one-euro.ts';
export { isFiniteRoi, normalizeAngle, roiCentreInFrame, roiCropMap, roiFromDetection, roiFromLandmarks, roiFromPoints, roiToImage, type Roi, type SamplingGrid } from './roi.ts';
export {
  DEFAULT_SMOOTHING,
  FaceTracker,
  type FaceFound,
  type FaceTrackerOptions,
  type NoFace,
  type NoFaceReason,
  type TrackerPhase,
  type TrackerStats,
  type TrackResult,
} from './face-tracker.ts';
export * from './mediapipe-face.ts';
