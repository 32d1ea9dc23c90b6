"""Train the kiloface decoder (models/train/decoder.py). Read top to bottom: config, data, model,
optimiser, loop. Resumes from the latest checkpoint of the run automatically.

    python models/train/train.py                                  # real data, CPU, 2 threads
    python models/train/train.py --data_dir /tmp/kf-synth --max_minutes 2 --run synth
    python models/train/train.py --device cuda --batch 32         # the same on a GPU

Any Config field can be set as `--name value`; `--config models/train/configs/RUN.json` sets a
recorded run's every field first (then `--name value` overrides it). Data: $KILOFACE_CACHE_DIR/train-data/v1 (else
~/.cache/kiloface/train-data/v1), made by models/train/data/prepare.py. Checkpoints and the loss log
(JSONL) go to ~/.cache/kiloface/checkpoints/<run>/.
"""
from __future__ import annotations

import dataclasses
import json
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'geometry'))
import geometry  # noqa: E402  (models/geometry: the codec's head pose + expression basis)
from dataset import CACHE, ClipGuides, clip_ids, guide_batch, guide_tags, load_clips, load_split  # noqa: E402
from prune import prune_decoder  # noqa: E402
from decoder import (GRID, GUIDE_INPUTS, Decoder, count_params, decoder_loss, mirror_index, ms_ssim, psnr,  # noqa: E402
                     region_weights, ssim)



# ---- config -------------------------------------------------------------------------------------
@dataclasses.dataclass
class Config:
    data_dir: str = os.path.join(CACHE, 'train-data', 'v1')
    ckpt_root: str = os.path.join(CACHE, 'checkpoints')
    run: str = 'v1'
    device: str = 'cpu'
    threads: int = 2
    seed: int = 1
    frame_stride: int = 2          # keep every n-th frame in memory (pairs barely need all)
    batch: int = 8
    lr: float = 1e-3
    lr_late: float = 3e-4          # after lr_drop_step steps (else after lr_drop_at of max_minutes)
    lr_drop_at: float = 0.7
    lr_drop_step: int = 0          # > 0: the drop happens at this step, whatever the machine's speed
    max_minutes: float = 60.0      # training wall-clock budget of this run (resume counts it)
    max_steps: int = 10 ** 9
    grad_clip: float = 1.0        # global gradient-norm clip
    w_msssim: float = 0.5
    w_l2: float = 0.0              # plain MSE over the picture (what PSNR measures; L1 is mouth/eye-weighted)
    w_psnr: float = 0.0            # -PSNR (dB) per picture: the evaluation's mean, easy frames weigh as much as hard
    w_mouth: float = 4.0
    w_eyes: float = 2.0
    flip: bool = True
    jitter: float = 0.08           # colour gain/offset jitter, same for reference and target
    val_every_min: float = 10.0
    val_per_clip: int = 8          # targets per validation clip (reference = first valid frame)
    val_max_clips: int = 24
    ckpt_every_min: float = 5.0
    log_every: int = 10
    init_onnx: str = ''            # a new run starts from an exported model's weights (e.g. models/kiloface-v1)
    init_ckpt: str = ''            # ... or from another run's checkpoint (weights only, fresh optimiser)
    coded_targets: float = 0.0     # share of pairs whose target landmarks go through the codec's geometry
    coded_quantizer: int = -1      # ... rounded at this geometry quantiser (a call's default is 8); -1: not rounded
    bars: float = 0.0              # share of pairs with a black bar along one crop edge (padding, letterbox)
    max_nonfinite: int = 20        # this many non-finite losses in a row end the run (the weights are gone)
    # decoder v2: the guide layer (models/train/data/guides.py makes the coded guide pictures)
    guide: bool = False
    guide_variants: str = ''       # comma-separated guides.py tags to train on; '' = every one prepared
    guide_none: float = 0.25       # share of pairs without a guide (geometry-only mode, lost guides)
    guide_stale: float = 0.2       # share of guided pairs whose guide is 1-4 pictures older (loss)
    val_guides: str = 'av1-48-10-6,av1-64-12.5-24'   # guide variants validated besides "no guide"
    train_guide_only: bool = False  # train only what acts when a guide is on: geometry-only mode stays the parent's exactly
    guide_grid: int = 64           # the fusion net's grid (decoder.py FrameDecoder guide_grid): 32 is a quarter of its work
    # narrower U-Nets (speed): channels per level, e.g. '8,16,24'; '' = decoder.py's. A run that
    # narrows them starts from init_onnx's strongest filters (prune.py).
    frame_ch: str = ''
    mouth_ch: str = ''
    distill: float = 0.0           # > 0: this weight x the same loss towards init_onnx's own picture (the parent, frozen)
    # set by --config from its parent record: the run init_onnx must hold (checked against its model.json)
    parent_run: str = ''
    parent_how: str = ''


def load_run_config(path, cfg: Config) -> None:
    """A run's recorded config (models/train/configs/RUN.json: parent run, split, every field) into cfg."""
    with open(path) as f:
        doc = json.load(f)
    if 'config' not in doc:
        raise SystemExit(f"{path}: only some of run {doc.get('run')}'s flags are known ({doc.get('unknown')}), so it cannot be run again as it was")
    fields = {f.name for f in dataclasses.fields(Config)}
    unknown = sorted(set(doc['config']) - fields)
    if unknown:
        raise SystemExit(f'{path}: not options of train.py: {unknown}')
    cfg.run = doc['run']
    for name, v in doc['config'].items():
        setattr(cfg, name, type(getattr(cfg, name))(v))
    parent = doc.get('parent') or {}
    cfg.parent_run, cfg.parent_how = parent.get('run') or '', parent.get('how') or ''


def check_parent(cfg: Config) -> None:
    """A recorded run starts from its parent's export. A model folder in the repo moves on to the
    newer runs trained from it (models/kiloface-v2 held v7, then v8), so init_onnx must still hold
    the parent the config names: otherwise the run would start from the wrong weights, or fail on
    mismatched shapes with a message that does not say why."""
    if not (cfg.parent_run and cfg.init_onnx):
        return
    from export import recorded_run_config
    try:
        with open(os.path.join(cfg.init_onnx, 'model.json')) as f:
            held = recorded_run_config(json.load(f)).get('run')
    except FileNotFoundError:
        raise SystemExit(f'init_onnx {cfg.init_onnx} has no model.json: not an export of train.py\'s runs')
    if held is None:
        raise SystemExit(f'{cfg.init_onnx}/model.json records no run name (an export older than run records); '
                         f'run {cfg.run} starts from run {cfg.parent_run} ({cfg.parent_how}). If it is that export, '
                         f"pass --parent_run '' to skip this check.")
    if held != cfg.parent_run:
        raise SystemExit(f'run {cfg.run} starts from run {cfg.parent_run}, but {cfg.init_onnx} holds run {held}. '
                         f'Its config says how to get the parent: {cfg.parent_how}. Check that export out '
                         f'(git archive COMMIT {cfg.init_onnx} | tar -x -C DIR) and pass --init_onnx DIR/{cfg.init_onnx}.')


def parse_args(argv) -> Config:
    cfg = Config()
    argv = list(argv)
    if '--config' in argv:
        i = argv.index('--config')
        load_run_config(argv[i + 1], cfg)
        del argv[i:i + 2]
    it = iter(argv)
    for a in it:
        name = a.lstrip('-').replace('-', '_')
        field = {f.name: f for f in dataclasses.fields(Config)}.get(name)
        if field is None:
            raise SystemExit(f'unknown option {a}; options: {["config"] + [f.name for f in dataclasses.fields(Config)]}')
        v = next(it)
        t = type(getattr(cfg, name))
        setattr(cfg, name, (v.lower() in ('1', 'true', 'yes')) if t is bool else t(v))
    return cfg


# ---- data -----------------------------------------------------------------------------------------
def black_bar(ref, tgt, rng):
    """A black bar 6-48 px deep along one random edge of both pictures (copies)."""
    depth, side = int(rng.integers(6, 49)), int(rng.integers(4))
    ref, tgt = ref.copy(), tgt.copy()
    for img in (ref, tgt):
        region = (img[:depth], img[-depth:], img[:, :depth], img[:, -depth:])[side]
        region[...] = 0
    return ref, tgt


# The codec's geometry quantiser (codec/geometry/model-json.ts baseSteps, codec/geometry/geometry-coder.ts
# quantizerScale): value i's step is BASE_STEP_PX / sensitivity_i (px RMS per unit) x 2^(q/4).
# tests/python/test_decoder.py checks these against the TypeScript.
BASE_STEP_PX = 0.05
INSENSITIVE_STEP = 5.0


def geometry_steps(basis_json, quantizer):
    """Quantiser step of each sent value [rx, ry, rz, tx, ty, tz, ln s, c_1 .. c_K] at `quantizer`."""
    sens = basis_json['sensitivity_px_rms_per_unit']
    per = [sens[k] for k in basis_json['pose']['vector']] + sens['coefficients'][:basis_json['K']]
    base = np.array([BASE_STEP_PX / px if px > 1e-6 else INSENSITIVE_STEP for px in per], np.float64)
    return base * 2.0 ** (quantizer / 4.0)


class CodedLandmarks:
    """A target's landmarks as a receiver gets them: the codec sends the head pose and K expression
    coefficients relative to the reference's own shape (models/geometry), so the decoder sees their
    projection onto the basis, not the tracker's raw points (0.4 px RMS apart on validation), and,
    with a quantizer (>= 0), rounded to the codec's steps as a call sends them."""

    def __init__(self, quantizer: int = -1):
        self.canonical, self.ids, self.w = geometry.load_canonical()
        with open(os.path.join(HERE, '..', 'geometry', 'basis-v1.json')) as f:
            basis_json = json.load(f)
        self.basis = np.asarray(basis_json['components'], np.float64)
        self.steps = geometry_steps(basis_json, quantizer) if quantizer >= 0 else None

    def __call__(self, target, reference):
        """target, reference [468,3] crop pixels -> the decoded target [468,3]."""
        y_ref = geometry.reference_shape(reference, self.canonical, self.ids, self.w)
        pose, c = geometry.encode(target, y_ref, self.basis, self.canonical, self.ids, self.w)
        if self.steps is not None:
            v = np.round(np.concatenate([pose.vector(), c]) / self.steps) * self.steps
            pose, c = geometry.Pose.from_vector(v[:7]), v[7:]
        return geometry.decode(pose, c, y_ref, self.basis).astype(np.float32)


class PairSampler:
    """(reference, target) pairs from one clip, both with landmarks; reference anywhere in the clip."""

    def __init__(self, clips, cfg: Config, rng, guides=None):
        self.clips = clips                       # list of (frames uint8, landmarks[, frame index])
        self.guides = guides                     # decoder v2: a ClipGuides per clip
        sizes = np.array([len(c[0]) for c in clips], np.float64)
        self.p = sizes / sizes.sum()
        self.cfg = cfg
        self.rng = rng
        self.mirror = np.array(mirror_index())
        self.coded = CodedLandmarks(cfg.coded_quantizer) if cfg.coded_targets > 0 else None

    def guide_for(self, c, t):
        """A guide for clip c's frame t as a receiver may hold it: none, the latest, or an older one."""
        g = self.guides[c]
        if not g.tags or self.rng.random() < self.cfg.guide_none:
            return None
        back = int(self.rng.integers(1, 5)) if self.rng.random() < self.cfg.guide_stale else 0
        return g.at(list(g.tags)[self.rng.integers(len(g.tags))], t, back)

    def batch(self, n):
        rng, imgs_r, imgs_t, lms_r, lms_t = self.rng, [], [], [], []
        guides, lms_g, on = [], [], []
        for _ in range(n):
            c = rng.choice(len(self.clips), p=self.p)
            frames, lm = self.clips[c][:2]
            i, j = rng.integers(len(frames), size=2)
            r, t, lr, lt = frames[i], frames[j], lm[i].copy(), lm[j].copy()
            gd = self.guide_for(c, self.clips[c][2][j]) if self.guides is not None else None
            g, lg = (gd[0], gd[1][:, :2].copy()) if gd is not None else (np.zeros((GRID, GRID, 3), np.uint8), lt[:, :2].copy())
            if self.cfg.flip and rng.random() < 0.5:
                r, t, g = r[:, ::-1], t[:, ::-1], g[:, ::-1]
                lr, lt, lg = lr[self.mirror], lt[self.mirror], lg[self.mirror]
                lr[:, 0] = 256.0 - lr[:, 0]
                lt[:, 0] = 256.0 - lt[:, 0]
                lg[:, 0] = 256.0 - lg[:, 0]
            if self.coded is not None and rng.random() < self.cfg.coded_targets:
                if gd is not None:   # the guide's frame reached the receiver as geometry too
                    lg = self.coded(np.concatenate([lg, lt[:, 2:]], 1), lr)[:, :2]
                lt = self.coded(lt, lr)
            if rng.random() < self.cfg.bars:
                # the same bar on both: padding and letterboxing hold still whatever the head does
                r, t = black_bar(r, t, rng)
            imgs_r.append(r)
            imgs_t.append(t)
            lms_r.append(lr[:, :2])
            lms_t.append(lt[:, :2])
            guides.append(g)
            lms_g.append(lg)
            on.append(float(gd is not None))
        to = lambda a: torch.from_numpy(np.ascontiguousarray(np.stack(a))).permute(0, 3, 1, 2).float() / 255.0
        ref, tgt, gde = to(imgs_r), to(imgs_t), to(guides)
        if self.cfg.jitter > 0:
            j = self.cfg.jitter
            gain = torch.from_numpy(rng.uniform(1 - j, 1 + j, (n, 3, 1, 1))).float()
            off = torch.from_numpy(rng.uniform(-j / 2, j / 2, (n, 1, 1, 1))).float()
            ref = (ref * gain + off).clamp(0, 1)
            tgt = (tgt * gain + off).clamp(0, 1)
            gde = (gde * gain + off).clamp(0, 1)
        extra = ()
        if self.guides is not None:
            extra = (gde, torch.from_numpy(np.stack(lms_g).astype(np.float32)), torch.tensor(on).view(n, 1))
        return (ref, torch.from_numpy(np.stack(lms_r)), tgt, torch.from_numpy(np.stack(lms_t))) + extra


def val_pairs(clips, per_clip, guides=None, tags=()):
    """Fixed validation set: per clip, the first valid frame is the reference (as in a call) and
    `per_clip` targets evenly spread over the rest; with guides, each target's latest guide
    picture of each tag in `tags` (None where the clip has none yet)."""
    out = []
    for c, clip in enumerate(clips):
        frames, lm = clip[:2]
        if len(frames) < 2:
            continue
        idx = np.linspace(1, len(frames) - 1, min(per_clip, len(frames) - 1)).round().astype(int)
        g = {tag: [guides[c].at(tag, clip[2][j]) if tag in guides[c].tags else None for j in idx]
             for tag in tags} if guides is not None else {}
        out.append((frames[0], lm[0], frames[idx], lm[idx], g))
    return out


@torch.no_grad()
def validate(model, pairs, device, tags=()):
    """Mean L1 / PSNR / SSIM / MS-SSIM of frozen reference, warp only and refined on the pairs;
    decoder v2: also refined with each guide tag's pictures ('guide:<tag>')."""
    model.eval()
    kinds = ('frozen', 'warp', 'refiner') + tuple(f'guide:{t}' for t in tags)
    acc = {k: {m: [] for m in ('l1', 'psnr', 'ssim', 'msssim')} for k in kinds}
    guided = getattr(model.frame, 'guide', False)
    for ref, lr, tg, lt, gd in pairs:
        t = torch.from_numpy(tg).permute(0, 3, 1, 2).float().div(255).to(device)
        r = torch.from_numpy(ref).permute(2, 0, 1).float().div(255)[None].to(device)
        lr_t = torch.from_numpy(lr)[None].to(device)
        for s in range(0, len(t), 8):
            tt = t[s:s + 8]
            n = len(tt)
            lt_t = torch.from_numpy(lt[s:s + 8]).to(device)
            args = (r.expand(n, -1, -1, -1), lr_t.expand(n, -1, -1), lt_t)
            runs = [('refiner', None)] + [(f'guide:{tag}', gd[tag][s:s + 8]) for tag in tags]
            for kind, gl in runs:
                if guided:
                    g, lg, on = guide_batch(gl, lt_t, n, device)
                    img, warped = model(*args, g, lg, on)
                else:
                    img, warped = model(*args)
                preds = [(kind, img)] + ([('frozen', r.expand(n, -1, -1, -1)), ('warp', warped.clamp(0, 1))]
                                         if kind == 'refiner' else [])
                for k, p in preds:
                    acc[k]['l1'] += (p - tt).abs().mean((1, 2, 3)).tolist()
                    acc[k]['psnr'] += psnr(p, tt).tolist()
                    acc[k]['ssim'] += ssim(p, tt).tolist()
                    acc[k]['msssim'] += ms_ssim(p, tt).tolist()
    model.train()
    return {k: {m: float(np.mean(v)) for m, v in d.items()} for k, d in acc.items()} | {'frames': len(acc['frozen']['l1'])}


def val_score(v):
    """The validation PSNR best.pt keeps the best of: the mean over no guide and each guide validated."""
    return float(np.mean([d['psnr'] for k, d in v.items() if k == 'refiner' or k.startswith('guide:')]))


# ---- checkpoints ----------------------------------------------------------------------------------
def latest_checkpoint(run_dir):
    p = os.path.join(run_dir, 'latest.pt')
    return p if os.path.exists(p) else None


def save_checkpoint(run_dir, model, opt, state, cfg, name='latest.pt'):
    tmp = os.path.join(run_dir, name + '.tmp')
    torch.save({'model': model.state_dict(), 'opt': opt.state_dict(), 'state': state,
                'config': dataclasses.asdict(cfg), 'model_config': model_config(cfg)}, tmp)
    os.replace(tmp, os.path.join(run_dir, name))


def load_onnx_weights(model, onnx_dir):
    """Copies an export's weights (reference.onnx, frame.onnx) into the network: a run can go on
    from a shipped model when its checkpoints are gone. The ONNX initializers keep the parameter
    names of model.reference and model.frame. Returns the parameters the export did not have."""
    import onnx
    from onnx import numpy_helper
    added = []
    for part, file in (('reference', 'reference.onnx'), ('frame', 'frame.onnx')):
        sub = getattr(model, part)
        graph = onnx.load(os.path.join(onnx_dir, file)).graph
        weights = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
        params = dict(sub.named_parameters())
        mismatched = [k for k in params if k in weights and tuple(weights[k].shape) != tuple(params[k].shape)]
        # A parameter the export lacks may only be a new zero-initialised head (the network then
        # starts exactly where the export was); anything else means a different architecture.
        new = [k for k in params if k not in weights]
        # ... or a conv that sees more inputs than the export's (decoder v2's guide channels come
        # after v1's): the export's weights go to the first inputs, the new ones start at zero.
        widened = [k for k in mismatched if widens(weights[k], params[k])]
        fresh = getattr(sub, 'fresh_heads', ())   # new heads whose start is not zero (still untrained)
        bad = [k for k in mismatched if k not in widened] + [
            k for k in new if k.split('.')[0] not in fresh and bool(params[k].detach().abs().max() > 0)]
        if bad:
            raise SystemExit(f'{file} has no matching weights for {bad[:5]} ({len(bad)} in all)')
        with torch.no_grad():
            for k, p in params.items():
                if k in widened:
                    p.zero_()
                    p[:, :weights[k].shape[1]].copy_(torch.from_numpy(weights[k].copy()))
                elif k in weights:
                    p.copy_(torch.from_numpy(weights[k].copy()))
        added += [f'{part}.{k}' for k in new]
    return added


def widens(exported, param) -> bool:
    """A conv weight [out, in, kh, kw] that only gained inputs since the export."""
    return (exported.ndim == 4 and param.dim() == 4 and exported.shape[0] == param.shape[0]
            and exported.shape[2:] == tuple(param.shape[2:]) and exported.shape[1] < param.shape[1])


def freeze_all_but_guide(model):
    """Only the guide's parts learn: the fusion net and the frame net's first-conv weights that
    read the guide inputs. With guide_on = 0 those inputs are zero and the fusion is multiplied
    by 0, so the no-guide picture stays exactly the parent's (Adam moves no weight whose gradient
    is always zero)."""
    first = model.frame.frame_net.e1[0][0].weight
    for name, p in model.named_parameters():
        p.requires_grad = name.startswith('frame.guide_net.') or p is first
    cols = first.shape[1] - GUIDE_INPUTS
    mask = torch.zeros_like(first)
    mask[:, cols:] = 1.0
    first.register_hook(lambda grad: grad * mask)


def model_config(cfg):
    """Decoder options the run changes from the defaults; kept in the checkpoint so export and
    evaluation rebuild the same network."""
    widths = {k: tuple(int(c) for c in str(v).split(',')) for k in ('frame_ch', 'mouth_ch')
              if (v := getattr(cfg, k, ''))}
    if not cfg.guide:
        return widths
    return {'guide': True, **({'guide_grid': cfg.guide_grid} if cfg.guide_grid != GRID else {}), **widths}


def parent_model(cfg):
    """init_onnx's network at its own widths (its model.json's), frozen: the pruned run's start and its distillation target."""
    from export import load_export
    parent = load_export(cfg.init_onnx)[0].to(cfg.device)
    for p in parent.parameters():
        p.requires_grad = False
    return parent.eval()


def main(argv):
    cfg = parse_args(argv)
    check_parent(cfg)
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    run_dir = os.path.join(cfg.ckpt_root, cfg.run)
    os.makedirs(run_dir, exist_ok=True)
    log = open(os.path.join(run_dir, 'log.jsonl'), 'a')

    def emit(rec):
        log.write(json.dumps(rec) + '\n')
        log.flush()
        print(json.dumps(rec), flush=True)

    # data
    t0 = time.time()
    split, train_ids, val_ids = load_split(cfg.data_dir)
    tags = guide_tags(cfg.data_dir, cfg.guide_variants) if cfg.guide else []
    val_tags = [t for t in cfg.val_guides.split(',') if t in tags]
    train_clips = load_clips(cfg.data_dir, train_ids, cfg.frame_stride, dims=3)
    val_clips = load_clips(cfg.data_dir, val_ids[:cfg.val_max_clips], 1)
    train_guides = [ClipGuides(cfg.data_dir, cid, tags) for cid in clip_ids(train_clips)] if cfg.guide else None
    val_guides = [ClipGuides(cfg.data_dir, cid, val_tags) for cid in clip_ids(val_clips)] if cfg.guide else None
    sampler = PairSampler(train_clips, cfg, rng, train_guides)
    vpairs = val_pairs(val_clips, cfg.val_per_clip, val_guides, val_tags)
    emit({'event': 'data', 'train_clips': len(train_clips), 'train_frames': int(sum(len(c[0]) for c in train_clips)),
          'val_clips': len(val_clips), 'val_pairs': int(sum(len(p[2]) for p in vpairs)),
          'guide_variants': tags, 'guided_train_clips': sum(bool(g.tags) for g in train_guides or []),
          'train_people': len(split['train']['people']) if isinstance(split['train'], dict) else None,
          'val_people': len(split['val']['people']) if isinstance(split['val'], dict) else None,
          'seconds': round(time.time() - t0, 1)})

    # model and optimiser
    model = Decoder(**model_config(cfg)).to(cfg.device)
    narrowed = bool(cfg.frame_ch or cfg.mouth_ch)
    parent = None
    if narrowed or cfg.distill > 0:
        if not cfg.init_onnx:
            raise SystemExit('frame_ch, mouth_ch and distill need init_onnx: the parent export the narrower nets start from')
        parent = parent_model(cfg)
    if cfg.train_guide_only:
        freeze_all_but_guide(model)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=cfg.lr)
    state = {'step': 0, 'train_seconds': 0.0, 'samples': 0, 'best_psnr': -1.0}
    ck = latest_checkpoint(run_dir)
    if ck:
        d = torch.load(ck, map_location=cfg.device)
        model.load_state_dict(d['model'])
        opt.load_state_dict(d['opt'])
        state = d['state']
        emit({'event': 'resume', 'from': ck, **state})
    elif cfg.init_ckpt:
        model.load_state_dict(torch.load(os.path.expanduser(cfg.init_ckpt), map_location=cfg.device)['model'])
        emit({'event': 'init', 'from': cfg.init_ckpt})
    elif cfg.init_onnx and narrowed:
        prune_decoder(model, parent)
        emit({'event': 'init', 'from': cfg.init_onnx, 'pruned_to': model_config(cfg)})
    elif cfg.init_onnx:
        added = load_onnx_weights(model, cfg.init_onnx)
        emit({'event': 'init', 'from': cfg.init_onnx, 'new_zero_heads': added})
    if parent is not None and cfg.distill <= 0:
        parent = None   # only the start needed it
    emit({'event': 'model', 'params_reference': count_params(model.reference),
          'params_frame': count_params(model.frame), 'config': dataclasses.asdict(cfg)})

    # loop
    if state['step'] == 0:
        emit({'event': 'val', 'step': 0, **validate(model, vpairs, cfg.device, val_tags)})
    # the clocks start after the first validation: on a busy machine it took longer than
    # val_every_min, and the run validated again after its first step
    last_val = last_ckpt = time.time()
    run_start, start_secs = time.time(), state['train_seconds']
    acc, acc_n = {}, 0
    nonfinite = 0
    while state['step'] < cfg.max_steps and state['train_seconds'] < cfg.max_minutes * 60:
        frac = state['train_seconds'] / (cfg.max_minutes * 60)
        late = state['step'] >= cfg.lr_drop_step if cfg.lr_drop_step > 0 else frac >= cfg.lr_drop_at
        for g in opt.param_groups:
            g['lr'] = cfg.lr_late if late else cfg.lr
        ref, lr, tgt, lt, *guide = (x.to(cfg.device) for x in sampler.batch(cfg.batch))
        img, warped = model(ref, lr, lt, *guide)
        weight = region_weights(lt, cfg.w_mouth, cfg.w_eyes)
        loss, parts = decoder_loss(img, tgt, weight, cfg.w_msssim, w_l2=cfg.w_l2, w_psnr=cfg.w_psnr)
        if parent is not None:
            # The parent's own picture as a second target: what the narrower nets can match.
            with torch.no_grad():
                taught = parent(ref, lr, lt, *guide)[0]
            to_parent, _ = decoder_loss(img, taught, weight, cfg.w_msssim, w_l2=cfg.w_l2, w_psnr=cfg.w_psnr)
            loss = loss + cfg.distill * to_parent
            parts['to_parent'] = to_parent.item()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if not torch.isfinite(loss):
            nonfinite += 1
            emit({'event': 'skip', 'step': state['step'], 'reason': 'non-finite loss', 'in_a_row': nonfinite})
            # A skipped step moves no clock: a loss that stays NaN (NaN weights) would loop for ever.
            if nonfinite >= cfg.max_nonfinite:
                emit({'event': 'abort', 'step': state['step'], 'reason': f'{nonfinite} non-finite losses in a row'})
                raise SystemExit(f'run {cfg.run}: the loss was not finite {nonfinite} times in a row at step '
                                 f"{state['step']}; nothing saved after it (last checkpoints in {run_dir})")
            continue
        nonfinite = 0
        parts['grad_norm'] = float(torch.nn.utils.clip_grad_norm_(opt.param_groups[0]['params'], cfg.grad_clip))
        opt.step()
        state['step'] += 1
        state['samples'] += cfg.batch
        state['train_seconds'] = start_secs + (time.time() - run_start)
        with torch.no_grad():
            parts['loss'] = loss.item()
            parts['l1'] = (img.clamp(0, 1) - tgt).abs().mean().item()
            parts['l1_warp'] = (warped.clamp(0, 1) - tgt).abs().mean().item()
        for k, v in parts.items():
            acc[k] = acc.get(k, 0.0) + v
        acc_n += 1
        if state['step'] % cfg.log_every == 0:
            sc, sf = model.frame.flow.sigmas()
            emit({'event': 'train', 'step': state['step'], 'samples': state['samples'],
                  'minutes': round(state['train_seconds'] / 60, 2), 'lr': opt.param_groups[0]['lr'],
                  'sigma_coarse': round(sc.item(), 3), 'sigma_fine': round(sf.item(), 3),
                  **{k: round(v / acc_n, 5) for k, v in acc.items()}})
            acc, acc_n = {}, 0
        now = time.time()
        if now - last_val > cfg.val_every_min * 60:
            v = validate(model, vpairs, cfg.device, val_tags)
            emit({'event': 'val', 'step': state['step'], 'minutes': round(state['train_seconds'] / 60, 2), **v})
            if val_score(v) > state['best_psnr']:
                state['best_psnr'] = val_score(v)
                save_checkpoint(run_dir, model, opt, state, cfg, 'best.pt')
            last_val = time.time()
        if now - last_ckpt > cfg.ckpt_every_min * 60:
            save_checkpoint(run_dir, model, opt, state, cfg)
            last_ckpt = time.time()
    v = validate(model, vpairs, cfg.device, val_tags)
    emit({'event': 'val', 'step': state['step'], 'minutes': round(state['train_seconds'] / 60, 2), 'final': True, **v})
    if val_score(v) > state['best_psnr']:
        state['best_psnr'] = val_score(v)
        save_checkpoint(run_dir, model, opt, state, cfg, 'best.pt')
    save_checkpoint(run_dir, model, opt, state, cfg)
    emit({'event': 'done', **state})


if __name__ == '__main__':
    main(sys.argv[1:])
