"""Piecewise-affine mesh warp (the alternative named in issue 4) vs the decoder's kernel-regression
warp, warp only, on the validation people. OpenCV, no learning; evaluation only.

    python models/train/pwa_warp.py --ckpt ~/.cache/kiloface/checkpoints/v1/latest.pt [--every 20 --max-frames 4]

Mesh: MediaPipe's 898 face triangles (canonical_face.json) in the target frame, each mapped by its
own affine transform to the reference's triangle; triangles are painted back to front by the
target's landmark depth (z), so the nearer one wins where the mesh folds over (head turns).
Outside the face mesh the reference stays where it is (the crop is fixed per clip).
"""
from __future__ import annotations

import argparse
import json
import os

import cv2
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
from decoder import warp  # noqa: E402
from evaluate import metrics  # noqa: E402
from dataset import CACHE, load_split  # noqa: E402


def triangles():
    with open(os.path.join(HERE, '..', 'mediapipe', 'canonical_face.json')) as f:
        return np.array(json.load(f)['triangles'], np.int64)


def pwa_maps(lm_ref, lm_tgt, tris, size=256):
    """cv2.remap maps (pixel-index coordinates) of the piecewise-affine backward warp."""
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    map_x, map_y = xs.copy(), ys.copy()
    depth = lm_tgt[tris, 2].mean(1)
    for k in np.argsort(-depth):            # far (large z) first, near (negative z) last
        t = lm_tgt[tris[k], :2].astype(np.float32)
        r = lm_ref[tris[k], :2].astype(np.float32)
        x0, y0 = np.floor(t.min(0)).astype(int)
        x1, y1 = np.ceil(t.max(0)).astype(int) + 1
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, size), min(y1, size)
        if x1 <= x0 or y1 <= y0:
            continue
        try:
            a = cv2.getAffineTransform(t, r)         # continuous target -> continuous reference
        except cv2.error:
            continue
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillConvexPoly(mask, np.round((t - [x0, y0]) * 16 - 8).astype(np.int32), 1, cv2.LINE_8, 4)
        yy, xx = np.nonzero(mask)
        px, py = xx + x0 + 0.5, yy + y0 + 0.5        # pixel centres, continuous coordinates
        map_x[yy + y0, xx + x0] = a[0, 0] * px + a[0, 1] * py + a[0, 2] - 0.5
        map_y[yy + y0, xx + x0] = a[1, 0] * px + a[1, 1] * py + a[1, 2] - 0.5
    return map_x, map_y


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ckpt', required=True, help='decoder checkpoint (for its learned kernel widths)')
    ap.add_argument('--data_dir', default=os.path.join(CACHE, 'train-data', 'v1'))
    ap.add_argument('--every', type=int, default=20)
    ap.add_argument('--max-frames', type=int, default=4)
    ap.add_argument('--out', default=None)
    a = ap.parse_args()
    torch.set_num_threads(1)
    from export import load_model
    from dataset import read_clip
    model, _ = load_model(a.ckpt)
    tris = triangles()
    _, _, val_ids = load_split(a.data_dir)
    rows = []
    for cid in val_ids:
        frames, lm2 = read_clip(a.data_dir, cid, 1)
        raw = np.load(os.path.join(a.data_dir, cid + '.landmarks.npy'))
        lm3 = raw[np.isfinite(raw).all((1, 2))]           # read_clip keeps the same frames, in order
        if len(lm3) != len(frames):
            continue
        ref = torch.from_numpy(frames[0]).permute(2, 0, 1).float().div(255)[None]
        for k in list(range(a.every, len(frames), a.every))[:a.max_frames]:
            tgt = torch.from_numpy(frames[k]).permute(2, 0, 1).float().div(255)[None]
            mx, my = pwa_maps(lm3[0], lm3[k], tris)
            pw = cv2.remap(frames[0], mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            pw = torch.from_numpy(pw).permute(2, 0, 1).float().div(255)[None]
            with torch.no_grad():
                kr = warp(ref, model.frame.flow(torch.from_numpy(lm2[0])[None], torch.from_numpy(lm2[k])[None])).clamp(0, 1)
            rows.append({'clip': cid, 'frame': k, 'frozen': metrics(ref, tgt), 'kernel': metrics(kr, tgt), 'pwa': metrics(pw, tgt)})
    mean = {d: {m: float(np.mean([r[d][m] for r in rows])) for m in ('l1', 'psnr', 'ssim', 'msssim')}
            for d in ('frozen', 'kernel', 'pwa')}
    print(json.dumps({'frames': len(rows), 'mean': mean}, indent=1))
    if a.out:
        with open(a.out, 'w') as f:
            json.dump({'frames': len(rows), 'every': a.every, 'max_frames': a.max_frames, 'mean': mean, 'rows': rows}, f, indent=1)


if __name__ == '__main__':
    main()
