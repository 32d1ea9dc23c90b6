"""Face geometry: rigid head pose by weighted Procrustes + a linear expression basis.

The model (README.md):

    L  ~=  s R (Y_ref + B c) + t

L      [468, 3] landmarks in 256-crop pixels (x right, y down, z away from the camera; MediaPipe's
       z is negative towards the camera, so it already points away)
Y_ref  [468, 3] the reference frame's own shape in canonical space (cm), Y_ref = pose^-1(L_ref)
B      [468*3, K] orthonormal expression basis (PCA of Y - Y_ref over training frames)
c      [K] expression coefficients (cm: a unit step moves the shape by 1 cm in 1404-d norm)
s, R, t  similarity pose: scale (crop px per cm), rotation, translation (crop px)

Canonical space is MediaPipe's canonical face turned 180 degrees about x (y -> -y, z -> -z), so
its axes are the image's: R = identity is an upright frontal face. The flip has determinant +1,
so R stays a proper rotation.

Pose vector (what the codec sends): [rx, ry, rz, tx, ty, tz, ln s] with (rx, ry, rz) the
rotation vector (axis * angle, radians; R = exp([r]x), Rodrigues).

Numpy only.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
CANONICAL_JSON = REPO / "models" / "mediapipe" / "canonical_face.json"
N_POINTS = 468
FLIP = np.diag([1.0, -1.0, -1.0])  # MediaPipe canonical axes (y up, z to camera) -> image axes


def load_canonical(path: Path = CANONICAL_JSON) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(canonical shape [468, 3] in image axes (cm), Procrustes landmark ids [33], weights [33])."""
    d = json.loads(Path(path).read_text())
    shape = np.asarray(d["vertices"], np.float64) @ FLIP
    ids = np.array([b["landmark_id"] for b in d["procrustes_landmark_basis"]], np.int64)
    w = np.array([b["weight"] for b in d["procrustes_landmark_basis"]], np.float64)
    return shape, ids, w


# ---- rotations ------------------------------------------------------------------------------
def rotvec_to_matrix(r: np.ndarray) -> np.ndarray:
    """Rodrigues: rotation vector (axis * angle) -> 3x3 matrix."""
    r = np.asarray(r, np.float64)
    theta = float(np.linalg.norm(r))
    k = np.array([[0, -r[2], r[1]], [r[2], 0, -r[0]], [-r[1], r[0], 0]])
    if theta < 1e-12:
        return np.eye(3) + k  # first order; exact enough below 1e-12 rad
    k /= theta
    return np.eye(3) + np.sin(theta) * k + (1 - np.cos(theta)) * (k @ k)


def matrix_to_rotvec(m: np.ndarray) -> np.ndarray:
    """3x3 rotation matrix -> rotation vector (angle in [0, pi])."""
    m = np.asarray(m, np.float64)
    cos = np.clip((np.trace(m) - 1) / 2, -1.0, 1.0)
    theta = float(np.arccos(cos))
    v = np.array([m[2, 1] - m[1, 2], m[0, 2] - m[2, 0], m[1, 0] - m[0, 1]])
    if theta < 1e-6:
        return v / 2  # sin(theta) ~ theta
    if theta > 3.0:
        # near 180 degrees sin(theta) -> 0: take the axis from the symmetric part instead,
        # (R + R^T) / 2 = cos(theta) I + (1 - cos(theta)) a a^T, and its sign from v = 2 sin(theta) a
        aa = ((m + m.T) / 2 - cos * np.eye(3)) / (1 - cos)
        i = int(np.argmax(np.diag(aa)))
        axis = aa[i] / np.sqrt(aa[i, i])
        return (-axis if np.dot(axis, v) < 0 else axis) * theta
    return v / (2 * np.sin(theta)) * theta


# ---- Procrustes -----------------------------------------------------------------------------
def similarity_procrustes(src: np.ndarray, dst: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted similarity fit (Umeyama 1991): s, R, t minimising sum_i w_i |s R src_i + t - dst_i|^2.
    src [N, 3]; dst [N, 3] or a batch [F, N, 3]; w [N] >= 0. R is a proper rotation (det +1).
    Returns s [F], R [F, 3, 3], t [F, 3] (F = 1 for a single dst)."""
    dst = np.asarray(dst, np.float64).reshape(-1, *np.shape(src))
    w = np.asarray(w, np.float64) / np.sum(w)
    mu_s, mu_d = w @ src, np.einsum("n,fnc->fc", w, dst)
    a, b = src - mu_s, dst - mu_d[:, None]
    cov = np.einsum("n,fni,nj->fij", w, b, a)             # sum w (dst - mu_d)(src - mu_s)^T
    u, sig, vt = np.linalg.svd(cov)
    d = np.ones((len(dst), 3))
    d[:, 2] = np.where(np.linalg.det(u @ vt) < 0, -1.0, 1.0)  # no reflections
    r = (u * d[:, None, :]) @ vt
    s = (sig * d).sum(axis=1) / (w @ (a * a).sum(axis=1))
    t = mu_d - s[:, None] * np.einsum("fij,j->fi", r, mu_s)
    return s, r, t


class Pose:
    """Similarity pose: canonical shape (cm) -> crop pixels, x -> s R x + t."""

    def __init__(self, s: float, r: np.ndarray, t: np.ndarray):
        self.s, self.r, self.t = float(s), np.asarray(r, np.float64), np.asarray(t, np.float64)

    def apply(self, y: np.ndarray) -> np.ndarray:
        return self.s * y @ self.r.T + self.t

    def invert(self, pts: np.ndarray) -> np.ndarray:
        return (pts - self.t) @ self.r / self.s

    def vector(self) -> np.ndarray:
        """[rx, ry, rz, tx, ty, tz, ln s]."""
        return np.concatenate([matrix_to_rotvec(self.r), self.t, [np.log(self.s)]])

    @classmethod
    def from_vector(cls, v: np.ndarray) -> "Pose":
        v = np.asarray(v, np.float64)
        return cls(float(np.exp(v[6])), rotvec_to_matrix(v[:3]), v[3:6])


def fit_pose(landmarks: np.ndarray, canonical: np.ndarray, ids: np.ndarray, w: np.ndarray) -> Pose:
    """Head pose of one frame: MediaPipe's weighted Procrustes points, canonical -> landmarks."""
    s, r, t = similarity_procrustes(canonical[ids], landmarks[ids], w)
    return Pose(s[0], r[0], t[0])


def fit_poses(landmarks: np.ndarray, canonical: np.ndarray, ids: np.ndarray, w: np.ndarray):
    """fit_pose for a batch [F, 468, 3] -> s [F], R [F, 3, 3], t [F, 3]."""
    return similarity_procrustes(canonical[ids], landmarks[:, ids], w)


def to_canonical(landmarks: np.ndarray, s: np.ndarray, r: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Batch inverse pose: [F, 468, 3] crop pixels -> canonical space (cm)."""
    return (landmarks - t[:, None]) @ r / s[:, None, None]


def from_canonical(shapes: np.ndarray, s: np.ndarray, r: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Batch pose: [F, 468, 3] canonical space -> crop pixels."""
    return s[:, None, None] * (shapes @ r.transpose(0, 2, 1)) + t[:, None]


# ---- expression basis -----------------------------------------------------------------------
def encode(landmarks: np.ndarray, y_ref: np.ndarray, basis: np.ndarray, canonical: np.ndarray,
           ids: np.ndarray, w: np.ndarray) -> tuple[Pose, np.ndarray]:
    """Landmarks [468, 3] -> (pose, coefficients [K]). basis [K, 1404] orthonormal rows."""
    pose = fit_pose(landmarks, canonical, ids, w)
    delta = (pose.invert(landmarks.astype(np.float64)) - y_ref).reshape(-1)
    return pose, basis @ delta


def decode(pose: Pose, coeffs: np.ndarray, y_ref: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """(pose, coefficients) -> landmarks [468, 3] in crop pixels."""
    shape = y_ref + (np.asarray(coeffs, np.float64) @ basis).reshape(N_POINTS, 3)
    return pose.apply(shape)


def reference_shape(landmarks: np.ndarray, canonical: np.ndarray, ids: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Y_ref: the reference frame's landmarks mapped into canonical space by its own pose."""
    return fit_pose(landmarks, canonical, ids, w).invert(landmarks.astype(np.float64))


def fit_pca(deltas: np.ndarray, k_max: int) -> tuple[np.ndarray, np.ndarray]:
    """Uncentred PCA (the zero delta, 'no change', is the natural origin for the coder):
    deltas [N, 1404] -> (basis [k_max, 1404] orthonormal rows, singular values / sqrt(N))."""
    # SVD of the 1404x1404 scatter matrix (symmetric, so its SVD is its eigendecomposition):
    # cheap for any N, and the same subspace as the SVD of the deltas themselves.
    u, sig, _ = np.linalg.svd(deltas.T @ deltas / len(deltas))
    basis = u[:, :k_max].T
    # deterministic sign: the largest-magnitude entry of each component is positive
    flip = np.sign(basis[np.arange(len(basis)), np.abs(basis).argmax(axis=1)])
    return basis * flip[:, None], np.sqrt(sig[:k_max])
