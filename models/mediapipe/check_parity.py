#!/usr/bin/env python3
"""Parity of the converted ONNX networks against the original .tflite files.

Runs tf.lite.Interpreter (default XNNPACK kernels, and TFLite's builtin kernels without
delegates) and onnxruntime on the same inputs, and prints the max absolute difference per
output (columns: max|ref| = largest tflite output magnitude; onnx-xnn, onnx-ref = ONNX against
each tflite kernel set; xnn-ref = the two tflite kernel sets against each other). Inputs:
  * synthetic images (deterministic: a drawn face, smooth patterns, uniform noise);
  * real frames from the clips in DATA/clips (if present): the whole frame letterboxed for the
    detector, and 192x192 face crops (from the detection ROI and from the tracked ROI, exactly
    as landmarks.py builds them) for the landmark model. Frames are used in memory only.
Fails (exit 1) if any difference exceeds --tol (default 1e-3); for the all-black stress input
the difference is divided by max(1, max|ref|) first.

It also writes the Node test fixture (--fixture-dir): one synthetic image per model (uint8,
gzip) and the tflite outputs for it; tests/unit/mediapipe-onnx-parity.test.ts checks the ONNX
files against it without Python.

Usage:
  python models/mediapipe/check_parity.py --assets /tmp/mp_assets [--data ../shared/data]
"""
from __future__ import annotations

import argparse
import base64
import gzip
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent

# Per model: input size, and MediaPipe's normalisation float32(u8 / div + offset).
MODELS = {
    "face_detection_short_range": {"size": 128, "div": 127.5, "offset": -1.0,
                                   "outputs": ["regressors", "classificators"]},
    "face_landmark": {"size": 192, "div": 255.0, "offset": 0.0,
                      "outputs": ["landmarks", "face_flag"]},
}


# Inputs far outside what a camera gives: an all-black frame drives the detector's outputs to
# ~3e4, where TFLite's own two kernel sets already differ by ~5e-2. Gated relatively (see below).
STRESS = {("face_detection_short_range", "synthetic_black")}


def normalise(u8: np.ndarray, model: str) -> np.ndarray:
    # Computed in float64 then rounded once, so JavaScript (doubles + Math.fround) gets the
    # very same float32 input from the same bytes.
    m = MODELS[model]
    return (u8.astype(np.float64) / m["div"] + m["offset"]).astype(np.float32)[None]


def synthetic_face(size: int) -> np.ndarray:
    """A drawn face (skin ellipse, eyes, brows, nose, mouth) on a gradient background."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) / size
    img = np.stack([40 + 120 * xx, 60 + 80 * yy, 90 + 60 * (1 - xx)], axis=-1)

    def ellipse(cx, cy, rx, ry):
        return ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 <= 1.0

    skin = np.array([224, 172, 140])
    img[ellipse(0.5, 0.52, 0.30, 0.38)] = skin
    for cx in (0.38, 0.62):
        img[ellipse(cx, 0.42, 0.065, 0.03)] = [250, 250, 250]
        img[ellipse(cx, 0.42, 0.025, 0.025)] = [60, 40, 30]
        img[ellipse(cx, 0.35, 0.08, 0.012)] = [90, 60, 40]
    img[ellipse(0.5, 0.55, 0.03, 0.08)] = skin * 0.85
    img[ellipse(0.5, 0.70, 0.10, 0.025)] = [170, 70, 70]
    # Smooth shading so the image is not piecewise constant.
    img *= (0.85 + 0.15 * np.cos(3 * xx + 2 * yy))[..., None]
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def synthetic_inputs(size: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1234)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) / size
    waves = np.stack([np.sin(6 * xx + 1), np.cos(9 * yy), np.sin(5 * (xx + yy))], -1)
    return {
        "synthetic_face": synthetic_face(size),
        "synthetic_waves": np.round(127.5 + 127.5 * waves).astype(np.uint8),
        "synthetic_noise": rng.integers(0, 256, (size, size, 3), dtype=np.uint8),
        "synthetic_black": np.zeros((size, size, 3), np.uint8),
    }


def real_inputs(data: Path, n_clips: int) -> dict[str, dict[str, np.ndarray]]:
    """Detector and landmark inputs (uint8) cut from real clips, in memory only."""
    import cv2
    from landmarks import FaceLandmarker, roi_from_points

    clips = sorted(p for p in (data / "clips").glob("*") if p.suffix in (".mp4", ".mkv", ".webm", ".mov"))
    if not clips:
        return {"face_detection_short_range": {}, "face_landmark": {}}
    step = max(1, len(clips) // n_clips)
    fl = FaceLandmarker(HERE)
    det, lmk = {}, {}
    for clip in clips[::step][:n_clips]:
        cap = cv2.VideoCapture(str(clip))
        cap.set(cv2.CAP_PROP_POS_FRAMES, 10)
        ok, bgr = cap.read()
        if not ok:
            continue
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        name = clip.stem[:48]
        _, letterbox = fl.detector_input(rgb)
        det[name] = letterbox.crop(rgb, 128, cv2.BORDER_CONSTANT)
        dets = fl.detect(rgb)
        if not dets:
            continue
        best = max(dets, key=lambda d: d.score)
        roi = roi_from_points(best.box, best.keypoints[0], best.keypoints[1])
        lmk[name + "/det_roi"] = roi.crop(rgb, 192, cv2.BORDER_REPLICATE)
        pts, _ = fl.landmarks_in_roi(rgb, roi)
        lmk[name + "/track_roi"] = fl.roi_from_landmarks(pts).crop(rgb, 192, cv2.BORDER_REPLICATE)
    return {"face_detection_short_range": det, "face_landmark": lmk}


class TfliteRunner:
    def __init__(self, path: Path, builtin_only: bool):
        import tensorflow as tf

        kind = (tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
                if builtin_only else tf.lite.experimental.OpResolverType.AUTO)
        self.it = tf.lite.Interpreter(model_path=str(path), experimental_op_resolver_type=kind)
        self.it.allocate_tensors()

    def run(self, x: np.ndarray) -> list[np.ndarray]:
        self.it.set_tensor(self.it.get_input_details()[0]["index"], x)
        self.it.invoke()
        # Output order of the tflite subgraph = order of the ONNX outputs (convert.py keeps it).
        return [self.it.get_tensor(o["index"]).copy() for o in self.it.get_output_details()]


def b64(a: np.ndarray) -> str:
    return base64.b64encode(a.tobytes()).decode()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--assets", type=Path, default=Path("/tmp/mp_assets"),
                    help="folder with the .tflite files (extract_assets.py --out)")
    ap.add_argument("--onnx-dir", type=Path, default=HERE)
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--clips", type=int, default=8, help="how many clips to take real frames from")
    ap.add_argument("--tol", type=float, default=1e-3)
    ap.add_argument("--fixture-dir", type=Path, default=REPO / "tests" / "fixtures" / "mediapipe")
    ap.add_argument("--no-fixture", action="store_true")
    args = ap.parse_args(argv)

    if (args.data / "clips").is_dir():
        real = real_inputs(args.data, args.clips)
    else:
        print(f"note: {args.data}/clips not found: synthetic inputs only")
        real = {m: {} for m in MODELS}

    failures = []
    import tensorflow as tf

    fixture = {"generator": "models/mediapipe/check_parity.py",
               "reference": f"tf.lite.Interpreter (tensorflow {tf.__version__}), default XNNPACK kernels",
               "models": {}}
    print(f"{'model':27s} {'input':58s} {'output':14s} {'max|ref|':>9s} {'onnx-xnn':>9s} "
          f"{'onnx-ref':>9s} {'xnn-ref':>9s}")
    for model, spec in MODELS.items():
        sess = ort.InferenceSession(str(args.onnx_dir / f"{model}.onnx"), providers=["CPUExecutionProvider"])
        tfl_xnn = TfliteRunner(args.assets / f"{model}.tflite", builtin_only=False)
        tfl_ref = TfliteRunner(args.assets / f"{model}.tflite", builtin_only=True)
        inputs = {**synthetic_inputs(spec["size"]), **real[model]}
        worst = {o: {"abs": 0.0, "stress_rel": 0.0} for o in spec["outputs"]}
        for name, u8 in inputs.items():
            x = normalise(u8, model)
            got = sess.run(spec["outputs"], {"input": x})
            a, b = tfl_xnn.run(x), tfl_ref.run(x)
            for out_name, g, ra, rb in zip(spec["outputs"], got, a, b):
                ra, rb = ra.reshape(g.shape), rb.reshape(g.shape)
                d_x, d_b, d_xb = (float(np.abs(p - q).max()) for p, q in ((g, ra), (g, rb), (ra, rb)))
                scale = float(np.abs(ra).max())
                d = max(d_x, d_b)
                if (model, name) in STRESS:
                    # Outputs in the tens of thousands: float32 spacing there is ~2e-3, so the
                    # gate is relative to the output's magnitude.
                    rel = d / max(1.0, scale)
                    worst[out_name]["stress_rel"] = max(worst[out_name]["stress_rel"], rel)
                    ok = rel <= args.tol
                else:
                    worst[out_name]["abs"] = max(worst[out_name]["abs"], d)
                    ok = d <= args.tol
                if not ok:
                    failures.append(f"{model}/{name}/{out_name}")
                tag = " (stress, relative gate)" if (model, name) in STRESS else ""
                print(f"{model:27s} {name:58s} {out_name:14s} {scale:9.3g} {d_x:9.2e} {d_b:9.2e} "
                      f"{d_xb:9.2e}{tag}")
            if name == "synthetic_face" and not args.no_fixture:
                fixture["models"][model] = {
                    "onnx": f"models/mediapipe/{model}.onnx",
                    "input_name": "input",
                    "input_shape": [1, spec["size"], spec["size"], 3],
                    "input_rule": f"float32(u8 / {spec['div']} + {spec['offset']}) computed in float64",
                    "div": spec["div"], "offset": spec["offset"],
                    "image_u8_gzip_b64": base64.b64encode(gzip.compress(u8.tobytes(), 9, mtime=0)).decode(),
                    "outputs": {o: {"shape": list(g.shape), "f32_b64": b64(r.reshape(g.shape).astype("<f4"))}
                                for o, g, r in zip(spec["outputs"], got, a)},
                }
        n_real = len(real[model])
        print(f"SUMMARY {model}: {len(inputs)} inputs ({len(inputs) - n_real} synthetic, {n_real} real "
              f"frames); max |onnx - tflite| over non-stress inputs: "
              + ", ".join(f"{o} {v['abs']:.2e}" for o, v in worst.items())
              + ("; stress (all-black) relative: "
                 + ", ".join(f"{o} {v['stress_rel']:.2e}" for o, v in worst.items())
                 if any(m == model for m, _ in STRESS) else ""))

    if not args.no_fixture:
        args.fixture_dir.mkdir(parents=True, exist_ok=True)
        path = args.fixture_dir / "parity_fixture.json"
        path.write_text(json.dumps(fixture, indent=1) + "\n")
        print(f"fixture: {path} ({path.stat().st_size} bytes)")
    print(f"tolerance {args.tol:g}: " + ("PASS" if not failures else "FAIL " + ", ".join(failures)))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
