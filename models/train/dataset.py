"""The training data as the scripts here read it: the prepared clips (models/train/data/prepare.py:
256x256 crops + landmarks, split by person) and decoder v2's coded guide pictures
(models/train/data/guides.py). train.py, evaluate.py and the probes import it (not train.py).
"""
from __future__ import annotations

import json
import os

import cv2
import numpy as np
import torch

from decoder import GRID

CACHE = os.environ.get('KILOFACE_CACHE_DIR') or os.path.join(os.path.expanduser('~'), '.cache', 'kiloface')


def read_clip(data_dir, cid, stride=1, dims=2, with_index=False):
    """Frames (uint8 [T,256,256,3] RGB, every `stride`-th) and landmarks [T,468,dims]; only frames
    with a face. with_index: also each kept frame's index in the clip (25 fps frame number)."""
    lm = np.load(os.path.join(data_dir, cid + '.landmarks.npy'))[:, :, :dims]
    cap = cv2.VideoCapture(os.path.join(data_dir, cid + '.mp4'))
    frames, lms, index, t = [], [], [], 0
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        if t % stride == 0 and t < len(lm) and np.isfinite(lm[t]).all():
            frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            lms.append(lm[t])
            index.append(t)
        t += 1
    cap.release()
    if not frames:
        return None
    out = (np.stack(frames), np.stack(lms).astype(np.float32))
    return out + (np.array(index),) if with_index else out


class ClipGuides:
    """One clip's coded guide pictures (models/train/data/guides.py), per variant tag, with the
    landmarks of the frames they were taken from."""

    def __init__(self, data_dir, cid, tags):
        self.lm = np.load(os.path.join(data_dir, cid + '.landmarks.npy'))[:, :, :2].astype(np.float32)
        self.tags = {}
        for tag in tags:
            meta = os.path.join(data_dir, f'{cid}.guide-{tag}.json')
            if os.path.exists(meta):
                with open(meta) as f:
                    src = np.array(json.load(f)['source_frames'])
                self.tags[tag] = (np.load(os.path.join(data_dir, f'{cid}.guide-{tag}.npy')), src)

    def latest(self, tag, t):
        """Index of the latest guide picture of `tag` taken at or before frame t (-1: none yet)."""
        return int(np.searchsorted(self.tags[tag][1], t, side='right')) - 1

    def at(self, tag, t, back=0):
        """The latest guide picture of `tag` taken at or before frame t (`back` pictures older):
        (picture uint8 [64,64,3], its frame's landmarks [468,2]) or None (none yet, or no face there)."""
        pics, src = self.tags[tag]
        k = self.latest(tag, t) - back
        if k < 0:
            return None
        lm = self.lm[src[k]]
        return (pics[k], lm) if np.isfinite(lm).all() else None


def guide_tags(data_dir, wanted: str):
    """The guide variants to use: `wanted` (comma-separated) or every tag guides.py has made."""
    if wanted:
        return [t for t in wanted.split(',') if t]
    return sorted({f.split('.guide-')[1][:-len('.json')] for f in os.listdir(data_dir)
                   if '.guide-' in f and f.endswith('.json')})


def load_split(data_dir):
    with open(os.path.join(data_dir, 'split.json')) as f:
        split = json.load(f)

    def clips(part):
        ids = part['clips'] if isinstance(part, dict) else part
        return [c for c in ids if os.path.exists(os.path.join(data_dir, c + '.landmarks.npy'))
                and os.path.exists(os.path.join(data_dir, c + '.mp4'))]
    return split, clips(split['train']), clips(split['val'])


def guide_batch(items, lt, n, device):
    """Guide inputs of a batch from [(picture uint8 [64,64,3], landmarks [468,2]) or None] (None
    for the whole list: no guides): guide [n,3,64,64], its landmarks [n,468,2], guide_on [n,1]."""
    g = torch.zeros(n, 3, GRID, GRID, device=device)
    lg = lt.clone()
    on = torch.zeros(n, 1, device=device)
    for i, it in enumerate(items or []):
        if it is not None:
            g[i] = torch.from_numpy(it[0]).permute(2, 0, 1).float().div(255).to(device)
            lg[i] = torch.from_numpy(it[1][:, :2]).to(device)
            on[i] = 1.0
    return g, lg, on


def load_clips(data_dir, ids, stride, dims=2):
    """[(frames, landmarks, frame indices, clip id)] of the clips that have a face."""
    out = []
    for cid in ids:
        c = read_clip(data_dir, cid, stride, dims, with_index=True)
        if c is not None:
            out.append(c + (cid,))
    return out


def clip_ids(clips):
    return [c[3] for c in clips]
