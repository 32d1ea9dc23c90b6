"""The data-preparation crop rule on synthetic landmarks (models/train/data/crop_rule.py)."""
import numpy as np
import pytest

from crop_rule import CropBox, crop_box, outside_fraction, round_half_up


def box_landmarks(cx, cy, w, h, n=468):
    """Landmarks whose bounding box is exactly (cx +- w/2, cy +- h/2)."""
    rng = np.random.default_rng(int(cx * 7 + cy))
    pts = np.column_stack([rng.uniform(cx - w / 2, cx + w / 2, n), rng.uniform(cy - h / 2, cy + h / 2, n),
                           rng.normal(size=n)])
    pts[0, :2], pts[1, :2] = (cx - w / 2, cy - h / 2), (cx + w / 2, cy + h / 2)
    return pts


def test_median_centre_and_side():
    # 5 frames: the face drifts; one frame is much bigger (an outlier the median ignores)
    frames = [box_landmarks(300 + dx, 200, 100, 120) for dx in (-4, -2, 0, 2, 4)]
    frames[4] = box_landmarks(304, 200, 300, 300)
    box = crop_box(np.stack(frames), factor=2.0)
    # centre x median of (296, 298, 300, 302, 304) = 300; side = 2 * median(120, ..., 300) = 240
    assert (box.size, box.x, box.y) == (240, 180, 80)


def test_no_face_frames_are_ignored_and_all_missing_gives_none():
    frames = np.stack([box_landmarks(100, 100, 50, 50), box_landmarks(110, 100, 50, 50)])
    with_gap = np.concatenate([frames, np.full((3, 468, 3), np.nan)])
    assert crop_box(with_gap) == crop_box(frames)
    assert crop_box(np.full((4, 468, 3), np.nan)) is None


def test_even_count_median_and_rounding():
    # centres 100 and 101 -> median 100.5; sides 51 and 52 -> 51.5 * 2 = 103
    frames = np.stack([box_landmarks(100, 50, 51, 10), box_landmarks(101, 50, 52, 10)])
    box = crop_box(frames, factor=2.0)
    assert box.size == 103
    assert box.x == round_half_up(100.5 - 51.5) == 49  # 49.0
    assert box.y == round_half_up(50 - 51.5) == -1     # -1.5 rounds up to -1, like Math.round
    assert round_half_up(2.5) == 3 and round_half_up(-2.5) == -2


def test_crop_coordinates_and_padding():
    box = CropBox(x=-20, y=10, size=128)
    pts = np.array([[-20.0, 10.0, 4.0], [108.0, 138.0, -2.0], [44.0, 74.0, 0.0]])
    np.testing.assert_allclose(box.to_crop(pts, 256), [[0, 0, 8], [256, 256, -4], [128, 128, 0]])
    # a 108x200 frame: the crop's columns -20..0 are outside (20 of 128), rows all inside
    assert outside_fraction(box, 108, 200) == pytest.approx(20 / 128)
    assert box.valid_region(108, 200, 256) == (40.0, 0.0, 256.0, 256.0)
    assert outside_fraction(box, 100, 200) == pytest.approx(28 / 128)  # and 100..108 on the right
    assert outside_fraction(CropBox(0, 0, 50), 100, 100) == 0.0

