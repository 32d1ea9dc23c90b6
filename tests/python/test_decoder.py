"""Unit tests of the kiloface decoder (models/train/decoder.py, export.py): CPU, fast, no data.

    python -m pytest tests/python/test_decoder.py -q      # needs torch, numpy, opencv, onnx, onnxruntime
"""
import os

import numpy as np
import pytest

torch = pytest.importorskip('torch')
pytest.importorskip('cv2')

import decoder as D  # noqa: E402

torch.set_num_threads(2)


def face_landmarks(seed=0, b=2):
    """Random but face-like landmarks: the canonical mesh scaled into the crop, plus jitter."""
    from synthetic import load_canonical
    v, _ = load_canonical()
    g = torch.Generator().manual_seed(seed)
    base = torch.from_numpy(v[:, :2]).float() * torch.tensor([9.0, -9.0]) + 128.0
    return base.unsqueeze(0).repeat(b, 1, 1) + torch.randn(b, 468, 2, generator=g) * 1.5


def test_shapes_and_zero_init_is_warp_only():
    torch.manual_seed(0)
    m = D.Decoder().eval()
    ref = torch.rand(2, 3, 256, 256)
    lr = face_landmarks(0)
    lt = lr + torch.tensor([3.0, -2.0])
    feat, mfeat = m.reference(ref, lr)
    assert feat.shape == (2, 16, 64, 64) and mfeat.shape == (2, 16, 64, 64)
    with torch.no_grad():
        img, warped = m(ref, lr, lt)
    assert img.shape == warped.shape == (2, 3, 256, 256)
    # the refiners end in zero-initialised convs: untrained, the output is the warp (clamped)
    assert torch.allclose(img, warped.clamp(0, 1), atol=1e-6)


def test_identical_landmarks_give_zero_flow_and_the_reference_back():
    m = D.Decoder().eval()
    lm = face_landmarks(1)
    flow = m.frame.flow(lm, lm)
    assert flow.abs().max().item() == 0.0
    ref = torch.rand(2, 3, 256, 256)
    assert torch.allclose(D.warp(ref, flow), ref, atol=1e-6)


def test_flow_follows_a_translation_and_background_stays():
    flow = D.LandmarkFlow()
    lt = face_landmarks(2, 1)
    lr = lt + torch.tensor([4.0, -3.0])          # the reference's face sits 4 px right, 3 px up
    f = flow(lr, lt)                              # [1,2,64,64]
    pts = (lt[0] / 4).long().clamp(0, 63)         # grid cells under the landmarks
    fx = f[0, 0, pts[:, 1], pts[:, 0]]
    fy = f[0, 1, pts[:, 1], pts[:, 0]]
    assert (fx - 4.0).abs().median() < 0.3 and (fy + 3.0).abs().median() < 0.3
    assert f[0, :, 0, 0].abs().max() < 0.5        # the crop corner does not move


def test_separable_kernel_regression_matches_direct():
    g = torch.Generator().manual_seed(3)
    pts = torch.rand(2, 50, 2, generator=g) * 256
    vals = torch.randn(2, 50, 2, generator=g)
    a = D.kernel_regress_grid(64, pts, vals, torch.tensor(6.0), 1e-2)
    q = D.grid_points(64).expand(2, -1, -1)
    b = D.kernel_regress(q, pts, vals, torch.tensor(6.0), 1e-2).transpose(1, 2).reshape(2, 2, 64, 64)
    assert torch.allclose(a, b, atol=1e-3)


def test_patch_cut_and_paste_coordinates_agree():
    lm = face_landmarks(4, 1)
    c, ux, uy, side = D.patch_frame(lm, D.LIPS_OUTER, 1.1)
    # an image that is its own x coordinate: the patch's centre column samples the centre x
    xs = (torch.arange(256).float() + 0.5).view(1, 1, 1, 256).expand(1, 1, 256, 256)
    patch = D.cut_patch(xs, c, ux, uy, side)
    centre = patch[0, 0, 31:33, 31:33].mean()
    assert abs(centre.item() - c[0, 0].item()) < 1.0
    a, b = D.image_to_patch_coords(c, ux, uy, side)
    cy, cx = int(c[0, 1]), int(c[0, 0])
    assert abs(a[0, cy, cx].item()) < 0.05 and abs(b[0, cy, cx].item()) < 0.05
    w = D.soft_window(a, b)
    assert w[0, cy, cx] == 1.0 and w[0, 0, 0] == 0.0


def moved_faces(lm):
    """The same face turned, scaled and moved: the mouth patch upright, tilted, large, at the crop's
    edges and partly or wholly outside it."""
    c = lm.mean(1, keepdim=True)
    out = []
    for angle, scale, shift in ((0.0, 1.0, (0, 0)), (0.5, 1.3, (10, -20)), (-0.8, 1.7, (0, 0)), (0.2, 0.6, (-95, 60)),
                                (0.0, 1.0, (0, 110)), (1.2, 1.0, (125, 120)), (0.0, 1.0, (0, 220))):
        rot = torch.tensor([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]], dtype=torch.float32)
        out.append((lm - c) @ rot.T * scale + c + torch.tensor(shift, dtype=torch.float32))
    return out


class _Paste(torch.nn.Module):
    def forward(self, image, delta, lm):
        return D.paste_patch(image, delta, *D.patch_frame(lm, D.LIPS_OUTER, 1.1))


@pytest.mark.parametrize('batch', [1, 2])
def test_the_windowed_paste_back_equals_the_full_pictures_one(tmp_path, batch):
    """The exported graphs paste the mouth's delta over the patch's bounding box alone (and pad it
    to 256 in the graph): the same numbers as over every pixel, wherever the patch is, in PyTorch
    and in onnxruntime for faces other than the one the graph was traced with."""
    g = torch.Generator().manual_seed(5)
    image = torch.rand(batch, 3, 256, 256, generator=g)
    delta = torch.rand(batch, 3, D.PATCH, D.PATCH, generator=g) - 0.5
    faces = moved_faces(face_landmarks(2, batch))
    faces.append(torch.cat([faces[1][:1], faces[3][1:]]) if batch == 2 else faces[2])   # batch: two far-apart patches
    for lm in faces:
        full = _Paste()(image, delta, lm)
        with D.onnx_ops():
            windowed = _Paste()(image, delta, lm)
        assert torch.allclose(full, windowed, atol=1e-5)
    pytest.importorskip('onnx')
    ort = pytest.importorskip('onnxruntime')
    path = str(tmp_path / 'paste.onnx')
    with D.onnx_ops():
        torch.onnx.export(_Paste(), (image, delta, faces[0]), path, input_names=['image', 'delta', 'lm'],
                          output_names=['out'], opset_version=17, dynamo=False)
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    changed = 0
    for lm in faces:
        out, = session.run(None, {'image': image.numpy(), 'delta': delta.numpy(), 'lm': lm.numpy()})
        full = _Paste()(image, delta, lm).numpy()
        assert np.abs(out - full).max() < 1e-4
        changed = max(changed, int((np.abs(out - image.numpy()) > 1e-6).sum()))
    assert changed > 3 * 40 * 40    # the patch was pasted somewhere (not a window of nothing)


@pytest.mark.parametrize('batch', [1, 2])    # 1: the exported graphs' one-Gather form
def test_gather_sampler_matches_grid_sample(batch):
    g = torch.Generator().manual_seed(7)
    img = torch.rand(batch, 3, 40, 50, generator=g)
    x = torch.rand(batch, 30, 20, generator=g) * 60 - 5       # some outside: border padding
    y = torch.rand(batch, 30, 20, generator=g) * 50 - 5
    a = D.sample(img, x, y)
    with D.onnx_ops():
        b = D.sample(img, x, y)
    assert torch.allclose(a, b, atol=1e-5)


def test_losses_and_metrics_sanity():
    torch.manual_seed(0)
    x = torch.rand(2, 3, 256, 256)
    assert torch.allclose(D.ms_ssim(x, x), torch.ones(2), atol=1e-5)
    assert torch.allclose(D.ssim(x, x), torch.ones(2), atol=1e-5)
    y = (x + 0.1 * torch.randn_like(x)).clamp(0, 1)
    assert (D.ms_ssim(x, y) < 0.99).all() and (D.psnr(x, y) > 15).all()
    w = D.region_weights(face_landmarks(5))
    assert w.shape == (2, 1, 256, 256) and w.min() >= 1.0 and w.max() > 3.0
    zero, _ = D.decoder_loss(x, x, w)
    noisy, _ = D.decoder_loss(y, x, w)
    assert zero.item() < 1e-4 and noisy.item() > 0.05


def test_one_training_step_reduces_loss_on_a_fixed_pair():
    torch.manual_seed(0)
    m = D.Decoder()
    ref = torch.rand(1, 3, 256, 256)
    lr = face_landmarks(6, 1)
    lt = lr + 2.0
    tgt = (ref * 0.8 + 0.1)                          # a shading change the refiner can learn
    w = D.region_weights(lt)
    opt = torch.optim.Adam(m.parameters(), lr=3e-3)
    losses = []
    for _ in range(3):
        img, _ = m(ref, lr, lt)
        loss, _ = D.decoder_loss(img, tgt, w)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_export_round_trip_onnxruntime(tmp_path):
    pytest.importorskip('onnx')
    pytest.importorskip('onnxruntime')
    import export as E
    torch.manual_seed(0)
    m = D.Decoder().eval()
    for conv in (m.frame.frame_net.out, m.frame.mouth_net.out, m.frame.flow_head, m.frame.blur_head):   # non-zero refiners
        torch.nn.init.normal_(conv.weight, 0, 0.05)
        torch.nn.init.normal_(conv.bias, 0, 0.01)     # (the exporter would merge equal zero biases)
    ref_u8, lm_r, lm_t, _ = E.fixture_inputs()
    paths, t = E.export_onnx(m, str(tmp_path), ref_u8, lm_r, lm_t)
    out, _ = E.run_onnx(paths, t)
    for k in ('ref_feat', 'ref_mouth_feat', 'image', 'warped'):
        assert np.abs(out[k] - t[k].numpy()).max() < 1e-3, k
    assert np.abs(t['image'].numpy() - t['warped'].numpy()).max() > 1e-3   # the refiner did something
    import onnx
    for path in paths.values():
        assert os.path.getsize(path) < 10e6
        assert onnx.load(path).opset_import[0].version == 17
    # a call fetches only the picture: frame.onnx must not also compute the warp-only baseline
    assert [o.name for o in onnx.load(paths['frame']).graph.output] == ['image']
    # train.py --init_onnx: the export's weights come back by name, every one of them
    import train as T
    m2 = D.Decoder()
    assert T.load_onnx_weights(m2, str(tmp_path)) == []
    for (k, p), (_, q) in zip(m.state_dict().items(), m2.state_dict().items()):
        assert torch.equal(p, q), k


def test_mirror_index_is_an_involution():
    mi = D.mirror_index()
    assert len(mi) == 468 and all(mi[mi[i]] == i for i in range(468))
    assert mi[33] == 263 and mi[61] == 291 and mi[1] == 1


def test_coded_landmarks_are_the_codecs_projection():
    """train.py --coded_targets: the reference codes to itself; another frame moves by well under a pixel."""
    import json as _json
    import train as T
    fx = _json.load(open(os.path.join(os.path.dirname(D.__file__), '..', 'geometry', 'fixture-v1.json')))
    frames = [np.asarray(f['landmarks'], np.float64) for f in fx['frames']]
    coded = T.CodedLandmarks()
    same = coded(frames[0], frames[0])
    assert same.shape == (468, 3) and same.dtype == np.float32
    assert np.abs(same - frames[0]).max() < 1e-3
    # the fixture's frames lie in the model's span; per-point jitter does not, and coding removes most of it
    clean = frames[-1]
    noisy = clean + np.random.default_rng(0).normal(0.0, 0.5, clean.shape)
    out = coded(noisy, frames[0])
    rms = lambda a, b: np.sqrt(((a[:, :2] - b[:, :2]) ** 2).sum(-1).mean())   # noqa: E731
    assert rms(out, clean) < 0.5 * rms(noisy, clean)
    assert np.abs(coded(clean, frames[0]) - clean).max() < 1e-3


def test_flow_correction_fades_at_the_crop_edge():
    w = D.border_fade(24.0)
    assert w.shape == (1, 1, 64, 64)
    assert w[0, 0, 0, 0] < 0.1 and w[0, 0, 32, 0] < 0.1 and w[0, 0, 63, 32] < 0.1   # edges hold still
    assert torch.all(w[0, 0, 6:58, 6:58] == 1.0)                                    # the inside is free
    assert torch.equal(w, w.flip(2)) and torch.equal(w, w.transpose(2, 3))
    assert torch.all(D.border_fade(0.0) == 1.0)


def test_black_bar_is_the_same_on_both_pictures_and_copies():
    import train as T
    rng = np.random.default_rng(3)
    ref = np.full((256, 256, 3), 200, np.uint8)
    tgt = np.full((256, 256, 3), 100, np.uint8)
    r, t = T.black_bar(ref, tgt, rng)
    assert ref.min() == 200 and tgt.min() == 100                      # inputs untouched
    assert np.array_equal(r == 0, t == 0) and 6 * 256 * 3 <= (r == 0).sum() <= 48 * 256 * 3


def test_blur_keeps_flat_pictures_and_mass_up_to_the_edges():
    # the blend towards blurred copies must not darken the border (zero padding is renormalised)
    for sigma in D.BLUR_SIGMAS:
        b = D.Blur(sigma)
        flat = torch.full((1, 3, 256, 256), 0.6)
        assert (b(flat) - flat).abs().max() < 1e-5
        x = torch.rand(2, 3, 256, 256)
        y = b(x)
        assert abs(y.mean().item() - x.mean().item()) < 2e-3       # mass kept, also near the edges
        assert y[:, :, 1:, :].sub(y[:, :, :-1, :]).abs().mean() < x[:, :, 1:, :].sub(x[:, :, :-1, :]).abs().mean() / 2


def test_blur_matmul_in_training_equals_the_convs_in_onnx():
    x = torch.rand(1, 3, 256, 256)
    for sigma in D.BLUR_SIGMAS:
        b = D.Blur(sigma)
        matmul = b(x)
        with D.onnx_ops():
            conv = b(x)
        assert (matmul - conv).abs().max() < 1e-5


@pytest.mark.parametrize('mode', ['bilinear', 'bicubic'])
def test_upsampling_in_onnx_equals_interpolate_up_to_the_edges(mode):
    """The exported graphs' 4x upsampling (phase MatMuls on replicate-padded shifts) is PyTorch's
    half-pixel interpolation, the clamped edges included."""
    x = torch.rand(2, 5, 64, 64)
    x[:, :, :, :2] = 3.0     # a step at the edge: the clamp, not a wrap or a zero, must show
    expected = torch.nn.functional.interpolate(x, size=(256, 256), mode=mode, align_corners=False)
    assert (D.upsample4(x, mode) - expected).abs().max() < 1e-5
    up = D.upsample_bicubic if mode == 'bicubic' else D.upsample    # training's way and the graphs' agree
    with D.onnx_ops():
        exported = up(x)
    assert (up(x) - expected).abs().max() < 1e-5 and (exported - expected).abs().max() < 1e-5


def test_the_guides_flow_rides_with_the_references():
    """LandmarkFlow with a second source (decoder v2's guide) gives both flows as two separate
    calls do: the regression weights depend only on the target's points."""
    f = D.LandmarkFlow(9.0, 4.0)
    lt = face_landmarks(7)
    lr, lg = lt + torch.randn(2, 468, 2) * 3, lt + torch.tensor([5.0, -4.0])
    both = f(lr, lt, lg)
    assert torch.allclose(both[0], f(lr, lt), atol=1e-5) and torch.allclose(both[1], f(lg, lt), atol=1e-5)


def test_psnr_loss_weighs_each_picture_by_its_own_error():
    """w_psnr: the gradient of -PSNR is the MSE's over the picture's own MSE, so the same pixel
    error costs more on an easy picture than on a hard one (the plain MSE weighs them alike)."""
    torch.manual_seed(0)
    tgt = torch.rand(2, 3, 256, 256)
    base = tgt + 0.02 * torch.randn_like(tgt)
    base[1] += 0.2 * torch.randn_like(base[1])                 # picture 1 is far off, 10x the error
    w = torch.ones(2, 1, 256, 256)

    def grads(**weights):
        """Per-picture gradient size of the weighted term alone (the L1 term is always in)."""
        out = []
        for wts in (weights, {}):
            pred = base.clone().requires_grad_(True)
            loss, parts = D.decoder_loss(pred, tgt, w, w_msssim=0.0, pyramid=(), **wts)
            loss.backward()
            out.append((pred.grad, parts))
        return (out[0][0] - out[1][0]).abs().mean((1, 2, 3)), out[0][1]

    g, parts = grads(w_psnr=1.0)
    assert g[0] > 4 * g[1]
    g_mse, _ = grads(w_l2=1.0)
    assert g_mse[0] < 0.2 * g_mse[1]
    mse = ((base - tgt) ** 2).mean((1, 2, 3))
    assert np.isclose(parts['psnr_loss'], (-10 * torch.log10(mse + D.PSNR_LOSS_FLOOR)).mean().item(), atol=1e-3)


def test_geometry_quantiser_matches_the_codec():
    """train.py's rounding of coded targets uses the TypeScript codec's steps (model-json.ts,
    geometry-coder.ts): the constants must not drift apart."""
    import json as _json
    import re
    import train as T
    root = os.path.join(os.path.dirname(D.__file__), '..', '..')
    ts = open(os.path.join(root, 'codec', 'geometry', 'model-json.ts')).read()
    coder = open(os.path.join(root, 'codec', 'geometry', 'geometry-coder.ts')).read()
    assert float(re.search(r'BASE_STEP_PX = ([0-9.]+);', ts).group(1)) == T.BASE_STEP_PX
    assert float(re.search(r'INSENSITIVE_STEP = ([0-9.]+);', ts).group(1)) == T.INSENSITIVE_STEP
    assert 'return 2 ** (quantizer / 4);' in coder
    basis = _json.load(open(os.path.join(root, 'models', 'geometry', 'basis-v1.json')))
    steps = T.geometry_steps(basis, 8)
    assert steps.shape == (7 + basis['K'],)
    assert np.isclose(steps[3], 0.05 * 4.0)                      # tx: 1 px per unit
    fx = _json.load(open(os.path.join(root, 'models', 'geometry', 'fixture-v1.json')))
    frames = [np.asarray(f['landmarks'], np.float64) for f in fx['frames']]
    exact, rounded = T.CodedLandmarks(), T.CodedLandmarks(8)
    err = np.sqrt(((exact(frames[-1], frames[0]) - rounded(frames[-1], frames[0]))[:, :2] ** 2).sum(-1).mean())
    assert 0.01 < err < 0.6                                      # rounding moves points, by a fraction of a pixel


def test_run_configs_load_and_v4_is_the_shipped_config():
    """models/train/configs: every run whose config was recorded loads into train.py (flags on the
    command line override it); v4's is the shipped model's; a run known only from prose is refused."""
    import dataclasses
    import glob
    import json as _json
    import train as T
    root = os.path.join(os.path.dirname(D.__file__), '..', '..')
    configs = sorted(glob.glob(os.path.join(root, 'models', 'train', 'configs', '*.json')))
    assert configs
    for path in configs:
        doc = _json.load(open(path))
        if 'config' not in doc:
            with pytest.raises(SystemExit):
                T.parse_args(['--config', path])
            continue
        cfg = T.parse_args(['--config', path, '--lr', '0.123'])
        assert cfg.run == doc['run'] and cfg.lr == 0.123
    shipped = _json.load(open(os.path.join(root, 'models', 'kiloface-v1', 'model.json')))['training']['config']
    v4 = dataclasses.asdict(T.parse_args(['--config', os.path.join(root, 'models', 'train', 'configs', 'v4.json')]))
    assert {k: v4[k] for k in shipped if k not in ('data_dir', 'ckpt_root')} == {k: v for k, v in shipped.items() if k not in ('data_dir', 'ckpt_root')}


def test_a_recorded_run_refuses_an_init_export_that_is_not_its_parent(tmp_path):
    """configs/v8.json starts from run v7's export; models/kiloface-v2 has moved on to v8 itself, so
    the run must stop with a message that says so (and how to get the parent), not start from v8 or
    fail later on mismatched shapes. The parent's export passes."""
    import json as _json
    import train as T
    root = os.path.join(os.path.dirname(D.__file__), '..', '..')
    v8 = os.path.join(root, 'models', 'train', 'configs', 'v8.json')
    shipped = os.path.join(root, 'models', 'kiloface-v2')
    assert _json.load(open(os.path.join(shipped, 'model.json')))['training']['config']['run'] == 'v8'
    with pytest.raises(SystemExit, match=r'starts from run v7, but .*kiloface-v2 holds run v8.*3d1a7d0'):
        T.check_parent(T.parse_args(['--config', v8, '--init_onnx', shipped]))
    parent = tmp_path / 'v7'
    parent.mkdir()
    (parent / 'model.json').write_text(_json.dumps({'training': {'config': {'run': 'v7'}}}))
    T.check_parent(T.parse_args(['--config', v8, '--init_onnx', str(parent)]))
    (parent / 'model.json').write_text(_json.dumps({'training': {}}))
    with pytest.raises(SystemExit, match='records no run name'):
        T.check_parent(T.parse_args(['--config', v8, '--init_onnx', str(parent)]))
    T.check_parent(T.parse_args(['--config', v8, '--init_onnx', str(parent), '--parent_run', '']))


# ---- decoder v2: the guide layer --------------------------------------------------------------

def guided_pair(seed=0, guide_grid=D.GRID):
    """A v2 network whose v1 part is random (non-zero refiners), and inputs with a guide."""
    torch.manual_seed(seed)
    m = D.Decoder(guide=True, guide_grid=guide_grid).eval()
    for conv in (m.frame.frame_net.out, m.frame.mouth_net.out, m.frame.flow_head, m.frame.blur_head):
        torch.nn.init.normal_(conv.weight, 0, 0.05)
        torch.nn.init.normal_(conv.bias, 0, 0.01)
    ref = torch.rand(2, 3, 256, 256)
    lr = face_landmarks(seed)
    lt = lr + torch.tensor([3.0, -2.0])
    return m, ref, lr, lt


def test_without_a_guide_decoder_v2_is_decoder_v1():
    """guide_on = 0 (geometry-only mode, a lost guide): whatever the guide tensor holds, the
    picture is the v1 network's with the same weights (the guide inputs' weights start at zero)."""
    import train as T
    m, ref, lr, lt = guided_pair(1)
    v1 = D.Decoder().eval()
    state = {k: v for k, v in m.state_dict().items() if not k.startswith('frame.guide_net')}
    w = state['frame.frame_net.e1.0.0.weight']
    assert T.widens(w[:, :-D.GUIDE_INPUTS].numpy(), w)
    state['frame.frame_net.e1.0.0.weight'] = w[:, :-D.GUIDE_INPUTS]
    v1.load_state_dict(state)
    with torch.no_grad():
        torch.nn.init.normal_(m.frame.frame_net.e1[0][0].weight[:, -D.GUIDE_INPUTS:], 0, 0.1)  # a trained guide path
        torch.nn.init.normal_(m.frame.guide_net.out.weight, 0, 0.05)
        off = m(ref, lr, lt, torch.rand(2, 3, 64, 64), lr, torch.zeros(2, 1))[0]
        on = m(ref, lr, lt, torch.rand(2, 3, 64, 64), lt, torch.ones(2, 1))[0]
        base = v1(ref, lr, lt)[0]
    assert torch.allclose(off, base, atol=1e-5)
    assert (on - base).abs().max() > 1e-2


@pytest.mark.parametrize('guide_grid', [64, 32])
def test_an_untrained_fusion_is_the_guide_upsampled_plus_the_warps_detail(guide_grid):
    """At its start the fusion takes the picture's low band from the guide, upsampled bicubically
    (what a standard codec's receiver shows), and keeps the warp's finer detail: with a warp that
    has no detail (a flat reference) and the mouth refiner off, the picture is the guide upsampled.
    So also when the fusion net runs on a coarser grid (guide_grid): the guide enters at 64."""
    torch.manual_seed(2)
    m = D.Decoder(guide=True, guide_grid=guide_grid).eval()
    ref = torch.full((1, 3, 256, 256), 0.5)
    lr = face_landmarks(2, b=1)
    guide = torch.rand(1, 3, 64, 64) * 0.5 + 0.25
    with torch.no_grad():
        img = m(ref, lr, lr, guide, lr, torch.ones(1, 1))[0]
    expected = D.upsample_bicubic(guide).clamp(0, 1)
    mouth = D.region_weights(lr, 1.0, 0.0) > 1.0   # the mouth patch's window, where v1's mouth net adds its own
    assert (img - expected).abs()[~mouth.expand_as(img)].max() < 1e-4


def test_a_stale_guide_is_moved_by_the_landmarks():
    """A guide taken when the head was elsewhere is warped to the target's landmarks: moving the
    landmarks moves what the refiner sees of the guide."""
    m = D.Decoder(guide=True).eval()
    lt = face_landmarks(3, b=1)
    guide = torch.zeros(1, 3, 64, 64)
    guide[:, :, 30:34, 30:34] = 1.0
    seen = {}

    def grab(_, inp, __):
        seen['g'] = inp[0][:, -D.GUIDE_INPUTS:-1].detach()
    h = m.frame.frame_net.e1.register_forward_hook(grab)
    with torch.no_grad():
        m(torch.rand(1, 3, 256, 256), lt, lt, guide, lt, torch.ones(1, 1))
        fresh = seen['g'].clone()
        m(torch.rand(1, 3, 256, 256), lt, lt, guide, lt + torch.tensor([8.0, 0.0]), torch.ones(1, 1))
        moved = seen['g'].clone()
    h.remove()
    assert torch.allclose(fresh, guide, atol=1e-5)
    col = lambda g: (g[0, 0].sum(0) * torch.arange(64.0)).sum() / g[0, 0].sum()
    assert 1.0 < col(fresh) - col(moved) < 3.0     # the guide's 8 px (of 256) = 2 px at 64


@pytest.mark.parametrize('guide_grid', [64, 32])
def test_guided_export_round_trip_and_init_from_a_v1_export(tmp_path, guide_grid):
    pytest.importorskip('onnx')
    pytest.importorskip('onnxruntime')
    import export as E
    import train as T
    m, *_ = guided_pair(4, guide_grid)
    with torch.no_grad():
        torch.nn.init.normal_(m.frame.guide_net.out.weight, 0, 0.05)
    ref_u8, lm_r, lm_t, guide = E.fixture_inputs()
    paths, t = E.export_onnx(m, str(tmp_path), ref_u8, lm_r, lm_t, guide)
    out, (sf, feed) = E.run_onnx(paths, t)
    assert np.abs(out['image'] - t['image'].numpy()).max() < 1e-3
    import onnx
    assert [i.name for i in onnx.load(paths['frame']).graph.input] == E.FRAME_INPUTS + E.GUIDE_INPUTS
    # frame-geometry.onnx: the same network without the guide branch, the picture of guide_on 0
    assert [i.name for i in onnx.load(paths['frame_geometry']).graph.input] == E.FRAME_INPUTS
    assert out['frame_geometry_vs_guide_off'] < 1e-5
    # the guide changes the picture, and guide_on = 0 turns it off
    off, = sf.run(None, {**feed, 'guide_on': np.zeros((1, 1), np.float32)})
    assert np.abs(off - out['image']).max() > 1e-2
    # train.py --init_onnx from a v1 export: v1's weights go to the first inputs, the guide's start at zero
    v1_dir = tmp_path / 'v1'
    v1_dir.mkdir()
    torch.manual_seed(5)
    v1 = D.Decoder().eval()
    for conv in (v1.frame.frame_net.out, v1.frame.mouth_net.out, v1.frame.flow_head, v1.frame.blur_head):
        torch.nn.init.normal_(conv.weight, 0, 0.05)
        torch.nn.init.normal_(conv.bias, 0, 0.01)     # (the exporter would merge equal zero biases)
    E.export_onnx(v1, str(v1_dir), ref_u8, lm_r, lm_t)
    m2 = D.Decoder(guide=True)
    assert all(k.startswith('frame.guide_net.') for k in T.load_onnx_weights(m2, str(v1_dir)))
    w2, w1 = m2.frame.frame_net.e1[0][0].weight, v1.frame.frame_net.e1[0][0].weight
    assert torch.equal(w2[:, :w1.shape[1]], w1) and w2[:, w1.shape[1]:].abs().max() == 0


def test_guide_only_training_leaves_the_no_guide_picture_as_it_was():
    """train_guide_only: after optimiser steps on guided pairs, the picture without a guide is
    bit for bit the parent's, and the guided one has changed."""
    import train as T
    m, ref, lr, lt = guided_pair(6)
    T.freeze_all_but_guide(m)
    with torch.no_grad():
        before = m(ref, lr, lt, torch.rand(2, 3, 64, 64), lt, torch.zeros(2, 1))[0]
    guide, on = torch.rand(2, 3, 64, 64), torch.ones(2, 1)
    with torch.no_grad():
        guided_before = m(ref, lr, lt, guide, lt, on)[0]
    opt = torch.optim.Adam([p for p in m.parameters() if p.requires_grad], lr=1e-2)
    m.train()
    for _ in range(3):
        loss = (m(ref, lr, lt, guide, lt, on)[0] - ref).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    m.eval()
    with torch.no_grad():
        after = m(ref, lr, lt, torch.rand(2, 3, 64, 64), lt, torch.zeros(2, 1))[0]
        guided_after = m(ref, lr, lt, guide, lt, on)[0]
    assert torch.equal(before, after)
    assert (guided_after - guided_before).abs().max() > 1e-3


def test_guide_source_frames_follow_ffmpegs_fps_filter():
    import importlib.util
    path = os.path.join(os.path.dirname(D.__file__), 'data', 'guides.py')
    spec = importlib.util.spec_from_file_location('guides', path)
    G = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(G)
    assert G.source_frames(11, 10) == [0, 3, 5, 8, 10]
    assert G.source_frames(4, 25) == [0, 1, 2, 3]
    assert G.source_frames(9, 12.5) == [0, 2, 4, 6, 8]


def _trained_looking(m, seed):
    """Random weights in every conv (the zero-initialised heads too), as a trained network has."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in m.named_parameters():
            if 'sigma' not in name and 'log_' not in name:
                p.copy_(torch.randn(p.shape, generator=g) * (0.05 if p.dim() > 1 else 0.01))
    return m


def test_pruning_to_the_same_widths_is_the_parent_and_narrower_nets_run_near_it():
    """prune.prune_decoder: at the parent's widths every weight is copied as it was (the same
    picture); narrower, the strongest filters and their inputs are kept, so the picture is still
    the parent's picture, roughly, and every shape fits, the guide's fusion net included."""
    import prune
    m, ref, lr, lt = guided_pair(7)
    parent = _trained_looking(m, 7).eval()
    guide, on = torch.rand(2, 3, 64, 64), torch.ones(2, 1)
    same = D.Decoder(guide=True).eval()
    prune.prune_decoder(same, parent)
    narrow = D.Decoder(guide=True, frame_ch=(8, 16, 24), mouth_ch=(8, 16, 24)).eval()
    prune.prune_decoder(narrow, parent)
    with torch.no_grad():
        for g_on in (on, torch.zeros(2, 1)):
            want = parent(ref, lr, lt, guide, lt, g_on)[0]
            assert torch.equal(same(ref, lr, lt, guide, lt, g_on)[0], want)
            got = narrow(ref, lr, lt, guide, lt, g_on)[0]
            assert got.shape == want.shape and bool(torch.isfinite(got).all())
            assert (got - want).abs().mean() < 0.1
    assert D.count_params(narrow.frame) < 0.6 * D.count_params(parent.frame)
    # the kept filters are the strongest: each narrow first conv's filters are among the parent's
    w_parent, w_narrow = parent.frame.frame_net.e1[0][0].weight, narrow.frame.frame_net.e1[0][0].weight
    norms = w_parent.abs().sum((1, 2, 3))
    assert sorted(w_narrow.abs().sum((1, 2, 3)).tolist()) == sorted(norms.topk(8).values.tolist())


def test_model_config_carries_the_widths_to_export_and_evaluation():
    import train as T
    cfg = T.parse_args(['--guide', 'true', '--guide_grid', '32', '--frame_ch', '8,16,24', '--mouth_ch', '12,16,24'])
    assert T.model_config(cfg) == {'guide': True, 'guide_grid': 32, 'frame_ch': (8, 16, 24), 'mouth_ch': (12, 16, 24)}
    assert T.model_config(T.parse_args([])) == {}
