"""Would a second reference picture pay for itself? Issue 17 asks to measure it against the guide.

    python models/train/multi_reference.py --ckpt CK [--guide av1-48-10-6] [--every 10 --max-frames 16]

On the validation clips (people never seen in training): reference A is the first frame with a
face, as in a call. Reference B is the one a sender could choose to cover what A does not: of the
frames in the first half of the clip, the one whose landmarks lie farthest from A's (mean distance
in crop pixels: pose and expression together). Targets are every `--every`-th frame of the whole
clip (A and B left out). Causal, as in a call: a target before B's frame has only A. After it,
the receiver knows both references' landmarks and the target's, and decodes the target from the
reference whose landmarks are nearer ('nearest'); 'oracle' takes the better picture of the two
(what a perfect choice would give); 'second' switches to B alone (a refreshed reference: is it the
choice per frame that helps, or B being the better single reference?). With --guide, the same with decoder
v2 and that guide variant's latest picture at each target.

Prints per clip and the mean over frames (PSNR dB, SSIM, MS-SSIM on [0,1] RGB at 256x256).
"""
from __future__ import annotations

import argparse
import json
import os

import numpy as np
import torch

from dataset import CACHE, ClipGuides, load_split, read_clip
from evaluate import METRICS, TorchDecoder, metrics


def lm_distance(a, b):
    """Mean distance between two landmark sets [468,2], crop pixels."""
    return float(np.linalg.norm(a - b, axis=-1).mean())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ckpt', required=True)
    ap.add_argument('--data_dir', default=os.path.join(CACHE, 'train-data', 'v1'))
    ap.add_argument('--guide', default='', help='a guide variant (guides.py tag): also measure decoder v2 with it')
    ap.add_argument('--every', type=int, default=10)
    ap.add_argument('--max-frames', type=int, default=16)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--out', default=None)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dec = TorchDecoder(a.ckpt, a.threads)
    _, _, val_ids = load_split(a.data_dir)
    modes = [('geometry', None)] + ([('guide', a.guide)] if a.guide else [])
    ways = ('one', 'second', 'nearest', 'oracle')
    rows, clips = [], []
    for cid in val_ids:
        c = read_clip(a.data_dir, cid, 1, with_index=True)
        if c is None or len(c[0]) < 4:
            continue
        frames, lm, index = c
        guides = ClipGuides(a.data_dir, cid, [a.guide]) if a.guide else None
        if guides is not None and a.guide not in guides.tags:
            print(json.dumps({'clip': cid, 'skipped': f'no guide {a.guide}'}), flush=True)
            continue

        def picture(i):
            return torch.from_numpy(frames[i]).permute(2, 0, 1).float().div(255)[None]
        half = len(frames) // 2
        b = 1 + int(np.argmax([lm_distance(lm[i], lm[0]) for i in range(1, half)]))
        targets = [k for k in range(a.every, len(frames), a.every) if k != b][:a.max_frames]
        refs = [0, b]
        per_ref = {}   # (ref, mode) -> [metrics per target]
        for r in refs:
            dec.set_reference(picture(r), torch.from_numpy(lm[r])[None])
            for mode, tag in modes:
                out = []
                for k in targets:
                    lt = torch.from_numpy(lm[k])[None]
                    g = guides.at(tag, int(index[k])) if tag else None
                    out.append(metrics(dec.image(lt, g).clamp(0, 1) if tag else dec.image(lt).clamp(0, 1), picture(k)))
                per_ref[(r, mode)] = out
        nearer = [0 if k < b or lm_distance(lm[k], lm[0]) <= lm_distance(lm[k], lm[b]) else 1 for k in targets]
        clip_rows = []
        for j, k in enumerate(targets):
            row = {}
            for mode, _ in modes:
                ma, mb = per_ref[(0, mode)][j], per_ref[(b, mode)][j]
                row[f'{mode}:one'] = ma
                row[f'{mode}:second'] = ma if k < b else mb
                row[f'{mode}:nearest'] = (ma, mb)[nearer[j]]
                row[f'{mode}:oracle'] = ma if k < b or ma['psnr'] >= mb['psnr'] else mb
            clip_rows.append(row)
        rows += clip_rows
        keys = [f'{m}:{w}' for m, _ in modes for w in ways]
        clip = {'id': cid, 'frames': len(clip_rows), 'ref_b_frame': int(index[b]),
                'ref_b_distance_px': round(lm_distance(lm[b], lm[0]), 2), 'b_chosen': int(sum(nearer)),
                **{k: {m: float(np.mean([r[k][m] for r in clip_rows])) for m in METRICS} for k in keys}}
        clips.append(clip)
        print(json.dumps({'clip': cid, 'frames': len(clip_rows), 'ref_b_distance_px': clip['ref_b_distance_px'],
                          'b_chosen': clip['b_chosen'], **{k: round(clip[k]['psnr'], 2) for k in keys}}), flush=True)
    keys = [f'{m}:{w}' for m, _ in modes for w in ways]
    mean = {k: {m: float(np.mean([r[k][m] for r in rows])) for m in METRICS} for k in keys}
    out = {'mean': mean, 'frames': len(rows), 'clips': clips, 'every': a.every, 'max_frames': a.max_frames,
           'decoder': a.ckpt, 'guide': a.guide or None,
           'b_chosen_fraction': float(sum(c['b_chosen'] for c in clips) / max(1, len(rows)))}
    print(json.dumps({'mean': {k: {m: round(v, 4) for m, v in d.items()} for k, d in mean.items()}, 'frames': len(rows),
                      'b_chosen_fraction': round(out['b_chosen_fraction'], 3)}, indent=1))
    if a.out:
        with open(a.out, 'w') as f:
            json.dump(out, f, indent=1)


if __name__ == '__main__':
    main()
