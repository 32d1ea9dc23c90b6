// Where the browser gets the codec's models: served by our server from the repository's models/
// folder (server/static-files.ts), so nothing comes from a CDN.
import { FaceGeometry } from '../../codec/geometry/face-geometry.ts';
import { geometryModelFromJson, type BasisJson } from '../../codec/geometry/model-json.ts';
import type { GeometryCodingConfig } from '../../codec/geometry-coder.ts';
import { FaceTracker } from '../../codec/tracker/face-tracker.ts';
import { NeuralDecoder } from '../../codec/decoder/neural-decoder.ts';
import { onnxWebRuntime } from '../runtime/onnx-web.ts';

export const MODEL_URLS = {
  detector: '/models/mediapipe/face_detection_short_range.onnx',
  landmarks: '/models/mediapipe/face_landmark.onnx',
  canonical: '/models/mediapipe/canonical_face.json',
  basis: '/models/geometry/basis-v1.json',
  decoderReference: '/models/kiloface-v1/reference.onnx',
  decoderFrame: '/models/kiloface-v1/frame.onnx',
} as const;

async function fetchJson<T>(url: string): Promise<T> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not load ${url}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

export async function loadGeometry(): Promise<{ geometry: FaceGeometry; coding: GeometryCodingConfig }> {
  const [canonical, basis] = await Promise.all([fetchJson<Parameters<typeof geometryModelFromJson>[0]>(MODEL_URLS.canonical), fetchJson<BasisJson>(MODEL_URLS.basis)]);
  const model = geometryModelFromJson(canonical, basis);
  const geometry = new FaceGeometry(model);
  return { geometry, coding: { dimensions: geometry.dimensions, baseSteps: model.baseSteps } };
}

/** The tracker; `smoothing: false` for still pictures (references), where it must find the same landmarks at both ends. */
export function loadTracker(smoothing: boolean, threads = 1): Promise<FaceTracker> {
  return FaceTracker.load(onnxWebRuntime, { detector: MODEL_URLS.detector, landmarks: MODEL_URLS.landmarks }, { threads, ...(smoothing ? {} : { smoothing: false }) });
}

/** The decoder; `preferGpu`: WebGPU where the browser has it, else WASM. */
export function loadDecoder(threads = 1, preferGpu = false): Promise<NeuralDecoder> {
  return NeuralDecoder.load(onnxWebRuntime, { reference: MODEL_URLS.decoderReference, frame: MODEL_URLS.decoderFrame }, { threads, preferGpu });
}
