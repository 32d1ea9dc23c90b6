"""Where the decoder's squared error lies: on the face (inside the convex hull of the reference's and
the target's landmarks), in a band around it (hair, ears, neck), or further out (background,
shoulders, camera motion), for the frozen reference, the warp alone and warp + refiner.

    python models/train/error_regions.py --ckpt ~/.cache/kiloface/checkpoints/v2c/best.pt \
        [--data_dir DIR] [--band 20] [--every 20] [--max-frames 10]

Frames: the validation clips, reference = first frame, every `every`-th later frame (at most
`max-frames` per clip). Prints each region's share of the pixels, its share of the squared error
and its MSE.
"""
from __future__ import annotations

import argparse
import os

import cv2
import numpy as np
import torch

from evaluate import TorchDecoder, clip_targets
from dataset import CACHE, load_split

REGIONS = ('face', 'band', 'outside')


def region_masks(lm_ref, lm_tgt, band_px):
    """Three [256,256] 0/1 masks that add up to one: landmark hull, a band around it, the rest."""
    hull = np.zeros((256, 256), np.uint8)
    for lm in (lm_ref, lm_tgt):
        cv2.fillConvexPoly(hull, cv2.convexHull(lm.astype(np.int32)), 1)
    k = 2 * band_px + 1
    band = cv2.dilate(hull, np.ones((k, k), np.uint8)) - hull
    return hull, band, 1 - hull - band


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ckpt', required=True)
    ap.add_argument('--data_dir', default=os.path.join(CACHE, 'train-data', 'v1'))
    ap.add_argument('--band', type=int, default=20, help='band width around the face hull, pixels of 256')
    ap.add_argument('--every', type=int, default=20)
    ap.add_argument('--max-frames', type=int, default=10)
    a = ap.parse_args()
    dec = TorchDecoder(a.ckpt, 2)
    _, _, val_ids = load_split(a.data_dir)
    se = {d: np.zeros(3) for d in ('frozen', 'warp', 'refiner')}
    pixels = np.zeros(3)
    for _, ref, lm_ref, targets in clip_targets(a.data_dir, val_ids, a.every, a.max_frames):
        dec.set_reference(ref, torch.from_numpy(lm_ref)[None])
        for tgt, lt in targets:
            masks = region_masks(lm_ref, lt[0].numpy(), a.band)
            for d, pred in (('frozen', ref), ('warp', dec.warp_only(lt).clamp(0, 1)), ('refiner', dec.image(lt))):
                err = ((pred - tgt) ** 2).mean(1)[0].numpy()
                se[d] += [(err * m).sum() for m in masks]
            pixels += [m.sum() for m in masks]
    print(f"pixels: {', '.join(f'{r} {p:.1%}' for r, p in zip(REGIONS, pixels / pixels.sum()))}")
    for d, v in se.items():
        print(f"{d:8s} share of squared error: {', '.join(f'{r} {x:.1%}' for r, x in zip(REGIONS, v / v.sum()))}; "
              f"MSE: {', '.join(f'{r} {x:.4f}' for r, x in zip(REGIONS, v / pixels))}; all {v.sum() / pixels.sum():.4f}")


if __name__ == '__main__':
    main()
