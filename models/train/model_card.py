"""Write a model folder's MODEL_CARD.md (models/kiloface-v1, models/kiloface-v2) from model.json, an evaluate.py JSON, the training log,
the data split and ../shared/data/MANIFEST.tsv (licences), so the card's numbers are the measured ones.

    python models/train/model_card.py --eval eval.json --log ~/.cache/kiloface/checkpoints/v1/log.jsonl \
        [--node_eval node-eval.json] [--bench bench.json] [--model models/kiloface-v1]
        [--manifest ../shared/data/MANIFEST.tsv] [--notes models/train/model-card-notes.md]
"""
from __future__ import annotations

import argparse
import collections
import csv
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..'))


def licence_table(manifest, data_dir, split):
    rows = {r['file']: r for r in csv.DictReader(open(manifest), delimiter='\t')}
    out = {}
    for part in ('train', 'val'):
        lic, repos, frames = collections.Counter(), collections.Counter(), 0
        for cid in split[part]['clips']:
            meta_path = os.path.join(data_dir, cid + '.json')
            if not os.path.exists(meta_path):
                continue
            meta = json.load(open(meta_path))
            r = rows.get(meta.get('source_file'))
            frames += meta.get('frames_with_face', 0)
            if r:
                lic[r['repo_license']] += 1
                repos[r['repo']] += 1
        out[part] = (lic, repos, frames)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', default=os.path.join(REPO, 'models', 'kiloface-v1'))
    ap.add_argument('--eval', required=True)
    ap.add_argument('--log', required=True)
    ap.add_argument('--bench', default=None, help='bench_node.mjs JSON output')
    ap.add_argument('--node_eval', default=None, help='`npm run eval -- --out FILE` JSON (coded geometry, Node)')
    ap.add_argument('--manifest', default=os.path.join(REPO, '..', 'shared', 'data', 'MANIFEST.tsv'))
    ap.add_argument('--notes', default=os.path.join(HERE, 'model-card-notes.md'),
                    help='markdown appended (failure cases, what is left, training history)')
    a = ap.parse_args()
    mj = json.load(open(os.path.join(a.model, 'model.json')))
    ev = json.load(open(a.eval))
    log = [json.loads(line) for line in open(a.log)]
    split = mj['training']['split']
    data_dir = mj['training']['config']['data_dir']
    lic = licence_table(a.manifest, data_dir, split)
    trains = [r for r in log if r.get('event') == 'train']
    vals = [r for r in log if r.get('event') == 'val']
    state = mj['training']
    name = os.path.basename(os.path.normpath(a.model))
    rel = os.path.relpath(a.model, REPO)
    guided = any(k.startswith('guide:') for k in ev['mean'])
    L = []
    L.append(f'# {name} decoder: model card\n')
    L.append('Rebuilds a 256x256 face frame from ONE reference picture (plus its landmarks) and the '
             "target frame's 468 MediaPipe landmarks. `reference.onnx` runs once per reference; "
             '`frame.onnx` runs per frame and outputs `image` (warp + refiner); `warp.onnx` is the landmark '
             'warp alone (the evaluation\'s "warp only" baseline; calls do not run it). '
             'Inputs, shapes and conventions: `model.json`. Code: `models/train/` (decoder.py explains the design).\n')
    if guided:
        L.append('Decoder v2: `frame.onnx` also takes a guide picture (`guide`, 64x64 RGB: a low-resolution picture of '
                 'the crop coded by a standard codec, the stream\'s guide layer), the landmarks of the frame it was '
                 'taken from (`guide_landmarks`) and `guide_on` (0: no guide, geometry-only mode or a lost guide; the '
                 'picture is then the parent\'s, whose weights this run did not change, to float rounding).\n')
    L.append('## Architecture\n')
    f = mj['files']
    L.append(f"- Motion: {mj['motion']['method']}; learned sigma {mj['motion']['sigma_coarse_px']:.2f} px / "
             f"{mj['motion']['sigma_fine_px']:.2f} px, eps {mj['motion']['eps']}, 16 fixed border points.")
    L.append(f"- Refiner: {mj['refiner']['frame']}; mouth: {mj['refiner']['mouth']}.")
    L.append(f"- Parameters: reference.onnx {f['reference']['params']:,} ({f['reference']['bytes'] / 1e3:.0f} kB), "
             f"frame.onnx {f['frame']['params']:,} ({f['frame']['bytes'] / 1e3:.0f} kB); opset {mj['opset']}.")
    if 'frame_geometry' in f:
        g = f['frame_geometry']
        L.append(f"- `{g['file']}`: frame.onnx without its guide branch, {g['params']:,} parameters ({g['bytes'] / 1e3:.0f} kB): "
                 "what frame.onnx computes with guide_on 0 (the same picture, max difference "
                 f"{mj['parity']['onnxruntime_python_max_abs_diff_vs_pytorch'].get('frame_geometry_vs_guide_off', float('nan')):g}), "
                 "without the guide branch's work; receivers run it for frames without a guide and fetch frame.onnx only "
                 "when the first guide picture comes.")
    if mj.get('gflop_per_frame'):
        L.append(f"- Compute: {mj['gflop_per_frame']:.3f} GFLOP per frame (convolutions and matmuls, "
                 'counted by torch.utils.flop_counter; 2 FLOP per multiply-add).')
    if a.bench:
        b = json.load(open(a.bench))
        t1, t2, t2s = b['threads']['1'], b['threads']['2'], b['threads'].get('2_no_spinning')
        L.append(f"- Speed, onnxruntime-node, {b['cpu']} ({b['cores']} cores, load average "
                 f"{', '.join(f'{x:.1f}' for x in b['loadavg'])} at the run): frame.onnx "
                 f"1 thread median {t1['frame_median_ms']} ms (min {t1['frame_min_ms']}), 2 threads median "
                 f"{t2['frame_median_ms']} ms (min {t2['frame_min_ms']})"
                 + (f", 2 threads with allow_spinning off {t2s['frame_median_ms']} ms" if t2s else '')
                 + f"; reference.onnx {t1['reference_ms']} ms (1 thread). "
                 f"`node models/train/bench_node.mjs {rel} {b['runs']}`.")
    L.append('\n## Training\n')
    cfg = state['config'] or {}
    L.append(f"- Data: `models/train/data/prepare.py` crops (256x256, 25 fps, fixed crop per clip) of the "
             f"talking-head clips of ../shared/data; split by person (seed {split.get('seed')}): "
             f"{len(split['train']['people'])} train people / {len(split['train']['clips'])} clips / "
             f"{lic['train'][2]} frames with a face; {len(split['val']['people'])} validation people / "
             f"{len(split['val']['clips'])} clips / {lic['val'][2]} frames. Validation people: "
             f"{', '.join(split['val']['people'])}.")
    L.append(f"- Pairs: reference and target drawn at random from the same training clip (every "
             f"{cfg.get('frame_stride')}nd frame kept in memory), horizontal flip with MediaPipe's mirror map, "
             f"colour jitter {cfg.get('jitter')}.")
    L.append(f"- Loss: region-weighted L1 (mouth weight 1+{cfg.get('w_mouth')}, eyes 1+{cfg.get('w_eyes')}) + "
             f"pyramid L1 (1/2, 1/4) + {cfg.get('w_msssim')} x (1 - MS-SSIM)"
             + (f" + {cfg.get('w_l2')} x MSE" if cfg.get('w_l2') else '')
             + (f" + {cfg.get('w_psnr')} x (-PSNR in dB, per picture)" if cfg.get('w_psnr') else '')
             + '; no pretrained networks, no GAN.')
    if cfg.get('coded_targets'):
        L.append(f"- Coded targets: {cfg.get('coded_targets'):.0%} of the pairs' target landmarks go through the codec's "
                 'geometry (head pose + expression coefficients relative to the reference\'s shape, '
                 'models/geometry), as a receiver gets them'
                 + (f", rounded at the codec's geometry quantiser {cfg.get('coded_quantizer')}"
                    if cfg.get('coded_quantizer', -1) >= 0 else '')
                 + '; the rest are the tracker\'s raw points.')
    drop = (f"step {cfg['lr_drop_step']}" if cfg.get('lr_drop_step') else f"{cfg.get('lr_drop_at')} of the time budget")
    L.append(f"- Optimiser: Adam, lr {cfg.get('lr')} then {cfg.get('lr_late')} from {drop}; batch {cfg.get('batch')}.")
    if cfg.get('train_guide_only'):
        L.append('- Trained: only the guide\'s parts (the fusion net and the frame net\'s first-conv weights of the guide '
                 'inputs); everything else is the parent\'s, frozen '
                 + (f"(`--init_onnx {cfg['init_onnx']}`)" if cfg.get('init_onnx') else f"(`--init_ckpt {cfg.get('init_ckpt')}`)")
                 + f". Guides: {cfg.get('guide_stale'):.0%} of the pairs get a guide "
                 '1-4 pictures old (as after a loss), the rest the latest one; every variant of '
                 '`models/train/data/guides.py` mixed.')
    if cfg.get('frame_ch') or cfg.get('mouth_ch'):
        L.append(f"- Narrowed: frame net {cfg.get('frame_ch') or 'as the parent'}, mouth net {cfg.get('mouth_ch') or 'as the parent'} "
                 f"channels, started from the strongest filters of `--init_onnx {cfg.get('init_onnx')}` (models/train/prune.py); "
                 f"every weight trained, with {cfg.get('distill')} x the same loss towards the parent's own picture (the parent frozen); "
                 f"{cfg.get('guide_none'):.0%} of the pairs without a guide, {cfg.get('guide_stale'):.0%} of the guided ones 1-4 pictures old.")
    L.append(f"- Compute of the run that made these weights: CPU only ({cfg.get('threads')} torch threads on a 2-core "
             f"machine), {state.get('steps')} steps, {state.get('samples')} samples, {state.get('wall_hours')} h wall "
             'clock (validation included); earlier runs it started from: see the training history below. '
             'No GPU was lent to this task.')
    if trains:
        def seg(rs):
            return {k: sum(r[k] for r in rs) / len(rs) for k in ('loss', 'l1', 'l1_warp')}
        n = max(1, len(trains) // 5)
        L.append('- Training loss (means over consecutive log windows of '
                 f"{n * cfg.get('log_every', 10)} steps; `l1_warp` is warp-only L1 on the same batches):\n")
        L.append('| steps | loss | L1 refined | L1 warp-only |')
        L.append('|---|---|---|---|')
        for i in range(0, len(trains), n):
            rs = trains[i:i + n]
            s = seg(rs)
            L.append(f"| {rs[0]['step'] - cfg.get('log_every', 10) + 1}-{rs[-1]['step']} | {s['loss']:.4f} | "
                     f"{s['l1']:.4f} | {s['l1_warp']:.4f} |")
    if vals:
        L.append('\n- Validation during training (first frame of each validation clip as reference, '
                 f"{cfg.get('val_per_clip')} targets per clip, {vals[-1].get('frames')} frames):\n")
        L.append('| step | warp PSNR | refined PSNR | warp MS-SSIM | refined MS-SSIM | refined L1 |')
        L.append('|---|---|---|---|---|---|')
        for v in vals:
            L.append(f"| {v['step']} | {v['warp']['psnr']:.2f} | {v['refiner']['psnr']:.2f} | "
                     f"{v['warp']['msssim']:.4f} | {v['refiner']['msssim']:.4f} | {v['refiner']['l1']:.4f} |")
    if vals and guided:
        tags = [k for k in vals[-1] if k.startswith('guide:')]
        L.append('\n- With guides (refined PSNR / MS-SSIM):\n')
        L.append('| step | ' + ' | '.join(tags) + ' |')
        L.append('|---|' + '---|' * len(tags))
        for v in vals:
            L.append(f"| {v['step']} | " + ' | '.join(f"{v[t]['psnr']:.2f} / {v[t]['msssim']:.4f}" if t in v else '' for t in tags) + ' |')
    L.append('\n## Results on the validation people\n')
    m = ev['mean']
    guide_arg = (' --guides ' + ','.join(ev['guide_kbps'])) if guided else ''
    source = f'--onnx {rel}' if not str(ev.get('decoder', '')).endswith('.pt') else '--ckpt CK (the checkpoint exported here)'
    L.append(f"`python models/train/evaluate.py {source} --every {ev['every']} --max-frames "
             f"{ev['max_frames']}{guide_arg}` ({'ONNX files' if 'onnx' in str(ev.get('decoder', '')) or os.path.isdir(str(ev.get('decoder', ''))) else ev.get('decoder')}): "
             f"{ev['clips_evaluated']} clips, {ev['frames']} frames; reference = the first frame with a face, "
             f"every {ev['every']}th later frame rebuilt (at most {ev['max_frames']} per clip). Means over frames; "
             'metrics on [0,1] RGB at 256x256 (PSNR averaged per frame in dB).\n')
    L.append('| decoder | L1 | PSNR (dB) | SSIM | MS-SSIM |')
    L.append('|---|---|---|---|---|')
    for k, name in (('frozen', 'reference frozen'), ('warp', 'warp only'), ('refiner', 'warp + refiner')):
        L.append(f"| {name} | {m[k]['l1']:.4f} | {m[k]['psnr']:.2f} | {m[k]['ssim']:.4f} | {m[k]['msssim']:.4f} |")
    if guided:
        L.append('\nWith the guide layer: each variant of `models/train/data/guides.py` (codec, coded side px, pictures/s, '
                 'target kbit/s), the latest guide picture a receiver holds at each target frame; "guide alone" is that '
                 'picture scaled to 256 bicubically and held between pictures (what the codec alone shows at that rate). '
                 'Payload: the guide stream\'s own, on these clips (geometry and headers come on top).\n')
        L.append('| guide | payload kbit/s | decoder v2: PSNR / SSIM / MS-SSIM | guide alone: PSNR / SSIM / MS-SSIM |')
        L.append('|---|---|---|---|')
        for tag, kbps in ev['guide_kbps'].items():
            g, o = m[f'guide:{tag}'], m[f'guide-only:{tag}']
            L.append(f"| {tag} | {kbps:.1f} | {g['psnr']:.2f} / {g['ssim']:.4f} / {g['msssim']:.4f} | "
                     f"{o['psnr']:.2f} / {o['ssim']:.4f} / {o['msssim']:.4f} |")
    d_psnr = m['refiner']['psnr'] - m['warp']['psnr']
    d_ms = m['refiner']['msssim'] - m['warp']['msssim']
    L.append(f"\nIssue 4's targets: refiner - warp = {d_psnr:+.2f} dB PSNR (target >= +1) and {d_ms:+.4f} MS-SSIM "
             f"(target >= +0.02); mean L1 {m['refiner']['l1']:.4f} (target <= 0.05); both beat frozen on "
             f"PSNR: warp {'yes' if m['warp']['psnr'] > m['frozen']['psnr'] else 'NO'}, refiner "
             f"{'yes' if m['refiner']['psnr'] > m['frozen']['psnr'] else 'NO'}; on MS-SSIM: warp "
             f"{'yes' if m['warp']['msssim'] > m['frozen']['msssim'] else 'NO'}, refiner "
             f"{'yes' if m['refiner']['msssim'] > m['frozen']['msssim'] else 'NO'}.\n")
    if a.node_eval:
        ne = json.load(open(a.node_eval))
        m2 = ne['mean']
        n_frames = sum(c['frames'] for c in ne['clips'])
        L.append(f"`npm run eval -- --data ../shared/data --max-frames {ne.get('max_frames')}` (the codec's decoder "
                 f"through ModelRunner on onnxruntime-node; landmarks from the codec's tracker, coded and decoded at "
                 f"quantiser {ne['geometry_quantizer']} as in a call): {len(ne['clips'])} clips of the validation "
                 f"people, {n_frames} frames (every frame after the reference, at most {ne.get('max_frames')} per clip). "
                 f"{ne['metrics_note']}.\n")
        L.append('| decoder | L1 | PSNR (dB) | SSIM-Y | MS-SSIM-Y |')
        L.append('|---|---|---|---|---|')
        for k, name in (('frozen', 'reference frozen'), ('warp', 'warp only'), ('refiner', 'warp + refiner')):
            L.append(f"| {name} | {m2[k]['l1']:.4f} | {m2[k]['psnr']:.2f} | {m2[k]['ssim']:.4f} | {m2[k]['msssim']:.4f} |")
        L.append(f"\nThere: refiner - warp = {m2['refiner']['psnr'] - m2['warp']['psnr']:+.2f} dB PSNR, "
                 f"{m2['refiner']['msssim'] - m2['warp']['msssim']:+.4f} MS-SSIM; L1 {m2['refiner']['l1']:.4f}. "
                 f"Decoder {ne['ms_per_frame']:.1f} ms per frame ({ne['ms_per_frame_runtime']}).\n")
    L.append('Per clip, evaluate.py (PSNR dB: frozen / warp / refined):\n')
    L.append('| clip | frames | frozen | warp | refined |')
    L.append('|---|---|---|---|---|')
    for c in ev['clips']:
        L.append(f"| {c['id']} | {c['frames']} | {c['frozen']['psnr']:.2f} | {c['warp']['psnr']:.2f} | {c['refiner']['psnr']:.2f} |")
    L.append('\n## Data and licences\n')
    L.append('Training and validation clips are the talking-head rows of ../shared/data/MANIFEST.tsv '
             '(clips from public GitHub repositories: demo/sample videos of talking-head research code). '
             'No clip or frame is shipped here; the fixture uses a synthetic rendered face. Licence of the source '
             'repository (MANIFEST `repo_license`), counted per clip:\n')
    L.append('| part | clips by licence | source repositories |')
    L.append('|---|---|---|')
    for part in ('train', 'val'):
        l, r, _ = lic[part]
        L.append(f"| {part} | {', '.join(f'{k} {v}' for k, v in l.most_common())} | "
                 f"{', '.join(f'{k} ({v})' for k, v in sorted(r.items()))} |")
    L.append('\nSome clips are CC-BY-NC-4.0, GPL-3.0 or of unknown licence: these weights are a research '
             'artefact of the project; check the clips\' licences before any commercial use, or retrain '
             'without those rows. Faces in the clips are real people (public demo videos).\n')
    if a.notes:
        L.append(open(a.notes).read())
    with open(os.path.join(a.model, 'MODEL_CARD.md'), 'w') as fo:
        fo.write('\n'.join(L) + '\n')
    print('wrote', os.path.join(a.model, 'MODEL_CARD.md'))


if __name__ == '__main__':
    main()
