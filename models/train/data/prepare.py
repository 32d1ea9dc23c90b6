#!/usr/bin/env python3
"""Training/evaluation data for kiloface: 256x256 25 fps face crops + 468 landmarks per frame.

For every MANIFEST.tsv row of kind `talking-head`:
  1. decode the clip at its own resolution, resampled in time to 25 fps by ffmpeg's `fps=25`
     filter (the benchmark's own rule, so training frames and bench frames are the same frames);
  2. run MediaPipe's detector + face mesh with crop tracking (models/mediapipe/landmarks.py)
     on every one of those frames;
  3. choose ONE fixed square crop for the clip from the landmarks (the crop rule, README.md);
  4. write <id>.mp4 (256x256, 25 fps, H.264 yuv444p crf 10), <id>.landmarks.npy (float32
     [T, 468, 3] in 256-crop pixels, NaN rows where no face) and <id>.json (metadata);
and split.json: people split 80/20 into train/validation by a seeded shuffle (never by clip).

    python models/train/data/prepare.py --data /work/shared/data [--out DIR]
        [--max-clips N] [--clip SUBSTRING ...] [--crop-factor 2.0]

Resumable: a clip whose three files exist and agree with the current settings is skipped.
Output dir default: $KILOFACE_CACHE_DIR/train-data/v1 (else ~/.cache/kiloface/train-data/v1).
Needs: numpy, opencv-python-headless, onnxruntime; ffmpeg/ffprobe on PATH (or $FFMPEG).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "models" / "mediapipe"))
from landmarks import FaceLandmarker  # noqa: E402  (the one landmark pipeline; not duplicated)

from crop_rule import CROP_FACTOR, OUT_SIZE, CropBox, crop_box, outside_fraction  # noqa: E402
from manifest import Clip, make_split, read_manifest  # noqa: E402

# ---- config ---------------------------------------------------------------------------------
PREP_VERSION = 1                 # bump when the output of a clip would change
OUT_FPS = 25                     # every clip resampled to 25 fps (benchmark rule)
FFMPEG = os.environ.get("FFMPEG", shutil.which("ffmpeg") or "/usr/bin/ffmpeg")
FFPROBE = os.environ.get("FFPROBE", shutil.which("ffprobe") or "/usr/bin/ffprobe")
# 4:4:4 keeps colour detail for the network's targets; crf 10 is visually lossless at 256x256.
X264_ARGS = ["-c:v", "libx264", "-preset", "slow", "-crf", "10", "-pix_fmt", "yuv444p",
             "-colorspace", "smpte170m", "-color_primaries", "smpte170m", "-color_trc", "smpte170m"]


def default_out_dir() -> Path:
    base = os.environ.get("KILOFACE_CACHE_DIR") or str(Path.home() / ".cache" / "kiloface")
    return Path(base) / "train-data" / f"v{PREP_VERSION}"


# ---- video I/O ------------------------------------------------------------------------------
def input_options(clip: Clip) -> list[str]:
    """Raw streams carry no timing (raw YUV not even a size): take both from the manifest,
    as bench/prepared-clip.ts does."""
    ext = clip.file.lower().rsplit(".", 1)[-1]
    if ext == "yuv":
        return ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-video_size",
                f"{clip.width}x{clip.height}", "-framerate", str(clip.fps)]
    if ext in ("264", "h264", "265", "hevc", "ivf", "obu"):
        return ["-r", str(clip.fps)]
    return []


def decoded_size(path: Path, clip: Clip) -> tuple[int, int]:
    """Width, height of the frames ffmpeg will hand us (after autorotation)."""
    if path.suffix.lower() == ".yuv":
        return clip.width, clip.height
    out = subprocess.run([FFPROBE, "-v", "error", "-select_streams", "v:0",
                          "-show_entries", "stream=width,height:stream_side_data=rotation",
                          "-of", "json", str(path)], capture_output=True, text=True, check=True)
    s = json.loads(out.stdout)["streams"][0]
    w, h = int(s["width"]), int(s["height"])
    rot = next((int(d.get("rotation", 0)) for d in s.get("side_data_list", []) if "rotation" in d), 0)
    return (h, w) if abs(rot) % 180 == 90 else (w, h)


def read_frames(path: Path, clip: Clip):
    """Yield RGB uint8 frames at the clip's own resolution, resampled to 25 fps by ffmpeg's
    fps filter (time-based; drops or repeats source frames, never blends them)."""
    w, h = decoded_size(path, clip)
    # ffmpeg 5.1's fps filter never ends on a raw .264 stream (its last frame has no end time:
    # it repeats that frame until memory runs out), so: raw streams already at 25 fps skip the
    # filter, and every decode is capped at the manifest's duration in 25 fps frames.
    elementary = path.suffix.lower().lstrip(".") in ("264", "h264", "265", "hevc", "ivf", "obu")
    vf = [] if elementary and clip.fps == OUT_FPS else ["-vf", f"fps={OUT_FPS}"]
    cap = math.ceil(clip.frames * OUT_FPS / clip.fps) + 2
    cmd = [FFMPEG, "-v", "error", "-nostdin", "-threads", "1", *input_options(clip), "-i", str(path),
           "-an", *vf, "-frames:v", str(cap), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    n = w * h * 3
    try:
        while True:
            buf = proc.stdout.read(n)
            if len(buf) < n:
                break
            yield np.frombuffer(buf, np.uint8).reshape(h, w, 3)
    except GeneratorExit:  # the caller stopped early: not an error
        proc.kill()
        proc.wait()
        raise
    finally:
        proc.stdout.close()
        err = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
    if proc.wait() != 0:
        raise RuntimeError(f"ffmpeg failed on {path}: {err[-500:]}")


class H264Writer:
    """256x256 RGB frames -> H.264 .mp4 through an ffmpeg pipe."""

    def __init__(self, out: Path, size: int = OUT_SIZE, fps: int = OUT_FPS, x264_args=None):
        self.proc = subprocess.Popen(
            [FFMPEG, "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
             "-s", f"{size}x{size}", "-r", str(fps), "-i", "-", *(x264_args or X264_ARGS),
             "-movflags", "+faststart", "-f", "mp4", str(out)],
            stdin=subprocess.PIPE, stderr=subprocess.PIPE)

    def write(self, rgb: np.ndarray):
        self.proc.stdin.write(np.ascontiguousarray(rgb).tobytes())

    def close(self):
        self.proc.stdin.close()
        err = self.proc.stderr.read().decode(errors="replace")
        if self.proc.wait() != 0:
            raise RuntimeError(f"x264 encode failed: {err[-500:]}")


# ---- the crop rule (crop_rule.py) and cutting it ----------------------------------------
def cut_crop(frame: np.ndarray, box: CropBox, out_size: int = OUT_SIZE) -> np.ndarray:
    """Cut the square (edge replication where it leaves the frame) and resample to out_size:
    area averaging when shrinking, bicubic when enlarging."""
    h, w = frame.shape[:2]
    rows = np.clip(np.arange(box.y, box.y + box.size), 0, h - 1)
    cols = np.clip(np.arange(box.x, box.x + box.size), 0, w - 1)
    sq = frame[rows[:, None], cols[None, :]]
    if box.size == out_size:
        return sq
    interp = cv2.INTER_AREA if box.size > out_size else cv2.INTER_CUBIC
    return cv2.resize(sq, (out_size, out_size), interpolation=interp)


# ---- one clip -------------------------------------------------------------------------------
def settings() -> dict:
    """What a finished clip must agree with to be reused."""
    return {"version": PREP_VERSION, "size": OUT_SIZE, "fps": OUT_FPS, "crop_factor": CROP_FACTOR,
            "x264": " ".join(X264_ARGS)}


def is_done(out_dir: Path, clip: Clip) -> bool:
    meta_path = out_dir / f"{clip.id}.json"
    try:
        meta = json.loads(meta_path.read_text())
        if meta.get("settings") != settings():
            return False
        if meta.get("status") == "no-face":
            return True
        lm = np.load(out_dir / f"{clip.id}.landmarks.npy", mmap_mode="r")
        return lm.shape == (meta["frames"], 468, 3) and (out_dir / f"{clip.id}.mp4").stat().st_size > 0
    except (OSError, ValueError, KeyError):
        return False


def prepare_clip(data_dir: Path, out_dir: Path, clip: Clip) -> dict:
    src = data_dir / "clips" / clip.file
    t0 = time.perf_counter()
    # Pass 1: landmarks on every 25 fps frame at source resolution.
    fl = FaceLandmarker(threads=1)
    rows, width, height = [], clip.width, clip.height
    for rgb in read_frames(src, clip):
        height, width = rgb.shape[:2]
        pts, _ = fl.process(rgb)
        rows.append(pts if pts is not None else np.full((468, 3), np.nan, np.float32))
    src_lm = np.stack(rows) if rows else np.zeros((0, 468, 3), np.float32)
    t_landmarks = time.perf_counter() - t0
    n = len(src_lm)
    faces = int(np.isfinite(src_lm[:, 0, 0]).sum())
    box = crop_box(src_lm, CROP_FACTOR)
    meta = {"id": clip.id, "source_file": clip.file, "person": clip.person,
            "source_size": [width, height], "source_fps": clip.fps, "fps": OUT_FPS, "frames": n,
            "frames_with_face": faces, "face_fraction": round(faces / max(n, 1), 4),
            "detector_runs": fl.detector_runs, "settings": settings()}
    if box is None:
        meta.update(status="no-face")
    else:
        # Pass 2: decode again, cut the fixed crop, encode.
        tmp_mp4 = out_dir / f"{clip.id}.mp4.partial.mp4"
        writer = H264Writer(tmp_mp4)
        written = 0
        for rgb in read_frames(src, clip):
            if written < n:  # same decoder, same frames; guard anyway
                writer.write(cut_crop(rgb, box))
                written += 1
        writer.close()
        if written != n:
            raise RuntimeError(f"{clip.id}: pass 2 decoded {written} frames, pass 1 {n}")
        tmp_npy = out_dir / f"{clip.id}.landmarks.partial.npy"
        np.save(tmp_npy, box.to_crop(src_lm))
        os.replace(tmp_mp4, out_dir / f"{clip.id}.mp4")
        os.replace(tmp_npy, out_dir / f"{clip.id}.landmarks.npy")
        meta.update(status="ok", crop_box={"x": box.x, "y": box.y, "size": box.size},
                    crop_outside_fraction=round(outside_fraction(box, width, height), 4))
    meta.update(seconds=round(time.perf_counter() - t0, 2), seconds_landmarks=round(t_landmarks, 2))
    tmp_json = out_dir / f"{clip.id}.json.partial"
    tmp_json.write_text(json.dumps(meta, indent=1) + "\n")
    os.replace(tmp_json, out_dir / f"{clip.id}.json")  # last: its presence marks the clip done
    return meta


# ---- main -----------------------------------------------------------------------------------
def fmt_s(s: float) -> str:
    s = int(round(s))
    return f"{s // 3600}h{s % 3600 // 60:02d}m{s % 60:02d}s" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def main(argv=None) -> int:
    global CROP_FACTOR
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data",
                    help="folder with MANIFEST.tsv and clips/ (default ../shared/data)")
    ap.add_argument("--out", type=Path, default=None, help=f"default {default_out_dir()}")
    ap.add_argument("--max-clips", type=int, default=None, help="only the first N selected clips")
    ap.add_argument("--clip", action="append", default=[],
                    help="only clips whose id or file contains this (repeatable)")
    ap.add_argument("--crop-factor", type=float, default=None, help="default 2.0 (CROP_FACTOR)")
    ap.add_argument("--nice", type=int, default=10, help="os.nice increment (shared 2-core machine)")
    args = ap.parse_args(argv)
    if args.crop_factor is not None:
        CROP_FACTOR = args.crop_factor
    if args.nice:
        os.nice(args.nice)
    out_dir = args.out or default_out_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    if not (args.data / "MANIFEST.tsv").exists():
        raise SystemExit(f"no MANIFEST.tsv in {args.data}")

    clips = read_manifest(args.data)
    split = make_split(clips)
    (out_dir / "split.json").write_text(json.dumps(split, indent=1) + "\n")
    todo = [c for c in clips if not args.clip or any(s in c.id or s in c.file for s in args.clip)]
    if args.max_clips is not None:
        todo = todo[:args.max_clips]
    print(f"prepare: {len(todo)} clip(s) of {len(clips)} ({len(split['train']['people'])} train / "
          f"{len(split['val']['people'])} val people) -> {out_dir}", flush=True)

    t_start = time.perf_counter()
    # ETA from manifest frame counts (scaled to 25 fps) and the measured seconds per frame.
    work = {c.id: c.frames * OUT_FPS / c.fps for c in todo}
    work_left, work_done, secs_done = sum(work.values()), 0.0, 0.0
    failures = []
    for i, clip in enumerate(todo, 1):
        tag = f"[{i}/{len(todo)}] {clip.id}"
        work_left -= work[clip.id]
        if is_done(out_dir, clip):
            print(f"{tag}: done already, skipped", flush=True)
            continue
        t = time.perf_counter()
        try:
            meta = prepare_clip(args.data, out_dir, clip)
        except Exception as e:  # one bad clip must not stop a long run; it is listed at the end
            failures.append(clip.id)
            print(f"{tag}: FAILED: {e}", flush=True)
            continue
        dt = time.perf_counter() - t
        work_done += work[clip.id]
        secs_done += dt
        eta = secs_done / max(work_done, 1) * work_left
        crop = meta.get("crop_box")
        print(f"{tag}: {meta['frames']} frames, face {100 * meta['face_fraction']:.1f}%, "
              f"crop {crop} ({100 * meta.get('crop_outside_fraction', 0):.1f}% padded), "
              f"{dt:.1f} s ({1000 * dt / max(meta['frames'], 1):.1f} ms/frame); "
              f"elapsed {fmt_s(time.perf_counter() - t_start)}, ETA {fmt_s(eta)}", flush=True)

    # Summary over every clip that is done (not only this run's).
    totals = {"train": [0, 0, 0], "val": [0, 0, 0]}  # clips, frames, frames with face
    for name in totals:
        for cid in split[name]["clips"]:
            p = out_dir / f"{cid}.json"
            if p.exists():
                m = json.loads(p.read_text())
                totals[name][0] += 1
                totals[name][1] += m["frames"]
                totals[name][2] += m["frames_with_face"]
    summary = {n: {"clips_done": v[0], "clips_listed": len(split[n]["clips"]), "frames": v[1],
                   "frames_with_face": v[2], "people": len(split[n]["people"])} for n, v in totals.items()}
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(f"prepare: finished in {fmt_s(time.perf_counter() - t_start)}; {json.dumps(summary)}")
    if failures:
        print(f"prepare: {len(failures)} clip(s) failed: {' '.join(failures)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
