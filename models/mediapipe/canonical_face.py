#!/usr/bin/env python3
"""Extract MediaPipe's canonical face from geometry_pipeline_metadata_landmarks.binarypb.

The file is a serialized `mediapipe.face_geometry.GeometryPipelineMetadata` protobuf
(mediapipe/modules/face_geometry/protos/geometry_pipeline_metadata.proto):
    field 1  canonical_mesh: Mesh3d
               1 vertex_type (0 = VERTEX_PT: x, y, z, u, v per vertex)
               2 primitive_type (0 = TRIANGLE)
               3 vertex_buffer: repeated float
               4 index_buffer: repeated uint32
    field 2  procrustes_landmark_basis: repeated WeightedLandmarkRef {1 landmark_id, 2 weight}
    field 3  input_source (1 = FACE_LANDMARK_PIPELINE)
We parse the protobuf wire format by hand (a few lines) rather than ship generated code.

Usage:
    python models/mediapipe/canonical_face.py /tmp/mp_assets/geometry_pipeline_metadata_landmarks.binarypb \
        models/mediapipe/canonical_face.json
"""
from __future__ import annotations

import argparse
import json
import struct
import sys
from pathlib import Path


def _varint(b: bytes, i: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        c = b[i]
        i += 1
        result |= (c & 0x7F) << shift
        shift += 7
        if c < 0x80:
            return result, i


def fields(b: bytes):
    """Yield (field number, wire type, raw value) for each field of a message."""
    i = 0
    while i < len(b):
        key, i = _varint(b, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            v, i = _varint(b, i)
        elif wire == 1:
            v, i = b[i:i + 8], i + 8
        elif wire == 2:
            n, i = _varint(b, i)
            v, i = b[i:i + n], i + n
        elif wire == 5:
            v, i = b[i:i + 4], i + 4
        else:
            raise ValueError(f"unsupported wire type {wire} at byte {i}")
        yield num, wire, v


def _floats(wire: int, v) -> list[float]:
    # A repeated float may be written one by one (wire 5) or packed (wire 2).
    if wire == 5:
        return [struct.unpack("<f", v)[0]]
    return list(struct.unpack(f"<{len(v) // 4}f", v))


def _uints(wire: int, v) -> list[int]:
    if wire == 0:
        return [v]
    out, i = [], 0
    while i < len(v):
        x, i = _varint(v, i)
        out.append(x)
    return out


def parse(blob: bytes) -> dict:
    mesh, basis, source = None, [], None
    for num, wire, v in fields(blob):
        if num == 1:
            mesh = {"vertex_type": 0, "primitive_type": 0, "vertex_buffer": [], "index_buffer": []}
            for n2, w2, v2 in fields(v):
                if n2 == 1:
                    mesh["vertex_type"] = v2
                elif n2 == 2:
                    mesh["primitive_type"] = v2
                elif n2 == 3:
                    mesh["vertex_buffer"] += _floats(w2, v2)
                elif n2 == 4:
                    mesh["index_buffer"] += _uints(w2, v2)
        elif num == 2:
            ref = {"landmark_id": 0, "weight": 0.0}
            for n2, w2, v2 in fields(v):
                if n2 == 1:
                    ref["landmark_id"] = v2
                elif n2 == 2:
                    ref["weight"] = _floats(w2, v2)[0]
            basis.append(ref)
        elif num == 3:
            source = v
    if mesh is None or mesh["vertex_type"] != 0 or mesh["primitive_type"] != 0:
        raise ValueError("expected a VERTEX_PT / TRIANGLE canonical mesh")
    vb, ib = mesh["vertex_buffer"], mesh["index_buffer"]
    if len(vb) % 5 or len(ib) % 3:
        raise ValueError(f"vertex buffer {len(vb)} floats / index buffer {len(ib)}: not whole vertices")
    n = len(vb) // 5
    return {
        "vertices": [[round(x, 7) for x in vb[5 * k:5 * k + 3]] for k in range(n)],
        "uv": [[round(x, 7) for x in vb[5 * k + 3:5 * k + 5]] for k in range(n)],
        "triangles": [ib[3 * k:3 * k + 3] for k in range(len(ib) // 3)],
        "procrustes_landmark_basis": [{"landmark_id": r["landmark_id"], "weight": round(r["weight"], 7)}
                                      for r in basis],
        "input_source": {0: "DEFAULT", 1: "FACE_LANDMARK_PIPELINE", 2: "FACE_DETECTION_PIPELINE"}.get(source, source),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binarypb", type=Path)
    ap.add_argument("out", type=Path)
    args = ap.parse_args(argv)
    face = parse(args.binarypb.read_bytes())
    doc = {
        "source": "MediaPipe geometry_pipeline_metadata_landmarks.binarypb (@mediapipe/face_mesh, Apache-2.0)",
        "units": "vertices in centimetres, MediaPipe canonical face space: +x to the face's left "
                 "(image right for a frontal face), +y up, +z towards the camera; uv in [0,1] texture space",
        "num_vertices": len(face["vertices"]),
        "num_triangles": len(face["triangles"]),
        **face,
    }
    # One vertex / triangle per line: readable diffs, still small.
    lines = ["{"]
    items = list(doc.items())
    for k, (key, val) in enumerate(items):
        sep = "," if k < len(items) - 1 else ""
        if isinstance(val, list):
            inner = ",\n    ".join(json.dumps(x, separators=(",", ":")) for x in val)
            lines.append(f'  "{key}": [\n    {inner}\n  ]{sep}')
        else:
            lines.append(f'  "{key}": {json.dumps(val)}{sep}')
    lines.append("}")
    args.out.write_text("\n".join(lines) + "\n")
    json.loads(args.out.read_text())  # must round-trip
    print(f"{args.out}: {doc['num_vertices']} vertices, {doc['num_triangles']} triangles, "
          f"{len(face['procrustes_landmark_basis'])} procrustes landmarks ({doc['input_source']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
