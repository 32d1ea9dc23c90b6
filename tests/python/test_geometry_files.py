"""The shipped basis and its fixture agree with geometry.py (models/geometry/*-v1.json)."""
import json
from pathlib import Path

import numpy as np
import pytest

import geometry as g

HERE = Path(g.__file__).resolve().parent
BASIS, FIXTURE = HERE / "basis-v1.json", HERE / "fixture-v1.json"


@pytest.fixture(scope="module")
def basis():
    return json.loads(BASIS.read_text())


def test_basis_file_is_small_orthonormal_and_consistent(basis):
    assert BASIS.stat().st_size < 2_000_000
    b = np.asarray(basis["components"])
    assert b.shape == (basis["K"], 468 * 3)
    np.testing.assert_allclose(b @ b.T, np.eye(basis["K"]), atol=1e-5)  # 6 significant digits
    assert len(basis["component_std"]) == basis["K"]
    canonical, ids, w = g.load_canonical()
    assert basis["procrustes"]["landmark_ids"] == ids.tolist()
    ks = [r["K"] for r in basis["validation_error_table"]]
    assert basis["K"] in ks and ks == sorted(ks)


def test_fixture_matches_encode_and_decode(basis):
    fx = json.loads(FIXTURE.read_text())
    b = np.asarray(basis["components"])
    canonical, ids, w = g.load_canonical()
    frames = [np.asarray(f["landmarks"]) for f in fx["frames"]]
    y_ref = g.reference_shape(frames[0], canonical, ids, w)
    np.testing.assert_allclose(y_ref, fx["y_ref"], atol=1e-6)
    tol = fx["tolerance"]
    for lm, f in zip(frames, fx["frames"]):
        pose, c = g.encode(lm, y_ref, b, canonical, ids, w)
        np.testing.assert_allclose(pose.vector(), f["expected"]["pose"], atol=tol["pose"])
        np.testing.assert_allclose(c, f["expected"]["coefficients"], atol=tol["coefficients"])
        np.testing.assert_allclose(g.decode(pose, c, y_ref, b), f["expected"]["reconstruction"],
                                   atol=tol["reconstruction_px"])
        # the generating values come back (the basis is invisible to the Procrustes fit)
        np.testing.assert_allclose(c, f["generated_with"]["coefficients"], atol=1e-5)
        np.testing.assert_allclose(pose.vector(), f["generated_with"]["pose"], atol=1e-6)
