// SSD anchors as MediaPipe's SsdAnchorsCalculator makes them (mediapipe/calculators/tflite/
// ssd_anchors_calculator.cc), for any option set; the face detector's options are in
// mediapipe-face.ts. Consecutive layers with the same stride share one feature map and pool
// their anchors per cell.

export interface SsdAnchorOptions {
  numLayers: number;
  minScale: number;
  maxScale: number;
  inputSizeHeight: number;
  inputSizeWidth: number;
  anchorOffsetX: number;
  anchorOffsetY: number;
  strides: readonly number[];
  aspectRatios: readonly number[];
  interpolatedScaleAspectRatio: number;
  fixedAnchorSize: boolean;
  reduceBoxesInLowestLayer: boolean;
}

/** Anchors packed as [xCenter, yCenter, width, height] per anchor, all in [0, 1] input units. */
export interface Anchors {
  readonly count: number;
  readonly data: Float32Array;
}

function calculateScale(minScale: number, maxScale: number, strideIndex: number, numStrides: number): number {
  return numStrides === 1 ? (minScale + maxScale) * 0.5 : minScale + ((maxScale - minScale) * strideIndex) / (numStrides - 1);
}

export function generateAnchors(options: SsdAnchorOptions): Anchors {
  const { strides, numLayers } = options;
  if (strides.length !== numLayers) throw new RangeError(`strides has ${strides.length} entries for ${numLayers} layers`);
  const out: number[] = [];
  let layerId = 0;
  while (layerId < numLayers) {
    const anchorHeight: number[] = [];
    const anchorWidth: number[] = [];
    const aspectRatios: number[] = [];
    const scales: number[] = [];
    // Every layer with the same stride as this one adds its anchors to the same cells.
    let last = layerId;
    while (last < numLayers && strides[last] === strides[layerId]) {
      const scale = calculateScale(options.minScale, options.maxScale, last, numLayers);
      if (last === 0 && options.reduceBoxesInLowestLayer) {
        aspectRatios.push(1.0, 2.0, 0.5);
        scales.push(0.1, scale, scale);
      } else {
        for (const ratio of options.aspectRatios) {
          aspectRatios.push(ratio);
          scales.push(scale);
        }
        if (options.interpolatedScaleAspectRatio > 0) {
          const scaleNext = last === numLayers - 1 ? 1.0 : calculateScale(options.minScale, options.maxScale, last + 1, numLayers);
          scales.push(Math.sqrt(scale * scaleNext));
          aspectRatios.push(options.interpolatedScaleAspectRatio);
        }
      }
      last++;
    }
    for (let i = 0; i < aspectRatios.length; i++) {
      const ratioSqrt = Math.sqrt(aspectRatios[i]!);
      anchorHeight.push(scales[i]! / ratioSqrt);
      anchorWidth.push(scales[i]! * ratioSqrt);
    }
    const stride = strides[layerId]!;
    const featureMapHeight = Math.ceil(options.inputSizeHeight / stride);
    const featureMapWidth = Math.ceil(options.inputSizeWidth / stride);
    for (let y = 0; y < featureMapHeight; y++) {
      for (let x = 0; x < featureMapWidth; x++) {
        for (let id = 0; id < anchorHeight.length; id++) {
          const xCenter = (x + options.anchorOffsetX) / featureMapWidth;
          const yCenter = (y + options.anchorOffsetY) / featureMapHeight;
          const w = options.fixedAnchorSize ? 1 : anchorWidth[id]!;
          const h = options.fixedAnchorSize ? 1 : anchorHeight[id]!;
          out.push(xCenter, yCenter, w, h);
        }
      }
    }
    layerId = last;
  }
  return { count: out.length / 4, data: Float32Array.from(out) };
}
