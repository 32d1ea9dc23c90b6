#!/usr/bin/env python3
"""Pack the prepared data small enough to travel to a GPU machine that reaches nothing.

    python models/train/data/pack.py [--data ~/.cache/kiloface/train-data/v1] [--out DIR] [--crf 18]

Writes DIR (default <data>-packed) with:
  <id>.mp4        the 256x256 25 fps crop re-encoded as H.264 yuv420p at --crf (default 18)
  landmarks.npy.xz  two .npy arrays in one xz stream, all clips in index order: int16
                  [N, 468, 3] time-differences (restarting at each clip) of round(landmarks * 16)
                  (1/16 px steps: at most 1/32 px off, below MediaPipe's frame-to-frame jitter;
                  float16 would be coarser, 1/8 px between 128 and 256 px, and twice the size)
                  and bool [N], the face mask
  index.json      the split, the clip order and the per-clip metadata (<id>.json of the preparation)
`load_packed(DIR)` gives back {id: float32 [T, 468, 3] with NaN rows} and the index.
Needs numpy (and ffmpeg to pack).
"""
from __future__ import annotations

import argparse
import json
import lzma
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

LANDMARK_STEP = 1 / 16   # pixels per quantisation step


def quantise(lm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """float [T, 468, 3] with NaN rows -> (int16 time-differences [T, 468, 3], face mask [T]).
    Rows without a face repeat the previous value (difference 0), so they cost almost nothing."""
    face = np.isfinite(lm).all(axis=(1, 2))
    q = np.zeros(lm.shape, np.int32)
    q[face] = np.round(lm[face] / LANDMARK_STEP).astype(np.int32)
    last = np.zeros(lm.shape[1:], np.int32)
    for i in range(len(q)):  # fill gaps with the previous face
        if face[i]:
            last = q[i]
        else:
            q[i] = last
    dq = np.diff(q, axis=0, prepend=np.zeros((1, *lm.shape[1:]), np.int32))
    if np.abs(dq).max(initial=0) > np.iinfo(np.int16).max:
        raise ValueError("a landmark moved more than 2047 px between frames")
    return dq.astype(np.int16), face


def dequantise(dq: np.ndarray, face: np.ndarray) -> np.ndarray:
    lm = (np.cumsum(dq, axis=0, dtype=np.int64) * LANDMARK_STEP).astype(np.float32)
    lm[~face] = np.nan
    return lm


def load_packed(packed_dir: Path) -> tuple[dict[str, np.ndarray], dict]:
    """{clip id: float32 landmarks [T, 468, 3] in crop pixels, NaN rows}, index.json."""
    packed_dir = Path(packed_dir)
    index = json.loads((packed_dir / "index.json").read_text())
    with lzma.open(packed_dir / "landmarks.npy.xz", "rb") as f:
        dq, face = np.load(f), np.load(f)
    lms, start = {}, 0
    for cid in index["clips"]:
        n = index["meta"][cid]["frames"]
        lms[cid] = dequantise(dq[start:start + n], face[start:start + n])
        start += n
    return lms, index


def main(argv=None) -> int:
    from prepare import FFMPEG, default_out_dir  # here: loading needs only numpy

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=default_out_dir())
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--crf", type=int, default=18)
    args = ap.parse_args(argv)
    out = args.out or args.data.with_name(args.data.name + "-packed")
    out.mkdir(parents=True, exist_ok=True)
    os.nice(10)
    t0 = time.perf_counter()
    split = json.loads((args.data / "split.json").read_text())
    metas = {}
    arrays = {}
    worst = 0.0
    for p in sorted(args.data.glob("*.json")):
        meta = json.loads(p.read_text())
        if meta.get("status") != "ok":
            continue
        cid = meta["id"]
        metas[cid] = meta
        dst = out / f"{cid}.mp4"
        if not dst.exists():
            tmp = out / f"{cid}.partial.mp4"
            subprocess.run([FFMPEG, "-v", "error", "-y", "-i", str(args.data / f"{cid}.mp4"),
                            "-c:v", "libx264", "-preset", "slow", "-crf", str(args.crf), "-pix_fmt", "yuv420p",
                            "-movflags", "+faststart", str(tmp)], check=True)
            os.replace(tmp, dst)
        lm = np.load(args.data / f"{cid}.landmarks.npy")
        dq, face = quantise(lm)
        back = dequantise(dq, face)
        worst = max(worst, float(np.nanmax(np.abs(back - lm))) if face.any() else 0.0)
        arrays[f"{cid}.q"], arrays[f"{cid}.face"] = dq, face
        print(f"{len(metas)}: {cid} {dst.stat().st_size / 1e3:.0f} kB", flush=True)
    ids = sorted(metas)
    with lzma.open(out / "landmarks.npy.xz.partial", "wb", preset=6) as f:
        np.save(f, np.concatenate([arrays[f"{c}.q"] for c in ids]))
        np.save(f, np.concatenate([arrays[f"{c}.face"] for c in ids]))
    os.replace(out / "landmarks.npy.xz.partial", out / "landmarks.npy.xz")
    (out / "index.json").write_text(json.dumps({"split": split, "clips": ids, "meta": metas,
                                                "landmark_step_px": LANDMARK_STEP, "crf": args.crf}) + "\n")
    sizes = {"mp4": sum((out / f"{c}.mp4").stat().st_size for c in metas),
             "landmarks.npy.xz": (out / "landmarks.npy.xz").stat().st_size,
             "index.json": (out / "index.json").stat().st_size}
    total = sum(sizes.values())
    print(json.dumps({"out": str(out), "clips": len(metas), "bytes": sizes, "total_MiB": round(total / 2 ** 20, 2),
                      "landmark_max_abs_error_px": worst, "seconds": round(time.perf_counter() - t0, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
