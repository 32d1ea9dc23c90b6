// The shipped models (codec/shipped.ts's SHIPPED_MODELS) loaded in Node, on onnxruntime-node: the
// one place the bench, tools and tests get the tracker and the face geometry from, as
// web/neural/models.ts is for the browser. Node only.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FaceGeometry, type GeometryModel } from '../geometry/face-geometry.ts';
import { geometryModelFromJson, type BasisJson, type CanonicalFaceJson } from '../geometry/model-json.ts';
import type { DecoderFiles } from '../decoder/neural-decoder.ts';
import { DECODER_FILES, SHIPPED_MODELS, type ShippedModel } from '../shipped.ts';
import { FaceTracker, type FaceTrackerOptions } from '../tracker/face-tracker.ts';
import { onnxNodeRuntime } from './onnx-node.ts';

/** The repository root: SHIPPED_MODELS' paths are relative to it, whatever the working directory. */
export const REPO_ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));

/** A shipped model's file as an absolute path. */
export function modelPath(model: ShippedModel): string {
  return join(REPO_ROOT, SHIPPED_MODELS[model]);
}

/** Files of the shipped models that are missing, as repository paths (empty = all there). */
export function missingFaceModels(which: readonly ShippedModel[] = ['detector', 'landmarks']): string[] {
  return which.filter((k) => !existsSync(modelPath(k))).map((k) => SHIPPED_MODELS[k]);
}

/**
 * A decoder folder's networks for NeuralDecoder.load: the geometry-only frame network where the
 * folder has it (decoder v2), warp.onnx when asked for (evaluation).
 */
export function decoderFilesIn(dir: string, options: { warp?: boolean } = {}): DecoderFiles {
  const file = (name: string): string => join(dir, name);
  const frameGeometry = file(DECODER_FILES.frameGeometry);
  return {
    reference: file(DECODER_FILES.reference),
    frame: file(DECODER_FILES.frame),
    ...(existsSync(frameGeometry) ? { frameGeometry } : {}),
    ...(options.warp ? { warp: file(DECODER_FILES.warp) } : {}),
  };
}

/** A tracker on onnxruntime-node (1 thread unless told); one per sequence at a time (it keeps state between frames). */
export function loadTracker(options: FaceTrackerOptions & { threads?: number } = {}): Promise<FaceTracker> {
  return FaceTracker.load(onnxNodeRuntime, { detector: modelPath('detector'), landmarks: modelPath('landmarks') }, { threads: 1, ...options });
}

/** The shipped JSON of the canonical face and the expression basis, parsed. */
export function readGeometryJson(): { canonical: CanonicalFaceJson; basis: BasisJson } {
  return {
    canonical: JSON.parse(readFileSync(modelPath('canonical'), 'utf8')) as CanonicalFaceJson,
    basis: JSON.parse(readFileSync(modelPath('basis'), 'utf8')) as BasisJson,
  };
}

let geometryCache: { geometry: FaceGeometry; model: GeometryModel } | undefined;

/** The codec's face geometry (the basis on the canonical face), read once per process. */
export function loadFaceGeometry(): { geometry: FaceGeometry; model: GeometryModel } {
  if (!geometryCache) {
    const { canonical, basis } = readGeometryJson();
    const model = geometryModelFromJson(canonical, basis);
    geometryCache = { geometry: new FaceGeometry(model), model };
  }
  return geometryCache;
}
