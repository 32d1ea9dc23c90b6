#!/usr/bin/env python3
"""Extract MediaPipe's networks from the npm package @mediapipe/face_mesh.

The package ships its model files concatenated in `face_mesh_solution_packed_assets.data`;
the Emscripten loader `face_mesh_solution_packed_assets_loader.js` ends with a call
`loadPackage({"files": [{"filename": ..., "start": ..., "end": ...}, ...], "remote_package_size": N})`
that says where each file lies. We read that JSON (no JS engine needed), check the total size,
and cut the files out.

Usage:
    cd /tmp && npm pack @mediapipe/face_mesh            # gets mediapipe-face_mesh-<version>.tgz
    python models/mediapipe/extract_assets.py /tmp/mediapipe-face_mesh-0.4.1657299874.tgz --out /tmp/mp_assets
    (the argument may also be the unpacked package folder, the one holding package.json)
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import sys
import tarfile
from pathlib import Path

LOADER = "face_mesh_solution_packed_assets_loader.js"
PACKED = "face_mesh_solution_packed_assets.data"
WANTED = (
    "face_detection_short_range.tflite",
    "face_landmark.tflite",
    "face_landmark_with_attention.tflite",
    "geometry_pipeline_metadata_landmarks.binarypb",
)


def read_package(src: Path) -> tuple[dict, str, bytes]:
    """Return (package.json, loader JS text, packed data bytes) from a .tgz or a folder."""
    if src.is_dir():
        return (
            json.loads((src / "package.json").read_text()),
            (src / LOADER).read_text(),
            (src / PACKED).read_bytes(),
        )
    with tarfile.open(src, "r:gz") as tar:
        def member(name: str) -> bytes:
            # npm tarballs put everything under "package/".
            f = tar.extractfile(f"package/{name}")
            if f is None:
                raise FileNotFoundError(name)
            return f.read()

        return (
            json.loads(member("package.json")),
            member(LOADER).decode(),
            member(PACKED),
        )


def parse_file_table(loader_js: str) -> dict:
    """Find the JSON argument of the final loadPackage({...}) call in the loader."""
    m = re.search(r"loadPackage\((\{\"files\".*?\})\);", loader_js, re.S)
    if not m:
        raise ValueError(f"no loadPackage({{\"files\": ...}}) call found in {LOADER}")
    return json.loads(m.group(1))


def extract(src: Path, out: Path, names=WANTED) -> dict[str, dict]:
    pkg, loader, data = read_package(src)
    table = parse_file_table(loader)
    if table["remote_package_size"] != len(data):
        raise ValueError(
            f"{PACKED} is {len(data)} bytes, loader says {table['remote_package_size']}"
        )
    out.mkdir(parents=True, exist_ok=True)
    by_name = {Path(f["filename"]).name: f for f in table["files"]}
    result = {}
    for name in names:
        if name not in by_name:
            raise KeyError(f"{name} not listed in {LOADER}; it has {sorted(by_name)}")
        f = by_name[name]
        blob = data[f["start"] : f["end"]]
        if len(blob) != f["end"] - f["start"] or len(blob) == 0:
            raise ValueError(f"{name}: range {f['start']}..{f['end']} outside the data file")
        # A .tflite is a flatbuffer whose file identifier (bytes 4..8) is "TFL3": a cheap
        # check that the byte range is right and not shifted.
        if name.endswith(".tflite") and blob[4:8] != b"TFL3":
            raise ValueError(f"{name}: no TFL3 identifier, byte range looks wrong")
        (out / name).write_bytes(blob)
        result[name] = {
            "bytes": len(blob),
            "sha256": hashlib.sha256(blob).hexdigest(),
            "path_in_package": f["filename"],
        }
    return {"package": pkg["name"], "version": pkg["version"], "files": result}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("package", type=Path, help="npm package folder or its .tgz")
    ap.add_argument("--out", type=Path, default=Path("/tmp/mediapipe_assets"))
    args = ap.parse_args(argv)
    info = extract(args.package, args.out)
    (args.out / "assets.json").write_text(json.dumps(info, indent=2) + "\n")
    print(f"{info['package']}@{info['version']} -> {args.out}")
    for name, f in info["files"].items():
        print(f"  {name:50s} {f['bytes']:>8d} bytes  sha256 {f['sha256'][:16]}…")
    return 0


if __name__ == "__main__":
    sys.exit(main())
