"""Python unit tests (pytest). Needs only numpy and pytest: `python -m pytest tests/python`."""
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
for sub in ("models/geometry", "models/train/data"):
    sys.path.insert(0, str(REPO / sub))
