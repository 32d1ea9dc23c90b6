// A video frame as the tracker takes it: packed 8-bit RGB or RGBA rows, no stride padding.
// Browsers hand over ImageData / a copied VideoFrame (RGBA); Node tools decode video to RGB.

export interface ImageLike {
  /** width * height * channels bytes, row-major, top row first. */
  readonly data: Uint8Array | Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
  /** 3 = RGB, 4 = RGBA (alpha ignored). */
  readonly channels: 3 | 4;
}

export function checkImage(image: ImageLike): void {
  const { width, height, channels, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`image size must be positive integers, got ${width}x${height}`);
  }
  if (channels !== 3 && channels !== 4) throw new RangeError(`image channels must be 3 or 4, got ${String(channels)}`);
  if (data.length !== width * height * channels) {
    throw new RangeError(`image data has ${data.length} bytes, expected ${width}x${height}x${channels} = ${width * height * channels}`);
  }
}
