"""Export a trained decoder to ONNX (reference.onnx, frame.onnx, warp.onnx), a test fixture and model.json.

    python models/train/export.py --ckpt ~/.cache/kiloface/checkpoints/v1/best.pt --out models/kiloface-v1
           [--metrics eval.json] [--node_eval node-eval.json] [--data_dir DIR]
    python models/train/export.py --from_onnx models/kiloface-v2 --out models/kiloface-v2
           (the shipped weights again with today's graph code, when a change to the graphs keeps their numbers)
    (evaluate.py's and `npm run eval`'s means go into model.json; the split from DIR)

Fixture (models/kiloface-v1/fixture/, for the Node test; no clip frames: the inputs are a
synthetic face rendered by synthetic.py): fixture.json says each file's dtype/shape and the
PyTorch statistics; *.bin are raw little-endian arrays.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
from decoder import (BROWS, EYE_L, EYE_R, FACE_OVAL, GRID, LIPS_INNER, LIPS_OUTER, PATCH, SIZE,  # noqa: E402
                     BLUR_SIGMAS, FLOW_FADE_PX, Decoder, WarpOnly, border_points, count_params, onnx_ops)

OPSET = 17
REF_INPUTS = ['ref_image', 'ref_landmarks']
REF_OUTPUTS = ['ref_feat', 'ref_mouth_feat']
FRAME_INPUTS = ['ref_image', 'ref_feat', 'ref_mouth_feat', 'ref_landmarks', 'tgt_landmarks']
GUIDE_INPUTS = ['guide', 'guide_landmarks', 'guide_on']   # decoder v2's frame.onnx also takes these
FRAME_OUTPUTS = ['image']
WARP_INPUTS = ['ref_image', 'ref_landmarks', 'tgt_landmarks']
WARP_OUTPUTS = ['warped']
# Decoder v2's frame network without its guide branch: what guide_on = 0 computes, for frames without a guide.
FRAME_GEOMETRY_FILE = 'frame-geometry.onnx'


def load_model(ckpt):
    if ckpt is None:
        torch.manual_seed(0)
        return Decoder().eval(), {}
    d = torch.load(ckpt, map_location='cpu')
    m = Decoder(**d.get('model_config', {}))
    m.load_state_dict(d['model'])
    return m.eval(), d


def recorded_run_config(model_json: dict) -> dict:
    """The training config an export's model.json records (empty for exports made before runs recorded one)."""
    return (model_json.get('training') or {}).get('config') or {}


def load_export(folder):
    """An export's network (its model.json says the options of the run) with the export's weights,
    and its model.json."""
    import types
    from train import load_onnx_weights, model_config
    with open(os.path.join(folder, 'model.json')) as f:
        previous = json.load(f)
    run = recorded_run_config(previous)
    m = Decoder(**model_config(types.SimpleNamespace(guide=run.get('guide', False), guide_grid=run.get('guide_grid', GRID),
                                                     frame_ch=run.get('frame_ch', ''), mouth_ch=run.get('mouth_ch', ''))))
    missing = load_onnx_weights(m, folder)
    if missing:
        raise SystemExit(f'{folder} lacks weights for {missing[:5]}')
    return m.eval(), previous


def fixture_inputs(seed=3):
    """A synthetic reference and target (canonical mesh rendered by synthetic.py): no real frames;
    for decoder v2 also a guide: frame 7 of the same render at 64x64 and its landmarks."""
    from synthetic import load_canonical, render_clip
    verts, tris = load_canonical()
    images, lm = render_clip(np.random.default_rng(seed), verts, tris, 12)
    ref = images[0]
    guide = torch.nn.functional.avg_pool2d(torch.from_numpy(images[7]).permute(2, 0, 1).float()[None], 4)
    guide = (guide[0].permute(1, 2, 0).round().clamp(0, 255).numpy().astype(np.uint8), lm[7, :, :2].astype(np.float32))
    return ref, lm[0, :, :2].astype(np.float32), lm[9, :, :2].astype(np.float32), guide


@contextlib.contextmanager
def exported_form(model):
    """The network as frame.onnx has it: the ONNX graphs' ops (decoder.ONNX_OPS) and the picture
    as the only output; back to the training form afterwards."""
    model.frame.image_only = True
    try:
        with onnx_ops():
            yield
    finally:
        model.frame.image_only = False


def export_onnx(model, out_dir, ref_u8, lm_r, lm_t, guide=None):
    """Write reference.onnx, frame.onnx and warp.onnx; return their paths and the PyTorch tensors on
    the given inputs.

    The graphs use the Gather-based bilinear sampler (faster in onnxruntime than GridSample); the
    returned reference tensors come from grid_sample, as in training, so the fixture checks both."""
    r = torch.from_numpy(ref_u8).permute(2, 0, 1).float().div(255.0)[None]
    lr = torch.from_numpy(lm_r)[None]
    lt = torch.from_numpy(lm_t)[None]
    g = ()
    if model.frame.guide:
        g = (torch.from_numpy(guide[0]).permute(2, 0, 1).float().div(255.0)[None], torch.from_numpy(guide[1])[None],
             torch.ones(1, 1))
    frame_inputs = FRAME_INPUTS + (GUIDE_INPUTS if g else [])
    with torch.no_grad():
        feat, mfeat = model.reference(r, lr)
        image, warped = model.frame(r, feat, mfeat, lr, lt, *g)
    paths = {name: os.path.join(out_dir, name + '.onnx') for name in ('reference', 'frame', 'warp')}
    if g:
        paths['frame_geometry'] = os.path.join(out_dir, FRAME_GEOMETRY_FILE)
    with exported_form(model):
        torch.onnx.export(model.reference, (r, lr), paths['reference'], input_names=REF_INPUTS,
                          output_names=REF_OUTPUTS, opset_version=OPSET, dynamo=False)
        # Not constant-folded: every weight stays in the file under its name (train.py --init_onnx
        # reads them back) rather than folded into what the graph computes from it (decoder.up2_conv3x3's
        # kernels); onnxruntime folds those when it loads the graph.
        torch.onnx.export(model.frame, (r, feat, mfeat, lr, lt, *g), paths['frame'], input_names=frame_inputs,
                          output_names=FRAME_OUTPUTS, opset_version=OPSET, dynamo=False, do_constant_folding=False)
        torch.onnx.export(WarpOnly(model.frame.flow), (r, lr, lt), paths['warp'], input_names=WARP_INPUTS,
                          output_names=WARP_OUTPUTS, opset_version=OPSET, dynamo=False)
        if g:
            torch.onnx.export(model.frame.geometry_only(), (r, feat, mfeat, lr, lt), paths['frame_geometry'],
                              input_names=FRAME_INPUTS, output_names=FRAME_OUTPUTS, opset_version=OPSET, dynamo=False,
                              do_constant_folding=False)
    tensors = {'ref_image': r, 'ref_landmarks': lr, 'tgt_landmarks': lt, 'ref_feat': feat,
               'ref_mouth_feat': mfeat, 'image': image, 'warped': warped, **dict(zip(GUIDE_INPUTS, g))}
    return paths, tensors


def run_onnx(paths, t, threads=1):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    sr, sf, sw = (ort.InferenceSession(paths[k], so, providers=['CPUExecutionProvider'])
                  for k in ('reference', 'frame', 'warp'))
    feat, mfeat = sr.run(None, {'ref_image': t['ref_image'].numpy(), 'ref_landmarks': t['ref_landmarks'].numpy()})
    feed = {'ref_image': t['ref_image'].numpy(), 'ref_feat': feat, 'ref_mouth_feat': mfeat,
            'ref_landmarks': t['ref_landmarks'].numpy(), 'tgt_landmarks': t['tgt_landmarks'].numpy(),
            **{k: t[k].numpy() for k in GUIDE_INPUTS if k in t}}
    image, = sf.run(None, feed)
    warped, = sw.run(None, {k: feed[k] for k in WARP_INPUTS})
    out = {'ref_feat': feat, 'ref_mouth_feat': mfeat, 'image': image, 'warped': warped}
    if 'frame_geometry' in paths:
        # frame-geometry.onnx against frame.onnx with guide_on = 0 (both onnxruntime)
        sg = ort.InferenceSession(paths['frame_geometry'], so, providers=['CPUExecutionProvider'])
        plain, = sg.run(None, {k: feed[k] for k in FRAME_INPUTS})
        off, = sf.run(None, {**feed, 'guide_on': np.zeros((1, 1), np.float32)})
        out['frame_geometry_vs_guide_off'] = float(np.abs(plain - off).max())
    return out, (sf, feed)


def write_fixture(out_dir, ref_u8, t, onnx_out):
    """Inputs in full; outputs as float16 (image in full, the rest subsampled) + stats, < 1 MB."""
    fx = os.path.join(out_dir, 'fixture')
    os.makedirs(fx, exist_ok=True)
    files = {}

    def put(name, arr, note):
        arr = np.ascontiguousarray(arr)
        arr.tofile(os.path.join(fx, name + '.bin'))
        files[name] = {'file': name + '.bin', 'dtype': str(arr.dtype), 'shape': list(arr.shape), 'note': note}

    put('ref_image_u8', ref_u8, 'HWC RGB uint8; the model input is NCHW float32 = u8 / 255')
    put('ref_landmarks', t['ref_landmarks'].numpy(), 'float32 [1,468,2] 256-crop pixels')
    put('tgt_landmarks', t['tgt_landmarks'].numpy(), 'float32 [1,468,2] 256-crop pixels')
    if 'guide' in t:
        put('guide_u8', (t['guide'][0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8),
            'HWC RGB uint8 64x64; the model input is NCHW float32 = u8 / 255; guide_on = 1')
        put('guide_landmarks', t['guide_landmarks'].numpy(), 'float32 [1,468,2] 256-crop pixels')
    put('image', t['image'].numpy().astype(np.float16), 'frame.onnx output image, full, float16')
    put('warped_s4', t['warped'].numpy()[:, :, ::4, ::4].astype(np.float16), 'warp.onnx warped[:, :, ::4, ::4], float16')
    put('ref_feat_s2', t['ref_feat'].numpy()[:, :, ::2, ::2].astype(np.float16), 'reference.onnx ref_feat[:, :, ::2, ::2], float16')
    put('ref_mouth_feat_s2', t['ref_mouth_feat'].numpy()[:, :, ::2, ::2].astype(np.float16),
        'reference.onnx ref_mouth_feat[:, :, ::2, ::2], float16')
    stats = {}
    for k in ('ref_feat', 'ref_mouth_feat', 'image', 'warped'):
        a = t[k].numpy().astype(np.float64)
        stats[k] = {'shape': list(a.shape), 'mean': float(a.mean()), 'mean_abs': float(np.abs(a).mean()),
                    'min': float(a.min()), 'max': float(a.max())}
    diffs = {k: float(np.abs(onnx_out[k] - t[k].numpy()).max()) for k in onnx_out if k in t}
    diffs.update({k: v for k, v in onnx_out.items() if k not in t})
    meta = {'what': f'{os.path.basename(os.path.normpath(out_dir))} decoder fixture: synthetic reference (canonical face rendered by '
                    'models/train/synthetic.py fixture_inputs seed 3), PyTorch outputs',
            'files': files, 'pytorch_stats': stats,
            'tolerance': {'image': 2e-3, 'warped': 2e-3, 'ref_feat': 2e-3, 'ref_mouth_feat': 2e-3,
                          'note': 'max abs vs the stored float16 values (float16 rounding is <= 5e-4 '
                                  'for values in [0,1]); feature maps compare at their stored stride'},
            'onnxruntime_python_max_abs_diff_vs_pytorch': diffs}
    with open(os.path.join(fx, 'fixture.json'), 'w') as f:
        json.dump(meta, f, indent=1)
    return diffs


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        h.update(f.read())
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ckpt', default=None, help='checkpoint .pt (omit: untrained weights, for tests)')
    ap.add_argument('--out', default=os.path.join(HERE, '..', 'kiloface-v1'), help='model folder (its name is the model name)')
    ap.add_argument('--metrics', default=None, help='evaluate.py JSON to record in model.json')
    ap.add_argument('--node_eval', default=None, help='`npm run eval -- --out FILE` JSON to record in model.json')
    ap.add_argument('--data_dir', default=None, help='training data dir (split.json is recorded)')
    ap.add_argument('--from_onnx', default=None,
                    help="an export's folder: its weights again, with today's graph code (same numbers, faster ops); "
                         'its model.json\'s training record and metrics are kept')
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.set_num_threads(2)
    previous = None
    if a.from_onnx:
        model, previous = load_export(a.from_onnx)
        ck = {}
    else:
        model, ck = load_model(a.ckpt)
    ref_u8, lm_r, lm_t, guide = fixture_inputs()
    paths, t = export_onnx(model, a.out, ref_u8, lm_r, lm_t, guide)
    onnx_out, _ = run_onnx(paths, t)
    diffs = write_fixture(a.out, ref_u8, t, onnx_out)
    sc, sf = (float(s.detach()) for s in model.frame.flow.sigmas())
    from torch.utils.flop_counter import FlopCounterMode
    with exported_form(model), torch.no_grad(), FlopCounterMode(display=False) as fc:   # what frame.onnx computes
        model.frame(t['ref_image'], t['ref_feat'], t['ref_mouth_feat'], t['ref_landmarks'], t['tgt_landmarks'],
                    *(t[k] for k in GUIDE_INPUTS if k in t))
    gflop = fc.get_total_flops() / 1e9
    split = None
    if a.data_dir and os.path.exists(os.path.join(a.data_dir, 'split.json')):
        with open(os.path.join(a.data_dir, 'split.json')) as f:
            s = json.load(f)
        split = {k: {'people': s[k]['people'], 'clips': s[k]['clips']} for k in ('train', 'val')}
        split.update({k: s[k] for k in ('seed', 'val_fraction', 'version') if k in s})
    state = ck.get('state', {})
    manifest = {
        'name': os.path.basename(os.path.normpath(a.out)), 'format': 'onnx', 'opset': OPSET,
        'files': {'reference': {'file': 'reference.onnx', 'bytes': os.path.getsize(paths['reference']),
                                'sha256': sha256(paths['reference']), 'runs': 'once per reference picture',
                                'params': count_params(model.reference)},
                  'frame': {'file': 'frame.onnx', 'bytes': os.path.getsize(paths['frame']), 'sha256': sha256(paths['frame']),
                            'runs': 'per frame', 'params': count_params(model.frame)},
                  'warp': {'file': 'warp.onnx', 'bytes': os.path.getsize(paths['warp']), 'sha256': sha256(paths['warp']),
                           'runs': 'evaluation only: the warp-only baseline (not in calls)',
                           'params': count_params(model.frame.flow)},
                  **({'frame_geometry': {'file': FRAME_GEOMETRY_FILE, 'bytes': os.path.getsize(paths['frame_geometry']),
                                         'sha256': sha256(paths['frame_geometry']),
                                         'runs': 'per frame without a guide (geometry-only modes, a lost guide): '
                                                 'frame.onnx with guide_on 0, without its guide branch',
                                         'params': count_params(model.frame.geometry_only())}}
                     if 'frame_geometry' in paths else {})},
        'image': {'size': [SIZE, SIZE], 'layout': 'NCHW', 'channels': 'RGB', 'dtype': 'float32',
                  'normalisation': 'u8 / 255 (range [0,1]); outputs in the same range (image clamped)'},
        'landmarks': {'points': 468, 'topology': 'MediaPipe face mesh (models/mediapipe)', 'dims': 2,
                      'units': 'x, y in 256-crop pixels (pixel j covers [j, j+1)); z unused',
                      'subset': 'all 468 (the fixed-crop border points are built into the graph)',
                      'border_points': border_points().tolist()},
        'inputs': {'reference.onnx': {'ref_image': [1, 3, SIZE, SIZE], 'ref_landmarks': [1, 468, 2]},
                   'frame.onnx': {'ref_image': [1, 3, SIZE, SIZE], 'ref_feat': list(t['ref_feat'].shape),
                                  'ref_mouth_feat': list(t['ref_mouth_feat'].shape),
                                  'ref_landmarks': [1, 468, 2], 'tgt_landmarks': [1, 468, 2],
                                  **({'guide': [1, 3, GRID, GRID], 'guide_landmarks': [1, 468, 2], 'guide_on': [1, 1]}
                                     if model.frame.guide else {})},
                   'warp.onnx': {'ref_image': [1, 3, SIZE, SIZE], 'ref_landmarks': [1, 468, 2],
                                 'tgt_landmarks': [1, 468, 2]},
                   **({FRAME_GEOMETRY_FILE: {'ref_image': [1, 3, SIZE, SIZE], 'ref_feat': list(t['ref_feat'].shape),
                                             'ref_mouth_feat': list(t['ref_mouth_feat'].shape),
                                             'ref_landmarks': [1, 468, 2], 'tgt_landmarks': [1, 468, 2]}}
                      if 'frame_geometry' in paths else {})},
        'outputs': {'reference.onnx': {'ref_feat': list(t['ref_feat'].shape), 'ref_mouth_feat': list(t['ref_mouth_feat'].shape)},
                    'frame.onnx': {'image': [1, 3, SIZE, SIZE]}, 'warp.onnx': {'warped': [1, 3, SIZE, SIZE]},
                    **({FRAME_GEOMETRY_FILE: {'image': [1, 3, SIZE, SIZE]}} if 'frame_geometry' in paths else {})},
        'outputs_note': '`image` is warp + refiner (the decoder output); `warped` is warp only (the baseline)',
        'motion': {'method': 'two-level normalised Gaussian kernel regression of landmark displacements '
                             '(reference - target) on a 64x64 grid, bilinear upsampling, bilinear sampling of the reference (Gather-based in the ONNX graph)',
                   'sigma_coarse_px': sc, 'sigma_fine_px': sf, 'eps': model.frame.flow.eps, 'grid': GRID},
        'refiner': {'frame': f'3-level U-Net at 64x64 ({"/".join(map(str, model.frame.config["frame_ch"]))} channels): a correction of the landmark flow (faded to zero over '
                             f'{FLOW_FADE_PX:g} px along the crop edge; then the one full-size warp), an additive '
                             'colour correction and per-region weights blending the warp towards its Gaussian blurs '
                             f'(sigma {", ".join(f"{s:g}" for s in BLUR_SIGMAS)} px), all upsampled to 256',
                    'mouth': f'{PATCH}x{PATCH} patch ({"/".join(map(str, model.frame.config["mouth_ch"]))} channels), side {model.frame.mouth_scale} x outer-eye-corner distance, '
                             'rotated with the eye line, centred on the outer lips; additive, soft window',
                    'landmark_groups': {'lips_outer': LIPS_OUTER, 'lips_inner': LIPS_INNER, 'eye_r': EYE_R,
                                        'eye_l': EYE_L, 'brows': BROWS, 'face_oval': FACE_OVAL}},
        'coefficient_basis': 'none: the decoder takes landmarks; the codec decodes its coefficients to landmarks first',
        'training': {'checkpoint': os.path.basename(a.ckpt) if a.ckpt else None, 'steps': state.get('step'),
                     'samples': state.get('samples'),
                     'wall_hours': round(state.get('train_seconds', 0) / 3600, 3) if state else None,
                     'config': ck.get('config'), 'split': split},
        'parity': {'onnxruntime_python_max_abs_diff_vs_pytorch': diffs},
        'gflop_per_frame': gflop,
        'gflop_note': 'frame.onnx, convolutions + matmuls counted by torch.utils.flop_counter (2 FLOP per multiply-add)',
        'metrics': None,
        'exported': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
    }
    if previous:
        for key in ('training', 'metrics', 'metrics_npm_eval'):
            if key in previous:
                manifest[key] = previous[key]
        manifest['graph_note'] = (f'graphs re-exported {manifest["exported"]} from the weights of the export of '
                                  f'{previous.get("exported")} (export.py --from_onnx): the same pictures, computed faster')
    if a.metrics:
        with open(a.metrics) as f:
            manifest['metrics'] = json.load(f).get('mean')
    if a.node_eval:
        with open(a.node_eval) as f:
            ne = json.load(f)
        manifest['metrics_npm_eval'] = {'mean': ne['mean'], 'ms_per_frame': ne['ms_per_frame'],
                                        'runtime': ne.get('ms_per_frame_runtime'), 'max_frames': ne.get('max_frames'),
                                        'geometry_quantizer': ne.get('geometry_quantizer'), 'clips': len(ne['clips'])}
    with open(os.path.join(a.out, 'model.json'), 'w') as f:
        json.dump(manifest, f, indent=1)
    print(json.dumps({'reference_bytes': manifest['files']['reference']['bytes'],
                      'frame_bytes': manifest['files']['frame']['bytes'], 'max_abs_diff': diffs}))


if __name__ == '__main__':
    main()
