#!/usr/bin/env python3
"""Guide pictures for decoder v2: each prepared crop, downscaled and coded by a real codec.

Decoder v2 fuses the warped reference with a small low-resolution picture of the crop (the
"guide layer", issue 17) that a standard codec carries. The network has to learn that codec's
artefacts, so its training guides are made by the codec itself, at the rates the call's modes use:

    <id>.mp4 (256x256, 25 fps, prepare.py) -> scale to S px (area) -> keep F pictures/s
        -> libaom-av1 / libvpx-vp9 realtime at R kbit/s, one keyframe -> decode
        -> scale to 64x64 (bicubic, the decoder's guide input) -> <id>.guide-<tag>.npy

Outputs per clip and variant, next to the crops:
  <id>.guide-<tag>.npy   uint8 [N, 64, 64, 3] RGB, the decoded guide pictures in order;
  <id>.guide-<tag>.json  {"source_frames": [25 fps frame index of each picture], "bytes": payload
                          bytes of the coded stream, "kbps": payload kbit/s, "variant": {...}}.

    python models/train/data/guides.py [--data_dir DIR] [--variant TAG ...] [--max-clips N]

Resumable (a clip's variant is skipped when its .json exists); progress with ETA; lowers its own
priority (the machine's 2 cores are shared). Needs ffmpeg with libaom-av1 and libvpx-vp9.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

GUIDE_SIZE = 64          # the decoder's guide input side (its refiner's grid)
SOURCE_FPS = 25
FFMPEG = os.environ.get("FFMPEG", shutil.which("ffmpeg") or "/usr/bin/ffmpeg")

# tag -> (coded side px, pictures per second, codec, target kbit/s). The rungs of the guide
# modes: from a thumbnail that costs about what the geometry does up to a 64 px picture at
# ~24 kbit/s (the issue's ~32 kbit/s whole-mode ceiling, with geometry and headers).
# CODEC_ARGS: one keyframe, no look-ahead: a real-time sender (WebCodecs' "realtime" latency
# mode). Both live in guide-variants.json, which the stream's Node guide codec reads too
# (bench/codecs/guide-ffmpeg.ts): the call codes guides as the decoder learned them.
_SHARED = json.loads((Path(__file__).with_name("guide-variants.json")).read_text())
VARIANTS = {tag: tuple(v) for tag, v in _SHARED["variants"].items()}
CODEC_ARGS = {codec: list(args) for codec, args in _SHARED["codec_args"].items()}


def default_data_dir() -> Path:
    base = os.environ.get("KILOFACE_CACHE_DIR") or str(Path.home() / ".cache" / "kiloface")
    return Path(base) / "train-data" / "v1"


def source_frames(n_frames: int, fps: float) -> list[int]:
    """The 25 fps frame each guide picture is taken from: ffmpeg's fps filter keeps, for output
    picture k at time k/fps, the source frame nearest that time (rounding half up)."""
    out, k = [], 0
    while True:
        i = int(np.floor(k * SOURCE_FPS / fps + 0.5))
        if i >= n_frames:
            return out
        out.append(i)
        k += 1


def make_guides(crop_mp4: Path, variant: tuple, work: Path) -> tuple[np.ndarray, int]:
    """Encode and decode one clip's guide stream; returns (pictures [N,64,64,3] uint8, payload bytes)."""
    side, fps, codec, kbps = variant
    coded = work / "guide.ivf"
    enc = [FFMPEG, "-v", "error", "-y", "-i", str(crop_mp4),
           "-vf", f"fps={fps},scale={side}:{side}:flags=area", "-pix_fmt", "yuv420p",
           *CODEC_ARGS[codec], "-b:v", f"{kbps}k", "-an", str(coded)]
    subprocess.run(enc, check=True)
    payload = ivf_payload_bytes(coded)
    dec = [FFMPEG, "-v", "error", "-i", str(coded), "-vf",
           f"scale={GUIDE_SIZE}:{GUIDE_SIZE}:flags=bicubic", "-pix_fmt", "rgb24", "-f", "rawvideo", "-"]
    raw = subprocess.run(dec, check=True, capture_output=True).stdout
    pics = np.frombuffer(raw, np.uint8).reshape(-1, GUIDE_SIZE, GUIDE_SIZE, 3)
    return pics, payload


def ivf_payload_bytes(path: Path) -> int:
    """Sum of the frame payloads of an IVF file (32-byte file header, 12-byte frame headers):
    what the codec sends, without the container."""
    data = path.read_bytes()
    pos, total = 32, 0
    while pos + 12 <= len(data):
        size = int.from_bytes(data[pos:pos + 4], "little")
        total += size
        pos += 12 + size
    return total


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data_dir", type=Path, default=default_data_dir())
    ap.add_argument("--variant", action="append", choices=sorted(VARIANTS), help="default: all")
    ap.add_argument("--max-clips", type=int, default=0)
    ap.add_argument("--nice", type=int, default=10)
    args = ap.parse_args(argv)
    if args.nice:
        os.nice(args.nice)
    tags = args.variant or list(VARIANTS)
    clips = sorted(p.name[:-len(".landmarks.npy")] for p in args.data_dir.glob("*.landmarks.npy"))
    if args.max_clips:
        clips = clips[:args.max_clips]
    if not clips:
        print(f"guides: no prepared clips in {args.data_dir} (run models/train/data/prepare.py first)", file=sys.stderr)
        return 1
    work = args.data_dir / ".guide-work"
    work.mkdir(exist_ok=True)
    jobs = [(c, t) for c in clips for t in tags]
    t0, failed = time.time(), 0
    for n, (cid, tag) in enumerate(jobs, 1):
        meta_path = args.data_dir / f"{cid}.guide-{tag}.json"
        if meta_path.exists():
            continue
        n_frames = int(np.load(args.data_dir / f"{cid}.landmarks.npy", mmap_mode="r").shape[0])
        side, fps, codec, kbps = VARIANTS[tag]
        try:
            pics, payload = make_guides(args.data_dir / f"{cid}.mp4", VARIANTS[tag], work)
        except subprocess.CalledProcessError as e:
            failed += 1
            print(f"[{n}/{len(jobs)}] {cid} {tag}: FAILED ({e})", file=sys.stderr)
            continue
        frames = source_frames(n_frames, fps)
        # ffmpeg's fps filter may emit one picture more or fewer at the end; keep the common part
        k = min(len(frames), len(pics))
        np.save(args.data_dir / f"{cid}.guide-{tag}.npy.tmp.npy", pics[:k])
        os.replace(args.data_dir / f"{cid}.guide-{tag}.npy.tmp.npy", args.data_dir / f"{cid}.guide-{tag}.npy")
        seconds = n_frames / SOURCE_FPS
        meta = {"source_frames": frames[:k], "bytes": payload, "kbps": round(payload * 8 / 1000 / seconds, 3),
                "variant": {"tag": tag, "side": side, "fps": fps, "codec": codec, "target_kbps": kbps}}
        tmp = meta_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(meta))
        os.replace(tmp, meta_path)
        el = time.time() - t0
        print(f"[{n}/{len(jobs)}] {cid} {tag}: {k} pictures, {meta['kbps']} kbit/s payload; "
              f"elapsed {el / 60:.1f} min, ETA {el / n * (len(jobs) - n) / 60:.1f} min", flush=True)
    shutil.rmtree(work, ignore_errors=True)
    print(f"guides: finished in {(time.time() - t0) / 60:.1f} min, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
