"""PCA basis: orthonormal, spans the data, projection round trip (models/geometry/geometry.py)."""
import numpy as np
import pytest

import geometry as g


def synthetic_deltas(rng, n=300, k=6, dim=60):  # small dim: the maths is the same, 1404 is slow
    true_basis, _ = np.linalg.qr(rng.normal(size=(dim, k)))
    coeffs = rng.normal(size=(n, k)) * np.linspace(3.0, 0.5, k)
    return coeffs @ true_basis.T, true_basis.T


def test_basis_is_orthonormal_and_ordered():
    rng = np.random.default_rng(0)
    deltas, _ = synthetic_deltas(rng)
    basis, sv = g.fit_pca(deltas, 10)
    np.testing.assert_allclose(basis @ basis.T, np.eye(10), atol=1e-10)
    assert np.all(np.diff(sv) <= 1e-12)


def test_projection_round_trip_is_exact_inside_the_span():
    rng = np.random.default_rng(1)
    deltas, true_basis = synthetic_deltas(rng)
    basis, sv = g.fit_pca(deltas, 6)
    # the fitted basis spans the true one...
    np.testing.assert_allclose(np.abs(np.linalg.svd(basis @ true_basis.T)[1]), 1.0, atol=1e-9)
    # ...so coefficients -> shape -> coefficients is the identity, and data rebuild exactly
    c = deltas @ basis.T
    np.testing.assert_allclose((c @ basis) @ basis.T, c, atol=1e-9)
    np.testing.assert_allclose(c @ basis, deltas, atol=1e-9)
    assert sv[5] > 0.1 and g.fit_pca(deltas, 7)[1][6] < 1e-6


def test_encode_decode_round_trip_with_pose():
    canonical, ids, w = g.load_canonical()
    rng = np.random.default_rng(2)
    # a basis that leaves MediaPipe's Procrustes points alone, so the pose is recovered exactly
    raw = rng.normal(size=(4, 468, 3))
    raw[:, ids] = 0
    basis = np.linalg.qr(raw.reshape(4, -1).T)[0].T
    y_ref = canonical + rng.normal(size=(468, 3)) * 0.05
    y_ref[ids] = canonical[ids]
    coeffs = np.array([1.0, -0.5, 0.25, 2.0])
    pose = g.Pose.from_vector([0.2, -0.1, 0.05, 120.0, 130.0, 0.0, np.log(5.0)])
    lm = g.decode(pose, coeffs, y_ref, basis)
    pose2, coeffs2 = g.encode(lm, y_ref, basis, canonical, ids, w)
    np.testing.assert_allclose(pose2.vector(), pose.vector(), atol=1e-10)
    np.testing.assert_allclose(coeffs2, coeffs, atol=1e-10)
    np.testing.assert_allclose(g.decode(pose2, coeffs2, y_ref, basis), lm, atol=1e-9)


@pytest.mark.parametrize("k", [0, 3])
def test_reference_frame_codes_to_zero(k):
    canonical, ids, w = g.load_canonical()
    rng = np.random.default_rng(3)
    lm = g.Pose.from_vector([0.1, 0.2, 0.0, 128, 128, 0, np.log(4)]).apply(canonical + rng.normal(size=(468, 3)) * 0.1)
    y_ref = g.reference_shape(lm, canonical, ids, w)
    basis = np.linalg.qr(rng.normal(size=(1404, max(k, 1))))[0].T[:k]
    pose, c = g.encode(lm, y_ref, basis, canonical, ids, w)
    np.testing.assert_allclose(c, np.zeros(k), atol=1e-10)
    np.testing.assert_allclose(g.decode(pose, c, y_ref, basis), lm, atol=1e-9)
