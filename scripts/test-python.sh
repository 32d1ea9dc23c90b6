#!/usr/bin/env bash
# Python unit tests (tests/python): geometry, crop rule, data split, decoder shapes/losses/export.
# Uses .venv/ when it exists (made by .ci/run), else python3. Without the packages in
# tests/python/requirements.txt it says so and skips, unless CI or KILOFACE_REQUIRE_PYTHON_TESTS=1
# is set: then tests that cannot run fail (a skipped test under CI fails too: tests/python/conftest.py).
set -u
cd "$(dirname "$0")/.."
PY="${KILOFACE_PYTHON:-}"
if [ -z "$PY" ]; then
  if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
fi
if ! "$PY" -c "import numpy, pytest, torch, cv2, onnx, onnxruntime" 2>/dev/null; then
  msg="Python tests: $PY lacks packages from tests/python/requirements.txt (pip install -r tests/python/requirements.txt)"
  if [ "${KILOFACE_REQUIRE_PYTHON_TESTS:-0}" = "1" ] || [ -n "${CI:-}" ]; then echo "FAILED: $msg" >&2; exit 1; fi
  echo "SKIPPED: $msg"
  exit 0
fi
exec "$PY" -m pytest -q tests/python
