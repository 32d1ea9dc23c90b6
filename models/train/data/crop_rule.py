"""The crop rule: one fixed square per reference segment, from the face landmarks.

Numpy only, so that tests and the TypeScript port can follow it line by line. README.md in this
folder states the rule in words; the codec's tracker implements exactly this.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

OUT_SIZE = 256       # side of the resampled crop in pixels
CROP_FACTOR = 2.0    # crop side / median landmark-box side (README.md: why 2.0)


@dataclass
class CropBox:
    x: int      # left edge in source pixels (may be < 0: that part is edge-replicated padding)
    y: int      # top edge in source pixels
    size: int   # side in source pixels

    def to_crop(self, pts: np.ndarray, out_size: int = OUT_SIZE) -> np.ndarray:
        """Source-pixel landmarks [..., 3] -> crop pixels. The image spans [0, W] (MediaPipe's
        convention: normalised x times width), the crop [x, x + size] maps onto [0, out_size];
        z is scaled by the same factor."""
        k = out_size / self.size
        out = pts.astype(np.float64) * k
        out[..., 0] -= self.x * k
        out[..., 1] -= self.y * k
        return out.astype(np.float32)

    def valid_region(self, width: int, height: int, out_size: int = OUT_SIZE) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) in crop pixels of the part of the crop that lies inside the source
        frame; outside it the pixels are edge-replicated padding."""
        k = out_size / self.size
        return (max(0.0, -self.x * k), max(0.0, -self.y * k),
                min(float(out_size), (width - self.x) * k), min(float(out_size), (height - self.y) * k))


def round_half_up(v: float) -> int:
    """floor(v + 0.5): JavaScript's Math.round, so the TypeScript tracker agrees exactly."""
    return int(math.floor(v + 0.5))


def crop_box(landmarks: np.ndarray, factor: float = CROP_FACTOR) -> CropBox | None:
    """THE CROP RULE. landmarks: [T, 468, >=2] in source pixels, NaN rows = no face.

    Over the frames with a face (all 468 x, y finite):
      box_t    = bounding box of the 468 landmarks (x, y) in frame t
      cx, cy   = median over t of the box centre, per axis
      side     = factor x median over t of max(box width, box height)
      size     = round(side); x = round(cx - size / 2); y = round(cy - size / 2)
    median of an even count = mean of the two middle values (numpy); round = floor(v + 0.5).
    Returns None when no frame has a face.
    """
    ok = np.isfinite(landmarks[:, :, :2]).all(axis=(1, 2))
    if not ok.any():
        return None
    xy = landmarks[ok, :, :2].astype(np.float64)
    lo, hi = xy.min(axis=1), xy.max(axis=1)                     # [F, 2] box corners
    centre = np.median((lo + hi) / 2, axis=0)
    side = factor * np.median((hi - lo).max(axis=1))
    size = max(1, round_half_up(side))
    return CropBox(round_half_up(centre[0] - size / 2), round_half_up(centre[1] - size / 2), size)


def outside_fraction(box: CropBox, width: int, height: int) -> float:
    """Share of the crop's area that lies outside the source frame (filled by replication)."""
    ix = max(0, min(box.x + box.size, width) - max(box.x, 0))
    iy = max(0, min(box.y + box.size, height) - max(box.y, 0))
    return 1.0 - ix * iy / box.size ** 2
