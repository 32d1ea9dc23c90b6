// Where the browser gets the codec's models: files of the build (Vite copies each into dist/assets
// under a name with its content hash, so browsers may cache them for good: server/static-files.ts),
// so nothing comes from a CDN. The list is codec/shipped.ts's SHIPPED_MODELS; Vite needs literal
// import paths, so they are written out here, and tests/unit/codec/shipped-models.test.ts checks
// that they are the same files.
import detectorUrl from '../../models/mediapipe/face_detection_short_range.onnx?url';
import landmarksUrl from '../../models/mediapipe/face_landmark.onnx?url';
import canonicalUrl from '../../models/mediapipe/canonical_face.json?url';
import basisUrl from '../../models/geometry/basis-v1.json?url';
import decoderReferenceUrl from '../../models/kiloface-v2/reference.onnx?url';
import decoderFrameUrl from '../../models/kiloface-v2/frame.onnx?url';
import decoderFrameGeometryUrl from '../../models/kiloface-v2/frame-geometry.onnx?url';
import { FaceGeometry } from '../../codec/geometry/face-geometry.ts';
import { geometryModelFromJson, type BasisJson } from '../../codec/geometry/model-json.ts';
import { geometryCodingConfig, type GeometryCodingConfig } from '../../codec/geometry/geometry-coder.ts';
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
  decoderFrameGeometry: decoderFrameGeometryUrl,
} as const satisfies Record<ShippedModel, string>;

const fetched = new Map<string, Promise<Uint8Array>>();

/** How far this worker's model downloads are: files finished of those asked for, and bytes. */
export interface ModelDownloads {
  files: number;
  filesTotal: number;
  bytes: number;
  /** Undefined while a file of unknown (or compressed) length is under way. */
  bytesTotal: number | undefined;
}

const downloads = new Map<string, { bytes: number; total: number | undefined; done: boolean }>();
let downloadListener: ((progress: ModelDownloads) => void) | undefined;

/** Calls `listener` as model bytes arrive in this worker (a page shows "downloading models n/N"). */
export function watchModelDownloads(listener: (progress: ModelDownloads) => void): void {
  downloadListener = listener;
}

function reportDownloads(): void {
  if (!downloadListener) return;
  const all = [...downloads.values()];
  const known = all.every((d) => d.total !== undefined);
  downloadListener({
    files: all.filter((d) => d.done).length,
    filesTotal: all.length,
    bytes: all.reduce((sum, d) => sum + d.bytes, 0),
    bytesTotal: known ? all.reduce((sum, d) => sum + d.total!, 0) : undefined,
  });
}

/** The body's bytes, counted into `downloads` as they come. */
async function readCounted(url: string, response: Response): Promise<Uint8Array> {
  // A compressed response's length is not the length of what the reader gives: unknown then.
  const length = Number(response.headers.get('content-length'));
  const entry = { bytes: 0, total: response.headers.get('content-encoding') || !(length > 0) ? undefined : length, done: false };
  downloads.set(url, entry);
  const chunks: Uint8Array[] = [];
  const reader = response.body!.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    chunks.push(value);
    entry.bytes += value.length;
    reportDownloads();
  }
  entry.done = true;
  entry.total = entry.bytes;
  reportDownloads();
  const bytes = new Uint8Array(entry.bytes);
  let at = 0;
  for (const chunk of chunks) (bytes.set(chunk, at), (at += chunk.length));
  return bytes;
}

/**
 * A model file's bytes, fetched once per worker: the sender's two trackers share the landmark
 * model, its self-check decoder the receiver's networks. Other workers of the page get the same
 * immutable URL from the HTTP cache.
 */
export function modelBytes(url: string): Promise<Uint8Array> {
  let bytes = fetched.get(url);
  if (!bytes) {
    downloads.set(url, { bytes: 0, total: undefined, done: false });
    bytes = fetch(url).then(async (response) => {
      if (!response.ok) throw new Error(`could not load ${url}: HTTP ${response.status}`);
      return readCounted(url, response);
    });
    bytes.catch(() => (fetched.delete(url), downloads.delete(url))); // a failed fetch may be tried again
    fetched.set(url, bytes);
    reportDownloads();
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

/**
 * The decoder; `preferGpu`: WebGPU where the browser has it, else WASM. The geometry-only network
 * comes first; the guided one (a third bigger) is fetched when the first guide picture arrives.
 */
export async function loadDecoder(threads = 1, preferGpu = false): Promise<NeuralDecoder> {
  const [reference, frameGeometry] = await Promise.all([modelBytes(MODEL_URLS.decoderReference), modelBytes(MODEL_URLS.decoderFrameGeometry)]);
  return NeuralDecoder.load(onnxWebRuntime, { reference, frameGeometry, frame: () => modelBytes(MODEL_URLS.decoderFrame) }, { threads, preferGpu });
}
