"""Weighted similarity Procrustes and rotation parametrisation (models/geometry/geometry.py)."""
import numpy as np
import pytest

import geometry as g


def random_rotation(rng):
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q *= np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


@pytest.mark.parametrize("seed", range(5))
def test_recovers_known_similarity_exactly(seed):
    rng = np.random.default_rng(seed)
    src = rng.normal(size=(40, 3)) * [5, 6, 3]
    w = rng.uniform(0.1, 2.0, size=40)
    r_true, s_true, t_true = random_rotation(rng), rng.uniform(0.5, 8), rng.normal(size=3) * 50
    dst = s_true * src @ r_true.T + t_true
    s, r, t = g.similarity_procrustes(src, dst, w)
    assert s[0] == pytest.approx(s_true, rel=1e-12)
    np.testing.assert_allclose(r[0], r_true, atol=1e-12)
    np.testing.assert_allclose(t[0], t_true, atol=1e-9)
    assert np.linalg.det(r[0]) == pytest.approx(1.0)


def test_canonical_pose_round_trip_through_pose_vector():
    canonical, ids, w = g.load_canonical()
    assert len(ids) == 33 and w.sum() == pytest.approx(1.055, abs=1e-4)
    vec = np.array([0.1, -0.25, 0.05, 130.0, 121.0, 4.0, np.log(4.8)])
    lm = g.Pose.from_vector(vec).apply(canonical)
    pose = g.fit_pose(lm, canonical, ids, w)
    np.testing.assert_allclose(pose.vector(), vec, atol=1e-10)
    np.testing.assert_allclose(pose.invert(lm), canonical, atol=1e-10)


def test_weights_matter_and_outliers_on_zero_weight_points_are_ignored():
    rng = np.random.default_rng(7)
    src = rng.normal(size=(20, 3))
    r_true = random_rotation(rng)
    dst = 2.0 * src @ r_true.T + 1.0
    w = np.ones(20)
    w[:5] = 0.0
    dst[:5] += rng.normal(size=(5, 3)) * 10  # garbage where the weight is zero
    s, r, t = g.similarity_procrustes(src, dst, w)
    assert s[0] == pytest.approx(2.0)
    np.testing.assert_allclose(r[0], r_true, atol=1e-10)


def test_reflection_is_never_returned():
    rng = np.random.default_rng(3)
    src = rng.normal(size=(30, 3))
    dst = src * [1, 1, -1]  # a mirror image: the best proper rotation, not the reflection
    _, r, _ = g.similarity_procrustes(src, dst, np.ones(30))
    assert np.linalg.det(r[0]) == pytest.approx(1.0)


def test_batch_equals_single_frames():
    canonical, ids, w = g.load_canonical()
    rng = np.random.default_rng(11)
    frames = np.stack([g.Pose.from_vector(np.r_[rng.normal(size=3) * 0.3, rng.normal(size=3) * 20 + 128,
                                                np.log(rng.uniform(3, 6))]).apply(canonical)
                       + rng.normal(size=(468, 3)) * 0.5 for _ in range(6)])
    s, r, t = g.fit_poses(frames, canonical, ids, w)
    for f in range(6):
        p = g.fit_pose(frames[f], canonical, ids, w)
        assert p.s == pytest.approx(s[f])
        np.testing.assert_allclose(p.r, r[f], atol=1e-12)
    shapes = g.to_canonical(frames, s, r, t)
    np.testing.assert_allclose(g.from_canonical(shapes, s, r, t), frames, atol=1e-9)


@pytest.mark.parametrize("angle", [0.0, 1e-9, 1e-3, 0.5, 2.0, 3.0, 3.1, np.pi - 1e-7])
def test_rotation_vector_round_trip(angle):
    rng = np.random.default_rng(int(angle * 1000))
    axis = rng.normal(size=3)
    axis /= np.linalg.norm(axis)
    m = g.rotvec_to_matrix(axis * angle)
    np.testing.assert_allclose(m @ m.T, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(g.rotvec_to_matrix(g.matrix_to_rotvec(m)), m, atol=1e-9)
