"""Evaluate the decoder on validation clips: reference frozen / warp only / warp + refiner.

    python models/train/evaluate.py --ckpt ~/.cache/kiloface/checkpoints/v1/best.pt [--out eval.json]
    python models/train/evaluate.py --onnx models/kiloface-v1 [--threads 2]     # the shipped ONNX files
    python models/train/evaluate.py --ckpt CK --guides av1-48-10-6,av1-64-10-12   # decoder v2's guide modes

For each validation clip (split.json's `val`, i.e. people never seen in training): the first frame
with a face is the reference (as in a call), and every `--every`-th later frame (at most
`--max-frames`) is rebuilt from its landmarks. Metrics on [0,1] RGB at 256x256: L1, PSNR, SSIM,
MS-SSIM (decoder.py's implementations, Gaussian window 11, sigma 1.5). JSON shape:
{"mean": {"frozen": {...}, "warp": {...}, "refiner": {...}}, "ms_per_frame": ..., "clips": [...]}.
Means are over all evaluated frames (each frame counts once).

With --guides (decoder v2): per guide variant of models/train/data/guides.py, the decoder with the
latest guide picture a receiver holds at each target ('guide:<tag>'), the guide alone scaled to
256 bicubically and held between its pictures ('guide-only:<tag>': what that codec alone shows at
that rate), and the guide stream's payload kbit/s on these clips ('guide_kbps').
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import torch

import torch.nn.functional as F

from decoder import ms_ssim, psnr, ssim
from dataset import CACHE, ClipGuides, guide_batch, load_split, read_clip

DECODERS = ('frozen', 'warp', 'refiner')
METRICS = ('l1', 'psnr', 'ssim', 'msssim')


class TorchDecoder:
    """image() is the decoder a call runs (timed); warp_only() the baseline (not timed)."""

    def __init__(self, ckpt, threads):
        from decoder import WarpOnly
        from export import load_model
        torch.set_num_threads(threads)
        self.model, _ = load_model(ckpt)
        self.model.frame.image_only = True
        self.warp = WarpOnly(self.model.frame.flow)

    def set_reference(self, ref, lm):
        self.ref, self.lm = ref, lm
        with torch.no_grad():
            self.feat = self.model.reference(ref, lm)

    def image(self, lt, guide=None):
        with torch.no_grad():
            if self.model.frame.guide:
                return self.model.frame(self.ref, *self.feat, self.lm, lt, *guide_batch([guide], lt, 1, 'cpu'))
            return self.model.frame(self.ref, *self.feat, self.lm, lt)

    def warp_only(self, lt):
        with torch.no_grad():
            return self.warp(self.ref, self.lm, lt)


class OnnxDecoder:
    def __init__(self, folder, threads):
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        self.sr = ort.InferenceSession(os.path.join(folder, 'reference.onnx'), so, providers=['CPUExecutionProvider'])
        self.sf = ort.InferenceSession(os.path.join(folder, 'frame.onnx'), so, providers=['CPUExecutionProvider'])
        self.sw = ort.InferenceSession(os.path.join(folder, 'warp.onnx'), so, providers=['CPUExecutionProvider'])

    def set_reference(self, ref, lm):
        self.ref, self.lm = ref.numpy(), lm.numpy()
        self.feat = self.sr.run(None, {'ref_image': self.ref, 'ref_landmarks': self.lm})

    def image(self, lt):
        image, = self.sf.run(None, {'ref_image': self.ref, 'ref_feat': self.feat[0], 'ref_mouth_feat': self.feat[1],
                                    'ref_landmarks': self.lm, 'tgt_landmarks': lt.numpy()})
        return torch.from_numpy(image)

    def warp_only(self, lt):
        warped, = self.sw.run(None, {'ref_image': self.ref, 'ref_landmarks': self.lm, 'tgt_landmarks': lt.numpy()})
        return torch.from_numpy(warped)


def clip_targets(data_dir, ids, every, max_frames):
    """Per clip with two or more frames with a face: (clip id, reference [1,3,256,256] (its first
    such frame), its landmarks [468,2], targets), targets = (picture, landmarks [1,468,2], 25 fps
    frame number) of every `every`-th later frame, at most `max_frames`."""
    for cid in ids:
        c = read_clip(data_dir, cid, 1, with_index=True)
        if c is None or len(c[0]) < 2:
            continue
        frames, lm, index = c

        def picture(i):
            return torch.from_numpy(frames[i]).permute(2, 0, 1).float().div(255)[None]
        ks = list(range(every, len(frames), every))[:max_frames]
        yield cid, picture(0), lm[0], [(picture(k), torch.from_numpy(lm[k])[None], int(index[k])) for k in ks]


def upscaled(guide_u8):
    """A guide picture as its codec alone would show it: 64 -> 256 bicubic, [1,3,256,256]."""
    g = torch.from_numpy(guide_u8).permute(2, 0, 1).float().div(255)[None]
    return F.interpolate(g, size=(256, 256), mode='bicubic', align_corners=False).clamp(0, 1)


def metrics(pred, target):
    return {'l1': (pred - target).abs().mean().item(), 'psnr': psnr(pred, target).item(),
            'ssim': ssim(pred, target).item(), 'msssim': ms_ssim(pred, target).item()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ckpt', default=None)
    ap.add_argument('--onnx', default=None, help='folder with reference.onnx and frame.onnx')
    ap.add_argument('--data_dir', default=os.path.join(CACHE, 'train-data', 'v1'))
    ap.add_argument('--part', default='val', choices=['val', 'train'])
    ap.add_argument('--every', type=int, default=5, help='evaluate every n-th frame')
    ap.add_argument('--max-frames', type=int, default=40, help='frames per clip (after --every)')
    ap.add_argument('--max-clips', type=int, default=1000)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--guides', default='', help='decoder v2: comma-separated guide variants (guides.py tags)')
    ap.add_argument('--out', default=None)
    a = ap.parse_args()
    tags = [t for t in a.guides.split(',') if t]
    torch.set_num_threads(a.threads)
    dec = OnnxDecoder(a.onnx, a.threads) if a.onnx else TorchDecoder(a.ckpt, a.threads)
    _, train_ids, val_ids = load_split(a.data_dir)
    ids = (val_ids if a.part == 'val' else train_ids)[:a.max_clips]
    decoders = DECODERS + tuple(f'{k}:{t}' for t in tags for k in ('guide', 'guide-only'))
    clips, all_rows, frame_ms, kbps = [], [], [], {t: [] for t in tags}
    for cid, ref, lm_ref, targets in clip_targets(a.data_dir, ids, a.every, a.max_frames):
        guides = ClipGuides(a.data_dir, cid, tags)
        if set(guides.tags) != set(tags):
            print(json.dumps({'clip': cid, 'skipped': f'no guides {sorted(set(tags) - set(guides.tags))}'}), flush=True)
            continue
        for t in tags:
            with open(os.path.join(a.data_dir, f'{cid}.guide-{t}.json')) as f:
                kbps[t].append(json.load(f)['kbps'])
        dec.set_reference(ref, torch.from_numpy(lm_ref)[None])
        rows = []
        for tgt, lt, frame in targets:
            t0 = time.perf_counter()
            image = dec.image(lt)
            frame_ms.append((time.perf_counter() - t0) * 1000)
            warped = dec.warp_only(lt)
            row = {'frozen': metrics(ref, tgt), 'warp': metrics(warped.clamp(0, 1), tgt),
                   'refiner': metrics(image.clamp(0, 1), tgt)}
            for t in tags:
                g = guides.at(t, frame)
                shown = upscaled(guides.tags[t][0][max(0, guides.latest(t, frame))])
                row[f'guide:{t}'] = metrics(dec.image(lt, g).clamp(0, 1), tgt)
                row[f'guide-only:{t}'] = metrics(shown, tgt)
            rows.append(row)
        all_rows += rows
        clip = {'id': cid, 'frames': len(rows),
                **{d: {m: float(np.mean([r[d][m] for r in rows])) for m in METRICS} for d in decoders}}
        clips.append(clip)
        print(json.dumps({'clip': cid, 'frames': len(rows), **{d: round(clip[d]['psnr'], 2) for d in decoders}}), flush=True)
    mean = {d: {m: float(np.mean([r[d][m] for r in all_rows])) for m in METRICS} for d in decoders}
    out = {'mean': mean, 'ms_per_frame': float(np.median(frame_ms)), 'ms_per_frame_note':
           f"median decoder time per frame ({'onnxruntime python' if a.onnx else 'pytorch'}, {a.threads} threads, "
           'this machine, shared with other work)',
           'frames': len(all_rows), 'clips_evaluated': len(clips), 'part': a.part, 'every': a.every,
           'max_frames': a.max_frames, 'decoder': a.onnx or a.ckpt, 'clips': clips,
           'guide_kbps': {t: float(np.mean(v)) for t, v in kbps.items() if v}}
    print(json.dumps({'mean': mean, 'frames': len(all_rows), 'clips': len(clips), 'ms_per_frame': out['ms_per_frame'],
                      'guide_kbps': out['guide_kbps']}, indent=1))
    if a.out:
        with open(a.out, 'w') as f:
            json.dump(out, f, indent=1)


if __name__ == '__main__':
    main()
