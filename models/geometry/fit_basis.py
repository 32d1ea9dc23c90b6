#!/usr/bin/env python3
"""Fit the expression basis (PCA) on training people and measure it on validation people.

    python models/geometry/fit_basis.py [--data ~/.cache/kiloface/train-data/v1] [--k 24]
        [--out models/geometry/basis-v1.json] [--fixture models/geometry/fixture-v1.json]

Reads the prepared data of models/train/data/prepare.py (split.json, <id>.landmarks.npy in
256-crop pixels). Per frame: head pose by MediaPipe's weighted Procrustes against the
canonical face; the pose-normalised shape minus the clip's reference shape (its FIRST frame with
a face, as in the codec, where the reference is a frame) is the delta; PCA of the training
deltas is the basis. Validation: for each K, landmarks rebuilt from (unquantised pose, first K
coefficients) against the measured landmarks, in pixels at 256x256 (x, y only).
Prints the table, writes the basis (K chosen by --k, or by the rule below) and a synthetic fixture.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

import geometry as g  # noqa: E402

# ---- config ---------------------------------------------------------------------------------
K_LIST = [0, 4, 8, 12, 16, 24, 32, 48, 64]
K_MAX = max(K_LIST)
CHOOSE_BELOW_PX = 0.5        # choose the smallest K whose validation mean error is below this...
CHOOSE_RMS_BELOW_PX = 0.6    # ...and whose RMS error is below this (room left for quantisation)
BASIS_VERSION = 1
SIG_DIGITS = 6
HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def default_data_dir() -> Path:
    base = os.environ.get("KILOFACE_CACHE_DIR") or str(Path.home() / ".cache" / "kiloface")
    return Path(base) / "train-data" / "v1"


# ---- data -----------------------------------------------------------------------------------
class ClipGeometry:
    """One clip's landmarks, poses and pose-normalised shapes (frames with a face only)."""

    def __init__(self, cid: str, lm: np.ndarray, canonical, ids, w):
        ok = np.isfinite(lm).all(axis=(1, 2))
        self.id, self.frames = cid, len(lm)
        self.lm = lm[ok].astype(np.float64)
        self.s, self.r, self.t = g.fit_poses(self.lm, canonical, ids, w)
        self.y = g.to_canonical(self.lm, self.s, self.r, self.t)          # [F, 468, 3] cm

    def deltas(self, ref: str = "first") -> np.ndarray:
        """[F, 1404] shape minus the reference shape (first frame, or the clip's median shape)."""
        y_ref = self.y[0] if ref == "first" else np.median(self.y, axis=0)
        return (self.y - y_ref).reshape(len(self.y), -1)


def load_split(data_dir: Path, canonical, ids, w) -> tuple[dict, dict[str, list[ClipGeometry]]]:
    split = json.loads((data_dir / "split.json").read_text())
    out = {}
    for name in ("train", "val"):
        clips = []
        for cid in split[name]["clips"]:
            p = data_dir / f"{cid}.landmarks.npy"
            if not p.exists():
                continue  # not prepared (no face, or a partial preparation run)
            c = ClipGeometry(cid, np.load(p), canonical, ids, w)
            c.person = json.loads((data_dir / f"{cid}.json").read_text())["person"]
            if len(c.y) >= 2:
                clips.append(c)
        out[name] = clips
    return split, out


# ---- measurement ----------------------------------------------------------------------------
def reconstruction_errors(clips: list[ClipGeometry], basis: np.ndarray, k_list: list[int]) -> dict[int, np.ndarray]:
    """Per frame mean x,y distance (px) over the 468 points, landmarks rebuilt from the exact
    pose and the first K coefficients, reference = the clip's first frame. {K: [frames]}."""
    errs = {k: [] for k in k_list}
    for c in clips:
        d = c.deltas("first")                                            # [F, 1404]
        coef = d @ basis.T                                               # [F, K_MAX]
        y_ref = c.y[0]
        for k in k_list:
            shape = y_ref + (coef[:, :k] @ basis[:k]).reshape(-1, g.N_POINTS, 3)
            rec = g.from_canonical(shape, c.s, c.r, c.t)
            e = np.linalg.norm((rec - c.lm)[..., :2], axis=-1)           # [F, 468] px
            errs[k].append(e)
    return {k: np.concatenate(v) for k, v in errs.items()}


def error_table(errs: dict[int, np.ndarray]) -> list[dict]:
    rows = []
    for k, e in errs.items():
        per_frame = e.mean(axis=1)
        rows.append({"K": k, "mean_px": round(float(e.mean()), 4),
                     "rms_px": round(float(np.sqrt((e ** 2).mean())), 4),
                     "p95_frame_mean_px": round(float(np.percentile(per_frame, 95)), 4),
                     "max_frame_mean_px": round(float(per_frame.max()), 4)})
    return rows


def choose_k(rows: list[dict]) -> int:
    for r in rows:
        if r["K"] > 0 and r["mean_px"] < CHOOSE_BELOW_PX and r["rms_px"] < CHOOSE_RMS_BELOW_PX:
            return r["K"]
    return rows[-1]["K"]


def sensitivities(basis: np.ndarray, canonical: np.ndarray, scale: float) -> dict:
    """RMS x,y displacement (px over the 468 points) per unit of each sent value, at a frontal
    pose of the median training scale: guides the coder's per-value quantiser step."""
    def rms_xy(disp):
        return float(np.sqrt((disp[:, :2] ** 2).sum(axis=1).mean()))
    out = {}
    for i, name in enumerate(("rx", "ry", "rz")):
        axis = np.eye(3)[i]
        out[name] = rms_xy(scale * np.cross(axis, canonical))          # d(R y)/d r at R = I
    out.update(tx=1.0, ty=1.0, tz=0.0, ln_s=rms_xy(scale * canonical))
    out["coefficients"] = [rms_xy(scale * b.reshape(-1, 3)) for b in basis]
    return out


def round_sig(a, digits: int = SIG_DIGITS):
    return [float(f"{v:.{digits}g}") for v in np.asarray(a, np.float64).ravel()]


# ---- synthetic fixture for the TypeScript geometry test --------------------------------------
def make_fixture(basis: np.ndarray, canonical, ids, w, std: np.ndarray) -> dict:
    """3 frames of a synthetic face: the canonical face (as the person's shape) posed and
    deformed by known coefficients. Frame 0 is the reference (no deformation). `expected` is
    what encode() returns and what the TS code must match. It equals `generated_with` to
    rounding: every training delta meets the Procrustes optimality conditions (linear in the
    shape), so every basis component does too and the Procrustes fit cannot see expressions."""
    k = len(basis)
    gen = [
        {"pose": [0.05, -0.10, 0.02, 128.0, 120.0, 0.0, np.log(5.0)], "coefficients": np.zeros(k)},
        {"pose": [0.15, 0.25, -0.05, 120.0, 131.0, 3.0, np.log(5.4)],
         "coefficients": np.pad([1.5, -1.0, 0.5, 0.8], (0, k - 4))[:k] * std},
        {"pose": [-0.20, -0.30, 0.10, 135.0, 118.0, -2.0, np.log(4.6)],
         "coefficients": ((-1.0) ** np.arange(k)) * 0.5 * std},
    ]
    frames = []
    y_ref = None
    for fr in gen:
        pose = g.Pose.from_vector(np.array(fr["pose"], np.float64))
        lm = g.decode(pose, fr["coefficients"], canonical, basis)        # person's shape = canonical
        if y_ref is None:
            y_ref = g.reference_shape(lm, canonical, ids, w)
        p_fit, c_fit = g.encode(lm, y_ref, basis, canonical, ids, w)
        rec = g.decode(p_fit, c_fit, y_ref, basis)
        frames.append({
            "landmarks": [round_sig(p, 9) for p in lm],
            "generated_with": {"pose": round_sig(fr["pose"], 9), "coefficients": round_sig(fr["coefficients"], 9)},
            "expected": {"pose": round_sig(p_fit.vector(), 9), "coefficients": round_sig(c_fit, 9),
                         "reconstruction": [round_sig(p, 9) for p in rec],
                         "reconstruction_mean_px": float(np.linalg.norm((rec - lm)[:, :2], axis=1).mean())},
        })
    return {"version": BASIS_VERSION, "basis": "models/geometry/basis-v1.json", "K": k,
            "note": "synthetic: canonical face (image axes) posed/deformed with known values; frame 0 "
                    "is the reference (y_ref = pose^-1(its landmarks)); no real data. expected = "
                    "encode(landmarks) = generated_with to rounding; reconstruction = decode(expected)",
            "y_ref": [round_sig(p, 9) for p in y_ref],
            "tolerance": {"pose": 1e-6, "coefficients": 1e-5, "reconstruction_px": 1e-4},
            "frames": frames}


# ---- main -----------------------------------------------------------------------------------
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=default_data_dir())
    ap.add_argument("--k", type=int, default=None, help="K to write (default: chosen by the rule)")
    ap.add_argument("--out", type=Path, default=HERE / f"basis-v{BASIS_VERSION}.json")
    ap.add_argument("--fixture", type=Path, default=HERE / f"fixture-v{BASIS_VERSION}.json")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()

    canonical, ids, w = g.load_canonical()
    split, clips = load_split(args.data, canonical, ids, w)
    counts = {n: {"clips": len(v), "people": len({c.person for c in v}),
                  "frames": int(sum(len(c.y) for c in v))} for n, v in clips.items()}
    print(f"data {args.data}: train {counts['train']}, val {counts['val']} (frames with a face)")

    # PCA on training deltas; the reference choice is measured, not assumed.
    tables = {}
    bases = {}
    for ref in ("first", "median"):
        deltas = np.concatenate([c.deltas(ref) for c in clips["train"]])
        basis, sv = g.fit_pca(deltas, K_MAX)
        bases[ref] = (basis, sv, deltas)
        tables[ref] = error_table(reconstruction_errors(clips["val"], basis, K_LIST))
    print("\nvalidation landmark error, px at 256x256 (x,y; exact pose; reference = first frame)")
    print("fit on deltas to:   first frame               | clip median shape")
    print(f"{'K':>3}  {'mean':>7} {'rms':>7} {'p95':>7} {'max':>7} | {'mean':>7} {'rms':>7} {'p95':>7}")
    for a, b in zip(tables["first"], tables["median"]):
        print(f"{a['K']:>3}  {a['mean_px']:7.3f} {a['rms_px']:7.3f} {a['p95_frame_mean_px']:7.3f} "
              f"{a['max_frame_mean_px']:7.3f} | {b['mean_px']:7.3f} {b['rms_px']:7.3f} {b['p95_frame_mean_px']:7.3f}")

    # Keep the fitting reference that measures better at the chosen K (ties: 'first', as in the codec).
    k_first, k_median = choose_k(tables["first"]), choose_k(tables["median"])
    fit_ref = "median" if k_median < k_first else "first"
    k = args.k or choose_k(tables[fit_ref])
    row = next((r for r in tables[fit_ref] if r["K"] == k), None)
    basis, sv, deltas = bases[fit_ref]
    basis = basis[:k]
    coef = deltas @ basis.T
    train_var = (deltas ** 2).sum(axis=1).mean()
    explained = float((coef ** 2).sum(axis=1).mean() / train_var)
    print(f"\nfit reference: {fit_ref}; chosen K = {k} (rule: smallest K with mean < {CHOOSE_BELOW_PX} px and "
          f"RMS < {CHOOSE_RMS_BELOW_PX} px{'; overridden by --k' if args.k else ''}); "
          f"{100 * explained:.2f}% of training delta energy")

    scales = np.concatenate([c.s for c in clips["train"]])
    poses = np.concatenate([np.stack([g.Pose(s, r, t).vector() for s, r, t in zip(c.s, c.r, c.t)])
                            for c in clips["train"]])
    std = coef.std(axis=0)
    doc = {
        "version": BASIS_VERSION,
        "K": k,
        "model": "L = s R (Y_ref + sum_k c_k B_k) + t",
        "coordinates": {
            "landmarks": "MediaPipe face mesh, 468 points, in pixels of the 256x256 crop (x right, y down, "
                         "z = MediaPipe's z at the same scale, positive away from the camera)",
            "canonical": "MediaPipe canonical face (models/mediapipe/canonical_face.json, cm) with y and z "
                         "negated, so its axes are the image's; R = identity is an upright frontal face",
        },
        "pose": {
            "vector": ["rx", "ry", "rz", "tx", "ty", "tz", "ln_s"],
            "rotation": "rotation vector (axis * angle, radians) of R; R = exp([r]x) (Rodrigues)",
            "translation": "t in crop pixels (tz in the z units of the landmarks; it does not move x, y)",
            "scale": "ln of s, s = crop pixels per canonical cm",
            "fit": "weighted similarity Procrustes (Umeyama) of canonical[ids] onto landmarks[ids] with the "
                   "weights below, minimising sum w |s R canonical + t - landmarks|^2 over the 33 points",
            "training_mean": round_sig(poses.mean(axis=0)), "training_std": round_sig(poses.std(axis=0)),
            "training_scale_median": round(float(np.median(scales)), 4),
        },
        "procrustes": {"landmark_ids": ids.tolist(), "weights": w.tolist()},
        "reference": "Y_ref = s_ref^-1 R_ref^T (L_ref - t_ref): the reference frame's own landmarks in "
                     "canonical space (the codec's reference is a frame and carries its landmarks)",
        "encode": "pose from Procrustes; c = B (R^T (L - t) / s - Y_ref), B = components as rows",
        "mean": None,
        "mean_note": "uncentred PCA of the deltas: c = 0 means 'as the reference', the coder's natural origin",
        "fit_reference": fit_ref,
        "components": [round_sig(b) for b in basis],
        "component_std": round_sig(std),
        "component_units": "cm in canonical space; each component has unit norm over its 1404 values, so "
                           "equal steps of any coefficient cost about the same landmark error",
        "sensitivity_px_rms_per_unit": {kk: (round_sig(v, 4) if isinstance(v, list) else round(v, 4))
                                        for kk, v in sensitivities(basis, canonical, float(np.median(scales))).items()},
        "sensitivity_note": "RMS x,y displacement over the 468 points per unit change of each value, frontal "
                            "pose, median training scale",
        "training": {"split": "models/train/data/split-v1.json", "data_version": "train-data/v1",
                     **{f"{n}_{kk}": v for n, c in counts.items() for kk, v in c.items()},
                     "explained_delta_energy": round(explained, 5)},
        "validation_error_table": tables[fit_ref],
        "validation_error_table_other_fit_reference": {
            "first" if fit_ref == "median" else "median": tables["median" if fit_ref == "first" else "first"]},
        "validation_chosen": row,
        "choice_rule": f"smallest K with validation mean < {CHOOSE_BELOW_PX} px and RMS < {CHOOSE_RMS_BELOW_PX} px "
                       "(exact pose), leaving room for quantisation within the codec's 1.0 px target",
    }
    text = json.dumps(doc, separators=(",", ":"))
    args.out.write_text(text + "\n")
    print(f"wrote {args.out} ({len(text) / 1e6:.2f} MB)")
    fixture = make_fixture(basis, canonical, ids, w, std)
    args.fixture.write_text(json.dumps(fixture, separators=(",", ":")) + "\n")
    print(f"wrote {args.fixture} ({args.fixture.stat().st_size / 1e3:.0f} kB); "
          "fixture reconstruction errors (px): "
          + ", ".join(f"{f['expected']['reconstruction_mean_px']:.2e}" for f in fixture["frames"]))
    print(f"done in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
