// Pixel work of the neural stream in a worker: camera frames to tracker images, reference crops,
// pictures coded and decoded with the browser's own image codecs, decoder output to pixels.
import { CROP_SIZE, PSNR_CAP_DB } from '../../codec/shipped.ts';
import type { CropBox } from '../../codec/geometry/reference-crop.ts';
import { PICTURE_MIME, type PictureFormat } from '../../codec/stream/reference-packet.ts';
import { sampleAffine } from '../../codec/tracker/affine-sampler.ts';
import type { ImageLike } from '../../codec/tracker/image.ts';
import type { FaceTracker } from '../../codec/tracker/face-tracker.ts';

export interface RgbaImage extends ImageLike {
  readonly data: Uint8ClampedArray<ArrayBuffer>;
  readonly channels: 4;
}

let canvas: OffscreenCanvas | undefined;
function context(width: number, height: number): OffscreenCanvasRenderingContext2D {
  canvas ??= new OffscreenCanvas(width, height);
  if (canvas.width !== width || canvas.height !== height) [canvas.width, canvas.height] = [width, height];
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('no 2D canvas in this worker');
  return ctx;
}

/** An ImageBitmap or VideoFrame as RGBA pixels, scaled to width x height. */
export function pixelsOf(source: ImageBitmap | VideoFrame, width: number, height: number): RgbaImage {
  const ctx = context(width, height);
  ctx.drawImage(source, 0, 0, width, height);
  return { data: ctx.getImageData(0, 0, width, height).data, width, height, channels: 4 };
}

/** The 256x256 crop at `box` (edges replicated where the box leaves the frame), as RGBA. */
export function cropPixels(image: ImageLike, box: CropBox): RgbaImage {
  const k = box.size / CROP_SIZE;
  // Pixel centres: output pixel x covers source [box.x + x k, box.x + (x + 1) k).
  const map = { a: k, b: 0, c: box.x + 0.5 * k - 0.5, d: 0, e: k, f: box.y + 0.5 * k - 0.5 };
  const rgb = sampleAffine(image, map, CROP_SIZE, CROP_SIZE, { border: 'replicate', scale: 1, offset: 0 });
  const data = new Uint8ClampedArray(CROP_SIZE * CROP_SIZE * 4);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    data[j] = rgb[i]!;
    data[j + 1] = rgb[i + 1]!;
    data[j + 2] = rgb[i + 2]!;
    data[j + 3] = 255;
  }
  return { data, width: CROP_SIZE, height: CROP_SIZE, channels: 4 };
}

/** Codes a picture with the browser's encoder. */
export async function encodePicture(image: RgbaImage, format: PictureFormat, quality: number): Promise<Uint8Array> {
  const ctx = context(image.width, image.height);
  ctx.putImageData(new ImageData(image.data, image.width, image.height), 0, 0);
  const blob = await canvas!.convertToBlob({ type: PICTURE_MIME[format], quality });
  if (blob.type !== PICTURE_MIME[format]) throw new Error(`this browser cannot encode ${format} (got ${blob.type})`);
  return new Uint8Array(await blob.arrayBuffer());
}

/** Decodes a coded picture to RGBA pixels. */
export async function decodePicture(bytes: Uint8Array, format: PictureFormat): Promise<RgbaImage> {
  const bitmap = await createImageBitmap(new Blob([bytes as BlobPart], { type: PICTURE_MIME[format] }));
  try {
    return pixelsOf(bitmap, bitmap.width, bitmap.height);
  } finally {
    bitmap.close();
  }
}

/** The landmarks both ends find on a reference picture: a fresh detection every time, no smoothing. */
async function pictureLandmarks(tracker: FaceTracker, picture: ImageLike): Promise<Float32Array | undefined> {
  tracker.reset();
  const found = await tracker.track(picture);
  tracker.reset();
  return found.state === 'face' ? found.landmarks : undefined;
}

/**
 * A coded reference picture as a receiver has it: decoded, and its landmarks found. Sender and
 * receivers both call this, so both get the same numbers; undefined when no face is found on it.
 */
export async function decodeReference(tracker: FaceTracker, bytes: Uint8Array, format: PictureFormat): Promise<{ picture: RgbaImage; landmarks: Float32Array } | undefined> {
  const picture = await decodePicture(bytes, format);
  const landmarks = await pictureLandmarks(tracker, picture);
  return landmarks ? { picture, landmarks } : undefined;
}

/** The decoder's planar [0, 1] RGB → RGBA pixels. */
export function planarToRgba(planar: Float32Array, size = CROP_SIZE): Uint8ClampedArray<ArrayBuffer> {
  const n = size * size;
  const out = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    out[i * 4] = planar[i]! * 255 + 0.5;
    out[i * 4 + 1] = planar[n + i]! * 255 + 0.5;
    out[i * 4 + 2] = planar[2 * n + i]! * 255 + 0.5;
    out[i * 4 + 3] = 255;
  }
  return out;
}

/** PSNR (dB) over RGB of two RGBA pictures of the same size. */
export function psnrRgba(a: Uint8ClampedArray, b: Uint8ClampedArray): number {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < a.length; i += 4) {
    for (let c = 0; c < 3; c++) {
      const d = a[i + c]! - b[i + c]!;
      sum += d * d;
    }
    count += 3;
  }
  const mse = sum / Math.max(1, count);
  return mse === 0 ? PSNR_CAP_DB : Math.min(PSNR_CAP_DB, 10 * Math.log10((255 * 255) / mse));
}
