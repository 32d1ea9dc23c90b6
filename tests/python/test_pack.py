"""Packed landmarks for the GPU machine (models/train/data/pack.py)."""
import numpy as np

from pack import LANDMARK_STEP, dequantise, quantise


def test_packed_landmarks_round_trip_within_half_a_step():
    rng = np.random.default_rng(5)
    lm = (rng.uniform(-50, 300, size=(6, 468, 3))).astype(np.float32)
    lm[2] = np.nan  # no face in frame 2
    lm[0] = np.nan  # nor in the first frame
    dq, face = quantise(lm)
    assert dq.dtype == np.int16 and face.tolist() == [False, True, False, True, True, True]
    back = dequantise(dq, face)
    assert np.isnan(back[[0, 2]]).all()
    assert np.abs(back[face] - lm[face]).max() <= LANDMARK_STEP / 2 + 1e-6
