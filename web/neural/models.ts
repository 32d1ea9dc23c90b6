// Where the browser gets the codec's models: files of the build (Vite copies each into dist/assets
// under a name with its content hash, so browsers may cache them for good: server/static-files.ts),
// so nothing comes from a CDN. The list is codec/shipped.ts's SHIPPED_MODELS; Vite needs literal
// import paths, so they are written out here, and tests/unit/codec/shipped-models.test.ts checks
// that they are the same files.
import detectorUrl from '../../models/mediapipe/face_detection_short_range.onnx?url';
import landmarksUrl from '../../models/mediapipe/face_landmark.onnx?url';
import canonicalUrl from '../../models/mediapipe/canonical_face.json?url';
import basisUrl from '../../models/geometry/basis-v1.json?url';
import decoderReferenceUrl from '../../models/kiloface-v1/reference.onnx?url';
import decoderFrameUrl from '../../models/kiloface-v1/frame.onnx?url';
import { FaceGeometry } from '../../codec/geometry/face-geometry.ts';
import { geometryModelFromJson, type BasisJson } from '../../codec/geometry/model-json.ts';
import { geometryCodingConfig, type GeometryCodingConfig } from '../../codec/geometry-coder.ts';
import type { ShippedModel } from '../../codec/shipped.ts';
import { FaceTracker } from '../../codec/tracker/face-tracker.ts';
import { NeuralDecoder } from '../../codec/decoder/neural-decoder.ts';
import { onnxWebRuntime } from '../runtime/onnx-web.ts';

export const MODEL_URLS = {
  detector: detectorUrl,
  landmarks: landmarksUrl,
  canonical: canonicalUrl,
  basis: basisUrl,
  decoderReference: decoderReferenceUrl,
  decoderFrame: decoderFrameUrl,
} as const satisfies Record<ShippedModel, string>;

const fetched = new Map<string, Promise<Uint8Array>>();

/**
 * A model file's bytes, fetched once per worker: the sender's two trackers share the landmark
 * model, its self-check decoder the receiver's networks. Other workers of the page get the same
 * immutable URL from the HTTP cache.
 */
export function modelBytes(url: string): Promise<Uint8Array> {
  let bytes = fetched.get(url);
  if (!bytes) {
    bytes = fetch(url).then(async (response) => {
      if (!response.ok) throw new Error(`could not load ${url}: HTTP ${response.status}`);
      return new Uint8Array(await response.arrayBuffer());
    });
    bytes.catch(() => fetched.delete(url)); // a failed fetch may be tried again
    fetched.set(url, bytes);
  }
  return bytes;
}

async function fetchJson<T>(url: string): Promise<T> {
  return JSON.parse(new TextDecoder().decode(await modelBytes(url))) as T;
}

export async function loadGeometry(): Promise<{ geometry: FaceGeometry; coding: GeometryCodingConfig }> {
  const [canonical, basis] = await Promise.all([fetchJson<Parameters<typeof geometryModelFromJson>[0]>(MODEL_URLS.canonical), fetchJson<BasisJson>(MODEL_URLS.basis)]);
  const geometry = new FaceGeometry(geometryModelFromJson(canonical, basis));
  return { geometry, coding: geometryCodingConfig(geometry) };
}

/** The tracker; `smoothing: false` for still pictures (references), where it must find the same landmarks at both ends. */
export async function loadTracker(smoothing: boolean, threads = 1): Promise<FaceTracker> {
  const [detector, landmarks] = await Promise.all([modelBytes(MODEL_URLS.detector), modelBytes(MODEL_URLS.landmarks)]);
  return FaceTracker.load(onnxWebRuntime, { detector, landmarks }, { threads, ...(smoothing ? {} : { smoothing: false }) });
}

/** The decoder; `preferGpu`: WebGPU where the browser has it, else WASM. */
export async function loadDecoder(threads = 1, preferGpu = false): Promise<NeuralDecoder> {
  const [reference, frame] = await Promise.all([modelBytes(MODEL_URLS.decoderReference), modelBytes(MODEL_URLS.decoderFrame)]);
  return NeuralDecoder.load(onnxWebRuntime, { reference, frame }, { threads, preferGpu });
}
