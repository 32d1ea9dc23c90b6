#!/usr/bin/env bash
# Rebuild everything in models/mediapipe/ from the npm package @mediapipe/face_mesh, then prove it.
#   models/mediapipe/rebuild.sh [PACKAGE.tgz | PACKAGE_DIR]   (default: npm pack into a temp dir)
# Needs: python with requirements.txt installed (PYTHON=... to choose one), npm for the download.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
PY="${PYTHON:-python3}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
PKG="${1:-}"
if [ -z "$PKG" ]; then
  (cd "$WORK" && npm pack @mediapipe/face_mesh@0.4.1657299874 >/dev/null)
  PKG="$(ls "$WORK"/mediapipe-face_mesh-*.tgz)"
fi
"$PY" "$HERE/extract_assets.py" "$PKG" --out "$WORK/assets"
"$PY" "$HERE/convert.py" "$WORK/assets/face_detection_short_range.tflite" "$HERE/face_detection_short_range.onnx"
"$PY" "$HERE/convert.py" "$WORK/assets/face_landmark.tflite" "$HERE/face_landmark.onnx"
# Expected to fail: custom ops (see README.md); printed so that the reason stays visible.
"$PY" "$HERE/convert.py" "$WORK/assets/face_landmark_with_attention.tflite" "$WORK/attention.onnx" || true
"$PY" "$HERE/canonical_face.py" "$WORK/assets/geometry_pipeline_metadata_landmarks.binarypb" "$HERE/canonical_face.json"
"$PY" "$HERE/check_parity.py" --assets "$WORK/assets" "${@:2}"
