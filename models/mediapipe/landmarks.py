#!/usr/bin/env python3
"""468 face landmarks per frame with the converted MediaPipe networks (ONNX, onnxruntime).

Reproduces MediaPipe Face Mesh's CPU graph (face_detection_short_range_common.pbtxt,
face_detection_front_detection_to_roi.pbtxt, face_landmark_cpu.pbtxt,
face_landmark_landmarks_to_roi.pbtxt) for one face:

  detector  : whole frame letterboxed to 128x128 (black border), RGB in [-1, 1];
              896 SSD anchors decoded, sigmoid score >= 0.5, weighted NMS at IoU 0.3.
  ROI       : detection box, rotated so that keypoint 0 -> keypoint 1 (the eyes) is
              horizontal, made square on its long side, scaled 1.5x.
  landmarks : ROI warped to 192x192 (bilinear, replicated border), RGB in [0, 1];
              face_flag -> sigmoid = presence; landmarks projected back to image pixels.
  tracking  : next ROI from the landmarks (bounding box of all 468, rotation from points
              33 -> 263, square, 1.5x); the detector runs again only when presence < 0.5.

No temporal smoothing here: the raw per-frame landmarks are what PCA fitting and training
data need; the codec's tracker smooths.

CLI:  python models/mediapipe/landmarks.py VIDEO --out landmarks.npy [--threads 1]
      writes float32 [frames, 468, 3] (x, y in image pixels, z in pixels at the same scale,
      negative towards the camera); NaN rows for frames without a face.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

HERE = Path(__file__).resolve().parent
DETECTOR_SIZE = 128
LANDMARK_SIZE = 192


def ssd_anchors() -> np.ndarray:
    """Anchor centres [896, 2] (x, y in [0, 1]) of face_detection_short_range.

    SsdAnchorsCalculator options: num_layers 4, strides [8, 16, 16, 16], input 128x128,
    anchor_offset 0.5, aspect_ratios [1.0], interpolated_scale_aspect_ratio 1.0,
    fixed_anchor_size true. Consecutive layers with the same stride share one grid, and each
    layer adds 2 anchors per cell (aspect ratio 1 plus the interpolated scale), so:
    stride 8 -> 16x16 cells x 2 = 512 anchors, stride 16 -> 8x8 cells x 6 = 384 anchors.
    With fixed_anchor_size every anchor has width = height = 1, so only centres matter.
    """
    strides = [8, 16, 16, 16]
    out = []
    layer = 0
    while layer < len(strides):
        run = 0  # consecutive layers with this stride
        while layer + run < len(strides) and strides[layer + run] == strides[layer]:
            run += 1
        grid = math.ceil(DETECTOR_SIZE / strides[layer])
        for y in range(grid):
            for x in range(grid):
                out += [((x + 0.5) / grid, (y + 0.5) / grid)] * (2 * run)
        layer += run
    return np.asarray(out, dtype=np.float32)


@dataclass
class Detection:
    box: np.ndarray  # [xmin, ymin, xmax, ymax] in image pixels
    keypoints: np.ndarray  # [6, 2] image pixels: eye (image left), eye (image right), nose, mouth, ear, ear
    score: float


@dataclass
class Roi:
    """Square, rotated region in image pixels (MediaPipe's NormalizedRect, in pixels)."""
    cx: float
    cy: float
    size: float
    angle: float  # radians; the ROI's x axis points along (cos, sin) in image coords (y down)

    def to_image(self, uv: np.ndarray) -> np.ndarray:
        """Map points in ROI fractions ([0,1] x [0,1], shape [N,2]) to image pixels."""
        a = uv[:, 0] - 0.5
        b = uv[:, 1] - 0.5
        c, s = math.cos(self.angle), math.sin(self.angle)
        return np.stack([self.cx + self.size * (c * a - s * b),
                         self.cy + self.size * (s * a + c * b)], axis=1)

    def crop(self, image: np.ndarray, out_size: int, border: int) -> np.ndarray:
        """Warp the ROI to out_size x out_size. Corners map to corners, as in MediaPipe's
        ImageToTensorCalculator (OpenCV path), so landmark x/out_size is the ROI fraction."""
        src = self.to_image(np.array([[0, 0], [1, 0], [0, 1]], dtype=np.float64))
        dst = np.array([[0, 0], [out_size, 0], [0, out_size]], dtype=np.float64)
        m = cv2.getAffineTransform(src.astype(np.float32), dst.astype(np.float32))
        return cv2.warpAffine(image, m, (out_size, out_size), flags=cv2.INTER_LINEAR,
                              borderMode=border, borderValue=(0, 0, 0))


def _normalize_angle(a: float) -> float:
    return a - 2 * math.pi * math.floor((a + math.pi) / (2 * math.pi))


def roi_from_points(box: np.ndarray, p0: np.ndarray, p1: np.ndarray, scale: float = 1.5) -> Roi:
    """DetectionsToRects (rotation from p0 -> p1, target angle 0) + RectTransformation
    (square_long, scale 1.5): both MediaPipe ROI rules, in pixels."""
    angle = _normalize_angle(math.atan2(p1[1] - p0[1], p1[0] - p0[0]))
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    size = max(box[2] - box[0], box[3] - box[1]) * scale
    return Roi(float(cx), float(cy), float(size), angle)


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    x0, y0 = np.maximum(a[0], b[:, 0]), np.maximum(a[1], b[:, 1])
    x1, y1 = np.minimum(a[2], b[:, 2]), np.minimum(a[3], b[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = lambda r: (r[..., 2] - r[..., 0]) * (r[..., 3] - r[..., 1])  # noqa: E731
    union = area(a) + area(b) - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def weighted_nms(boxes: np.ndarray, kps: np.ndarray, scores: np.ndarray, thresh: float = 0.3):
    """MediaPipe's WEIGHTED non-max suppression: each kept detection is the score-weighted
    mean of all detections overlapping it by IoU > thresh; its score is the best one's."""
    order = np.argsort(-scores)
    boxes, kps, scores = boxes[order], kps[order], scores[order]
    out = []
    alive = np.ones(len(scores), dtype=bool)
    for i in range(len(scores)):
        if not alive[i]:
            continue
        idx = np.nonzero(alive)[0]
        group = idx[_iou(boxes[i], boxes[idx]) > thresh]
        group = np.union1d(group, [i])
        w = scores[group][:, None]
        out.append((
            (boxes[group] * w).sum(0) / w.sum(),
            (kps[group].reshape(len(group), -1) * w).sum(0).reshape(-1, 2) / w.sum(),
            float(scores[i]),
        ))
        alive[group] = False
    return out


def _session(path: Path, threads: int) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


class FaceLandmarker:
    def __init__(self, model_dir: Path = HERE, threads: int = 1,
                 min_detection_score: float = 0.5, min_presence: float = 0.5):
        self.detector = _session(model_dir / "face_detection_short_range.onnx", threads)
        self.landmarker = _session(model_dir / "face_landmark.onnx", threads)
        self.anchors = ssd_anchors()
        self.min_detection_score = min_detection_score
        self.min_presence = min_presence
        self.roi: Roi | None = None  # tracked ROI for the next frame
        self.detector_runs = 0

    # -- detector ---------------------------------------------------------------------------
    def detector_input(self, rgb: np.ndarray) -> tuple[np.ndarray, Roi]:
        h, w = rgb.shape[:2]
        # keep_aspect_ratio: the whole frame, letterboxed into a centred square (black border).
        roi = Roi(w / 2, h / 2, float(max(w, h)), 0.0)
        crop = roi.crop(rgb, DETECTOR_SIZE, cv2.BORDER_CONSTANT)
        x = crop.astype(np.float32) / 127.5 - 1.0
        return x[None], roi

    def decode(self, regressors: np.ndarray, classificators: np.ndarray, roi: Roi) -> list[Detection]:
        raw = regressors[0]
        # score_clipping_thresh 100; float64 so that exp(100) does not overflow.
        logits = np.clip(classificators[0, :, 0].astype(np.float64), -100.0, 100.0)
        scores = 1.0 / (1.0 + np.exp(-logits))
        keep = scores >= self.min_detection_score
        if not keep.any():
            return []
        raw, scores, anchors = raw[keep], scores[keep], self.anchors[keep]
        # reverse_output_order: (x_center, y_center, w, h), then 6 keypoints (x, y); all in
        # 128-pixel tensor units relative to the anchor centre (x/y/w/h_scale = 128).
        xy = raw[:, 0:2] / DETECTOR_SIZE + anchors
        wh = raw[:, 2:4] / DETECTOR_SIZE
        kps = raw[:, 4:16].reshape(-1, 6, 2) / DETECTOR_SIZE + anchors[:, None, :]
        boxes_t = np.concatenate([xy - wh / 2, xy + wh / 2], axis=1)
        dets = []
        for box_t, kp_t, score in weighted_nms(boxes_t, kps, scores, 0.3):
            corners = roi.to_image(box_t.reshape(2, 2))  # letterbox has no rotation
            dets.append(Detection(corners.reshape(4), roi.to_image(kp_t), score))
        return dets

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        x, roi = self.detector_input(rgb)
        regressors, classificators = self.detector.run(None, {"input": x})
        self.detector_runs += 1
        return self.decode(regressors, classificators, roi)

    # -- landmarks --------------------------------------------------------------------------
    @staticmethod
    def landmark_input(rgb: np.ndarray, roi: Roi) -> np.ndarray:
        crop = roi.crop(rgb, LANDMARK_SIZE, cv2.BORDER_REPLICATE)
        return (crop.astype(np.float32) / 255.0)[None]

    def landmarks_in_roi(self, rgb: np.ndarray, roi: Roi) -> tuple[np.ndarray, float]:
        lm, flag = self.landmarker.run(None, {"input": self.landmark_input(rgb, roi)})
        presence = 1.0 / (1.0 + math.exp(-float(flag[0, 0])))
        pts = lm[0]  # [468, 3] in 192-pixel crop units
        xy = roi.to_image(pts[:, :2] / LANDMARK_SIZE)
        z = pts[:, 2:3] / LANDMARK_SIZE * roi.size  # MediaPipe scales z like x
        return np.concatenate([xy, z], axis=1).astype(np.float32), presence

    @staticmethod
    def roi_from_landmarks(pts: np.ndarray) -> Roi:
        box = np.array([pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max()])
        return roi_from_points(box, pts[33, :2], pts[263, :2])  # outer eye corners

    def process(self, rgb: np.ndarray) -> tuple[np.ndarray | None, float]:
        """One RGB uint8 frame -> (landmarks [468, 3] in image pixels, or None; presence)."""
        if self.roi is None:
            dets = self.detect(rgb)
            if not dets:
                return None, 0.0
            best = max(dets, key=lambda d: d.score)
            self.roi = roi_from_points(best.box, best.keypoints[0], best.keypoints[1])
        pts, presence = self.landmarks_in_roi(rgb, self.roi)
        if presence < self.min_presence:
            self.roi = None  # lost: detect again on the next frame
            return None, presence
        self.roi = self.roi_from_landmarks(pts)
        return pts, presence

    def reset(self):
        self.roi = None


def run_video(path: Path, out: Path, threads: int, max_frames: int | None) -> dict:
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise SystemExit(f"cannot open {path}")
    fl = FaceLandmarker(threads=threads)
    frames, presences = [], []
    t_model = 0.0
    t0 = time.perf_counter()
    while max_frames is None or len(frames) < max_frames:
        ok, bgr = cap.read()
        if not ok:
            break
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        t = time.perf_counter()
        pts, presence = fl.process(rgb)
        t_model += time.perf_counter() - t
        frames.append(pts if pts is not None else np.full((468, 3), np.nan, np.float32))
        presences.append(presence)
    wall = time.perf_counter() - t0
    arr = np.stack(frames) if frames else np.zeros((0, 468, 3), np.float32)
    np.save(out, arr)
    n = len(frames)
    stats = {
        "video": str(path), "out": str(out), "frames": n,
        "frames_with_face": int(np.isfinite(arr[:, 0, 0]).sum()) if n else 0,
        "detector_runs": fl.detector_runs,
        "ms_per_frame_pipeline": round(1000 * t_model / max(n, 1), 2),
        "ms_per_frame_including_decode": round(1000 * wall / max(n, 1), 2),
        "threads": threads,
    }
    return stats


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("video", type=Path)
    ap.add_argument("--out", type=Path, required=True, help=".npy, float32 [frames, 468, 3]")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--max-frames", type=int, default=None)
    args = ap.parse_args(argv)
    print(json.dumps(run_video(args.video, args.out, args.threads, args.max_frames)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
