"""A tiny synthetic training set in the real data's format, for developing and testing without clips.

Renders MediaPipe's canonical face mesh (468 vertices, 898 triangles) with a smooth colour
texture, under a slowly moving head pose and a mouth that opens and closes, onto a fixed
background; writes per clip `<id>.mp4` (256x256, 25 fps), `<id>.landmarks.npy` (float32
[T,468,3], 256-crop pixels) and `<id>.json`, plus `split.json` (train/val by "person").

    python models/train/synthetic.py --out /tmp/kf-synth --clips 4 --frames 60
"""
import argparse
import json
import math
import os

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
LOWER_LIP = [146, 91, 181, 84, 17, 314, 405, 321, 375, 95, 88, 178, 87, 14, 317, 402, 318, 324]


def load_canonical():
    with open(os.path.join(HERE, '..', 'mediapipe', 'canonical_face.json')) as f:
        d = json.load(f)
    return np.array(d['vertices'], np.float32), np.array(d['triangles'], np.int64)


def rotation(yaw, pitch, roll):
    cy, sy, cp, sp, cr, sr = math.cos(yaw), math.sin(yaw), math.cos(pitch), math.sin(pitch), math.cos(roll), math.sin(roll)
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]], np.float32)
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]], np.float32)
    rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]], np.float32)
    return rz @ rx @ ry


def render_clip(rng, verts, tris, frames, size=256):
    skin = rng.uniform(90, 230, 3)
    bg = rng.uniform(0, 255, 3)
    phase = rng.uniform(0, 6.28, 4)
    tex = np.sin(verts[:, :2] @ rng.normal(0, 0.4, (2, 3)) + phase[:3]) * 25   # per-vertex colour
    images, lms = [], []
    for t in range(frames):
        v = verts.copy()
        mouth = max(0.0, math.sin(0.25 * t + phase[3])) * 1.2       # cm the lower lip drops
        v[LOWER_LIP, 1] -= mouth
        r = rotation(0.25 * math.sin(0.07 * t + phase[0]), 0.15 * math.sin(0.05 * t + phase[1]),
                     0.1 * math.sin(0.04 * t + phase[2]))
        p = v @ r.T
        scale = 9.0 + 0.5 * math.sin(0.03 * t)
        xy = np.stack([size / 2 + scale * p[:, 0] + 6 * math.sin(0.06 * t),
                       size / 2 - scale * p[:, 1] + 4 * math.sin(0.05 * t)], 1)
        img = np.empty((size, size, 3), np.uint8)
        img[:] = bg.astype(np.uint8)
        cv2.circle(img, (int(size / 2), int(size * 0.95)), int(size * 0.35), (bg * 0.5).tolist(), -1)
        order = np.argsort(p[tris].mean(1)[:, 2])       # back to front (+z towards the camera)
        mouth_open = set(range(0))
        for k in order:
            tri = tris[k]
            col = np.clip(skin + tex[tri].mean(0), 0, 255)
            cv2.fillConvexPoly(img, np.round(xy[tri] * 16).astype(np.int32), col.tolist(), cv2.LINE_AA, 4)
        # dark mouth interior between the inner lips
        inner = [78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191]
        cv2.fillPoly(img, [np.round(xy[inner] * 16).astype(np.int32)], (40, 20, 30), cv2.LINE_AA, 4)
        images.append(img)
        lms.append(np.concatenate([xy, (scale * p[:, 2:3])], 1))
    return images, np.array(lms, np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', required=True)
    ap.add_argument('--clips', type=int, default=4)
    ap.add_argument('--frames', type=int, default=60)
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    verts, tris = load_canonical()
    people = {}
    for c in range(a.clips):
        cid = f'synth{c:02d}'
        images, lm = render_clip(rng, verts, tris, a.frames)
        w = cv2.VideoWriter(os.path.join(a.out, cid + '.mp4'), cv2.VideoWriter_fourcc(*'mp4v'), 25, (256, 256))
        for im in images:
            w.write(im[:, :, ::-1].copy())
        w.release()
        np.save(os.path.join(a.out, cid + '.landmarks.npy'), lm)
        person = f'S{c:02d}'
        with open(os.path.join(a.out, cid + '.json'), 'w') as f:
            json.dump({'id': cid, 'person': person, 'frames': a.frames, 'fps': 25, 'synthetic': True}, f)
        people[person] = [cid]
    names = sorted(people)
    val = names[-1:]
    split = {'train': {'people': [p for p in names if p not in val], 'clips': [people[p][0] for p in names if p not in val]},
             'val': {'people': val, 'clips': [people[p][0] for p in val]}}
    with open(os.path.join(a.out, 'split.json'), 'w') as f:
        json.dump(split, f, indent=1)
    print(json.dumps({'out': a.out, 'clips': a.clips, 'frames': a.frames}))


if __name__ == '__main__':
    main()
