// What every end of kiloface must agree on, in one place: the files of the shipped models and the
// fixed numbers of the stream. The browser, the bench, tools and tests all read them from here.
// Isomorphic: paths are strings from the repository root; each runtime resolves them its own way
// (Vite imports in web/neural/models.ts, node:path elsewhere).
import { DETECTOR_FILE, LANDMARK_FILE } from './tracker/mediapipe-face.ts';

/** The camera grid (frames per second): calls capture on it, the bench resamples clips to it. */
export const CAMERA_FPS = 25;
/** One camera frame slot (ms): capture times are rounded to this grid. */
export const FRAME_SLOT_MS = 1000 / CAMERA_FPS;
/** Side of the face crop (px): reference pictures, the decoder's input and output, the bench's clips. */
export const CROP_SIZE = 256;
/** PSNR of identical pictures is unbounded; like libvpx's test tools (MAX_PSNR) we cap it so means stay finite. */
export const PSNR_CAP_DB = 100;

/** The shipped decoder's folder (model.json, the fixture beside its networks): v2, with the guide inputs (issue 17). models/kiloface-v1 stays in the repository for comparison. */
export const DECODER_DIR = 'models/kiloface-v2';

/**
 * The decoder's networks inside a decoder folder; `frameGeometry` is decoder v2's frame network
 * without its guide branch (frames without a guide); `warp` is the evaluation's warp-only baseline,
 * never loaded in calls.
 */
export const DECODER_FILES = { reference: 'reference.onnx', frame: 'frame.onnx', frameGeometry: 'frame-geometry.onnx', warp: 'warp.onnx' } as const;

/** The files a call loads, from the repository root. */
export const SHIPPED_MODELS = {
  detector: `models/mediapipe/${DETECTOR_FILE}`,
  landmarks: `models/mediapipe/${LANDMARK_FILE}`,
  canonical: 'models/mediapipe/canonical_face.json',
  basis: 'models/geometry/basis-v1.json',
  decoderReference: `${DECODER_DIR}/${DECODER_FILES.reference}`,
  decoderFrame: `${DECODER_DIR}/${DECODER_FILES.frame}`,
  decoderFrameGeometry: `${DECODER_DIR}/${DECODER_FILES.frameGeometry}`,
} as const;

export type ShippedModel = keyof typeof SHIPPED_MODELS;

