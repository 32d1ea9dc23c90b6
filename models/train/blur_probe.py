"""Would a blurrier picture score better? PSNR of a model's refined output, as is and after one
global Gaussian blur (several sigmas), on the validation clips. The question behind the refiner's
blend head: the MSE-best prediction of a target whose fine detail the geometry cannot tell (sensor
and compression noise, hair, small edge motion) is smoother than the reference it is warped from.

    python models/train/blur_probe.py --onnx DIR [--every 4 --max-frames 25]

Prints per clip and the mean over frames; the best sigma per clip is what a per-clip choice would
get, a learned local blend can do better.
"""
from __future__ import annotations

import argparse
import json
import os

import numpy as np
import torch

from decoder import Blur, psnr
from evaluate import OnnxDecoder, clip_targets
from dataset import CACHE, load_split


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--onnx', required=True, help='folder with reference.onnx, frame.onnx, warp.onnx')
    ap.add_argument('--data_dir', default=os.path.join(CACHE, 'train-data', 'v1'))
    ap.add_argument('--every', type=int, default=4)
    ap.add_argument('--max-frames', type=int, default=25)
    ap.add_argument('--sigmas', default='0.5,0.8,1.2,2.0')
    a = ap.parse_args()
    sigmas = [float(s) for s in a.sigmas.split(',')]
    blurs = [Blur(s) for s in sigmas]
    dec = OnnxDecoder(a.onnx, 2)
    _, _, val_ids = load_split(a.data_dir)
    rows, best_per_clip = [], []
    for cid, ref, lm, targets in clip_targets(a.data_dir, val_ids, a.every, a.max_frames):
        dec.set_reference(ref, torch.from_numpy(lm)[None])
        clip_rows = []
        with torch.no_grad():
            for tgt, lt in targets:
                image = dec.image(lt).clamp(0, 1)
                clip_rows.append([psnr(image, tgt).item()] + [psnr(b(image), tgt).item() for b in blurs])
        m = np.mean(clip_rows, 0)
        best_per_clip += [max(m)] * len(clip_rows)
        rows += clip_rows
        print(json.dumps({'clip': cid, 'refined': round(m[0], 2),
                          **{f'blur {s}': round(v, 2) for s, v in zip(sigmas, m[1:])}}), flush=True)
    m = np.mean(rows, 0)
    print(json.dumps({'frames': len(rows), 'refined': round(m[0], 3),
                      **{f'blur {s}': round(v, 3) for s, v in zip(sigmas, m[1:])},
                      'best sigma per clip': round(float(np.mean(best_per_clip)), 3)}))


if __name__ == '__main__':
    main()
