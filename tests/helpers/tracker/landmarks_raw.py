#!/usr/bin/env python3
"""Reference landmarks for the TypeScript tracker's tests: models/mediapipe/landmarks.py's
FaceLandmarker run on raw RGB24 frames read from stdin (so both sides see the very same
bytes, whatever video decoder). Writes float32 [frames, 468, 3] to stdout (NaN rows: no face),
then a JSON line of counters to stderr.

usage: python landmarks_raw.py WIDTH HEIGHT < frames.rgb > landmarks.f32
Needs numpy, opencv-python-headless, onnxruntime (models/mediapipe/requirements.txt).
"""
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "models" / "mediapipe"))
from landmarks import FaceLandmarker  # noqa: E402


def main() -> int:
    w, h = int(sys.argv[1]), int(sys.argv[2])
    raw = sys.stdin.buffer.read()
    n = len(raw) // (w * h * 3)
    frames = np.frombuffer(raw[: n * w * h * 3], np.uint8).reshape(n, h, w, 3)
    fl = FaceLandmarker(threads=1)
    out = np.full((n, 468, 3), np.nan, np.float32)
    presence = []
    for i in range(n):
        pts, p = fl.process(np.ascontiguousarray(frames[i]))
        presence.append(p)
        if pts is not None:
            out[i] = pts
    sys.stdout.buffer.write(out.tobytes())
    sys.stderr.write(json.dumps({"frames": n, "detector_runs": fl.detector_runs,
                                 "presence": [round(float(p), 6) for p in presence]}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
