import { readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { generateAnchors, type SsdAnchorOptions } from '../../../codec/tracker/anchors.ts';
import * as mp from '../../../codec/tracker/mediapipe-face.ts';
import { MODEL_DIR } from '../../helpers/tracker/video.ts';

const anchor = (data: Float32Array, i: number) => Array.from(data.subarray(4 * i, 4 * i + 4));

describe('SSD anchors (MediaPipe SsdAnchorsCalculator)', () => {
  const anchors = generateAnchors(mp.DETECTOR_ANCHORS);

  it('face_detection_short_range: 896 anchors, 16x16 cells x 2 then 8x8 cells x 6, width = height = 1', () => {
    expect(anchors.count).toBe(896);
    expect(anchor(anchors.data, 0)).toEqual([0.03125, 0.03125, 1, 1]); // (0 + 0.5) / 16
    expect(anchor(anchors.data, 1)).toEqual([0.03125, 0.03125, 1, 1]); // 2 anchors per stride-8 cell
    expect(anchor(anchors.data, 2)).toEqual([0.09375, 0.03125, 1, 1]); // next cell to the right: x inner
    expect(anchor(anchors.data, 32)).toEqual([0.03125, 0.09375, 1, 1]); // next row
    expect(anchor(anchors.data, 511)).toEqual([0.96875, 0.96875, 1, 1]); // last stride-8 cell
    expect(anchor(anchors.data, 512)).toEqual([0.0625, 0.0625, 1, 1]); // first stride-16 cell: (0 + 0.5) / 8
    expect(anchor(anchors.data, 517)).toEqual([0.0625, 0.0625, 1, 1]); // 6 anchors per stride-16 cell
    expect(anchor(anchors.data, 518)).toEqual([0.1875, 0.0625, 1, 1]);
    expect(anchor(anchors.data, 895)).toEqual([0.9375, 0.9375, 1, 1]);
  });

  it('sizes follow the scale schedule when anchors are not fixed-size', () => {
    const options: SsdAnchorOptions = { ...mp.DETECTOR_ANCHORS, numLayers: 2, strides: [32, 64], minScale: 0.2, maxScale: 0.8, aspectRatios: [1, 4], fixedAnchorSize: false };
    const a = generateAnchors(options);
    // layer 0: 4x4 cells x (2 ratios + 1 interpolated); layer 1: 2x2 x 3
    expect(a.count).toBe(16 * 3 + 4 * 3);
    const [x, y, w0, h0] = anchor(a.data, 0);
    expect([x, y]).toEqual([0.125, 0.125]);
    expect(w0).toBeCloseTo(0.2, 6);
    expect(h0).toBeCloseTo(0.2, 6);
    const [, , w1, h1] = anchor(a.data, 1); // aspect 4: w = s * 2, h = s / 2
    expect(w1).toBeCloseTo(0.4, 6);
    expect(h1).toBeCloseTo(0.1, 6);
    const [, , w2, h2] = anchor(a.data, 2); // interpolated: sqrt(0.2 * 0.8)
    expect(w2).toBeCloseTo(0.4, 6);
    expect(h2).toBeCloseTo(0.4, 6);
    const [, , w3] = anchor(a.data, 48 + 2); // last layer interpolates towards scale 1
    expect(w3).toBeCloseTo(Math.sqrt(0.8), 6);
  });

  it('the tracker constants agree with models/mediapipe/model.json', () => {
    const manifest = JSON.parse(readFileSync(path.join(MODEL_DIR, 'model.json'), 'utf8'));
    const det = manifest.models.detector;
    const lm = manifest.models.landmarks;
    expect(det.file).toBe(mp.DETECTOR_FILE);
    expect(lm.file).toBe(mp.LANDMARK_FILE);
    expect(det.input.shape).toEqual([1, mp.DETECTOR_INPUT_SIZE, mp.DETECTOR_INPUT_SIZE, 3]);
    expect(lm.input.shape).toEqual([1, mp.LANDMARK_INPUT_SIZE, mp.LANDMARK_INPUT_SIZE, 3]);
    expect(det.input.name).toBe(mp.INPUT_NAME);
    expect(lm.outputs.landmarks.shape).toEqual([1, mp.LANDMARK_COUNT, 3]);
    const a = det.anchors;
    expect({
      numLayers: a.num_layers, minScale: a.min_scale, maxScale: a.max_scale, inputSizeHeight: a.input_size_height, inputSizeWidth: a.input_size_width,
      anchorOffsetX: a.anchor_offset_x, anchorOffsetY: a.anchor_offset_y, strides: a.strides, aspectRatios: a.aspect_ratios,
      interpolatedScaleAspectRatio: a.interpolated_scale_aspect_ratio, fixedAnchorSize: a.fixed_anchor_size, reduceBoxesInLowestLayer: false,
    }).toEqual(mp.DETECTOR_ANCHORS);
    const d = det.decode;
    const { numValuesPerKeypoint, ...decode } = mp.DETECTOR_DECODE;
    expect(numValuesPerKeypoint).toBe(2); // x, y per keypoint (model.json: "6 keypoints (x, y)")
    expect({
      numCoords: d.num_coords, boxCoordOffset: d.box_coord_offset, keypointCoordOffset: d.keypoint_coord_offset, numKeypoints: d.num_keypoints,
      reverseOutputOrder: d.reverse_output_order, xScale: d.x_scale, yScale: d.y_scale, wScale: d.w_scale, hScale: d.h_scale,
      sigmoidScore: d.sigmoid_score, scoreClippingThresh: d.score_clipping_thresh, minScoreThresh: d.min_score_thresh,
      minSuppressionThreshold: d.nms.min_suppression_threshold,
    }).toEqual(decode);
    expect(d.nms.algorithm).toBe('WEIGHTED');
    expect(d.nms.overlap_type).toBe('INTERSECTION_OVER_UNION');
    expect(lm.roi.from_detection.rotation_keypoints).toEqual([mp.KEYPOINT_RIGHT_EYE, mp.KEYPOINT_LEFT_EYE]);
    expect(lm.roi.from_landmarks.rotation_landmarks).toEqual([mp.LANDMARK_EYE_LEFT_IN_IMAGE, mp.LANDMARK_EYE_RIGHT_IN_IMAGE]);
    expect(lm.roi.from_detection.scale).toBe(mp.ROI_SCALE);
    expect(lm.roi.from_landmarks.scale).toBe(mp.ROI_SCALE);
  });
});
