"""kiloface decoder: rebuild a face from one reference picture + the target's landmarks (v1), and
with guide=True (v2) also from a low-resolution coded picture of the crop, the guide (see FrameDecoder).

Three parts, all plain tensor ops so that training and the ONNX export share one implementation:

1. Motion (no learned weights but two kernel widths): a dense BACKWARD flow on a 64x64 grid from
   the sparse landmark displacements (reference - target), by normalised Gaussian kernel
   regression in two levels: a wider kernel (sigma 8 px at 256) carries the face's move, a
   narrower one (sigma 3 px) the residual at the landmarks (lips, eyes). The regulariser eps = 1
   in the normaliser (sum w v / (sum w + eps)) lets the flow fall to zero away from the face, and
   sixteen points pinned on the crop border keep the background still (crops are fixed per
   clip). Both sigmas are learned (init 8 and 3: the best warp-only PSNR of a small grid search on
   training clips). The flow is upsampled to 256 and the reference is sampled bilinearly:
   "warp only".
2. Refiner where the change is, at low cost:
   (a) a small U-Net at 64x64 on [warped image, warped reference features, flow, landmark heatmaps]
       that corrects the landmark flow (hair, ears, neck and the face's outline, which no landmark
       reaches) and adds a low-resolution colour correction (shading, face border, disocclusion);
   (b) a mouth patch: a square, rotated with the eye line, around the target mouth, cut at full
       resolution (64x64 pixels of about 1.2 source pixels), refined by a small U-Net that also
       sees features of the reference's own mouth patch and heatmaps of the target lips, and
       added back under a soft window.
   Both refiners end in a zero-initialised conv, so an untrained refiner IS warp-only.
3. Split for speed: `ReferenceEncoder` (reference.onnx) runs once per reference picture;
   `FrameDecoder` (frame.onnx) runs per frame; `WarpOnly` (warp.onnx) is the evaluation's
   baseline, not run in calls.

Coordinates: landmarks are (x, y) in 256-crop pixels, pixel j covering [j, j+1) (MediaPipe's
convention), which matches grid_sample with align_corners=False: u = x / 256 * 2 - 1.
"""
from __future__ import annotations

import contextlib
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

SIZE = 256     # image side
GRID = 64      # flow / refiner resolution
PATCH = 64     # mouth patch side (pixels of the patch tensor)
NUM_LANDMARKS = 468

# MediaPipe face-mesh index groups (face_mesh_connections); "R" = the subject's right = image left.
LIPS_OUTER = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185]
LIPS_INNER = [78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191]
EYE_R = [33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246]
EYE_L = [263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466]
BROWS = [46, 53, 52, 65, 55, 70, 63, 105, 66, 107, 276, 283, 282, 295, 285, 300, 293, 334, 296, 336]
FACE_OVAL = [10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
             152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109]
EYE_CORNER_R, EYE_CORNER_L = 33, 263   # outer eye corners: the face's scale and roll


def border_points(n_per_side: int = 4) -> torch.Tensor:
    """16 points on the crop's edge (corners once): zero displacement keeps the background put."""
    pts = []
    step = SIZE / n_per_side
    for k in range(n_per_side):
        t = k * step
        pts += [(t, 0.0), (SIZE, t), (SIZE - t, SIZE), (0.0, SIZE - t)]
    return torch.tensor(pts, dtype=torch.float32)


def mirror_index() -> list[int]:
    """MediaPipe's left/right symmetric landmark map, from the canonical face (x -> -x is exact)."""
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, '..', 'mediapipe', 'canonical_face.json')) as f:
        v = torch.tensor(json.load(f)['vertices'])
    m = v.clone()
    m[:, 0] = -m[:, 0]
    return torch.cdist(v, m).argmin(1).tolist()


def grid_points(n: int, device=None) -> torch.Tensor:
    """Centres of an n x n grid over the 256 crop, [n*n, 2] as (x, y), row-major."""
    c = (torch.arange(n, dtype=torch.float32, device=device) + 0.5) * (SIZE / n)
    yy, xx = torch.meshgrid(c, c, indexing='ij')
    return torch.stack([xx.reshape(-1), yy.reshape(-1)], -1)


def gauss(t):
    """exp(-t) with t clamped at 30 (a floor of 9e-14): smaller weights, and the products of two of
    them, would be denormal floats, which CPUs (and WASM) multiply many times slower; onnxruntime
    spent ~4 ms of an ~18 ms frame in one such MatMul. The floor moves the sums by < 1e-20."""
    return torch.exp(-t.clamp(max=30.0))


def kernel_regress(query, pts, vals, sigma, eps: float):
    """sum_i w_i(x) v_i / (sum_i w_i(x) + eps), w_i(x) = exp(-|x - p_i|^2 / (2 sigma^2)).

    query [B,Q,2], pts [B,N,2], vals [B,N,C]. Distances by |q|^2 + |p|^2 - 2 q.p (one MatMul)."""
    d2 = (query * query).sum(-1, keepdim=True) + (pts * pts).sum(-1).unsqueeze(1) \
        - 2.0 * torch.matmul(query, pts.transpose(1, 2))
    w = gauss(d2.clamp(min=0.0) / (2.0 * sigma * sigma))
    return torch.matmul(w, vals) / (w.sum(-1, keepdim=True) + eps)


def kernel_regress_grid(n, pts, vals, sigma, eps: float):
    """kernel_regress on the centres of an n x n grid over the crop, made separable:
    w_i(x, y) = gy_i(y) gx_i(x), so numerator and denominator are MatMuls over the points.
    pts [B,N,2], vals [B,N,C] -> [B,C,n,n]."""
    c = (torch.arange(n, dtype=pts.dtype, device=pts.device) + 0.5) * (SIZE / n)
    s2 = 2.0 * sigma * sigma
    gx = gauss((c.view(1, 1, n) - pts[:, :, 0:1]) ** 2 / s2)                  # [B,N,n(x)]
    gy = gauss((c.view(1, n, 1) - pts[:, :, 1].unsqueeze(1)) ** 2 / s2)       # [B,n(y),N]
    ch = vals.shape[2]
    # [B,C+1,n(y),N]: gy weighted by each value channel, plus gy alone for the denominator. Built
    # in this layout so that the MatMul needs no transposed operand.
    v = torch.cat([vals, torch.ones_like(vals[:, :, :1])], 2).transpose(1, 2).unsqueeze(2)   # [B,C+1,1,N]
    out = torch.matmul(v * gy.unsqueeze(1), gx.unsqueeze(1))                     # [B,C+1,n(y),n(x)]
    return out[:, :ch] / (out[:, ch:] + eps)


def to_norm(p):
    """256-pixel coordinates -> grid_sample's [-1, 1] (align_corners=False)."""
    return p * (2.0 / SIZE) - 1.0


class LandmarkFlow(nn.Module):
    """Dense backward flow (target -> reference) from landmarks by two-level kernel regression."""

    def __init__(self, sigma_coarse=8.0, sigma_fine=3.0, eps=1.0, learn_sigma=True):
        super().__init__()
        self.log_sc = nn.Parameter(torch.tensor(math.log(sigma_coarse)), requires_grad=learn_sigma)
        self.log_sf = nn.Parameter(torch.tensor(math.log(sigma_fine)), requires_grad=learn_sigma)
        self.eps = eps
        self.register_buffer('border', border_points(), persistent=False)

    def sigmas(self):
        return torch.exp(self.log_sc), torch.exp(self.log_sf)

    def forward(self, lm_ref, lm_tgt, lm_other=None):
        """lm_* [B,468,2] -> flow [B,2,64,64] in 256-pixels: source = x + flow(x).

        With lm_other: (flow, the flow from lm_other to the target) in one pass. The regression is
        linear in the displacements and its weights depend only on the target's points, so both
        ride as channels of the same MatMuls (decoder v2's guide: ~1 ms less per frame in WASM)."""
        b = lm_tgt.shape[0]
        border = self.border.unsqueeze(0).expand(b, -1, -1)
        pts = torch.cat([lm_tgt, border], 1)
        disp = lm_ref - lm_tgt if lm_other is None else torch.cat([lm_ref - lm_tgt, lm_other - lm_tgt], 2)
        disp = torch.cat([disp, torch.zeros_like(disp[:, :border.shape[1]])], 1)
        sc, sf = self.sigmas()
        coarse_at_pts = kernel_regress(pts, pts, disp, sc, self.eps)
        resid = disp - coarse_at_pts
        flow = kernel_regress_grid(GRID, pts, disp, sc, self.eps) + kernel_regress_grid(GRID, pts, resid, sf, self.eps)
        return flow if lm_other is None else (flow[:, :2], flow[:, 2:])


# The ops the ONNX graphs are built from, where onnxruntime and PyTorch differ in what is fast
# (the values are the same): a Gather-based bilinear sampler instead of grid_sample (about 2x
# faster in onnxruntime's CPU kernels) and Blur's depthwise Convs instead of its MatMuls. export.py
# sets this to True while exporting (through onnx_ops()).
ONNX_OPS = False


@contextlib.contextmanager
def onnx_ops():
    """Within: the networks compute with the ONNX graphs' ops (ONNX_OPS); afterwards with PyTorch's again."""
    global ONNX_OPS
    ONNX_OPS = True
    try:
        yield
    finally:
        ONNX_OPS = False
FLOW_HEAD_SCALE = 2.0   # 256-pixels per unit of the flow head's output


def _bilinear_gather(img, x, y):
    """Bilinear sampling with border padding by GatherElements; x, y [B,h,w] in img's pixel units.
    (One Gather of the four corners instead ran ~20 % slower in onnxruntime-web: its Gather and the
    5-D broadcast Mul after it are slower than four GatherElements; so was a Gather per corner with
    one index for every channel, by ~11 ms a frame.)"""
    b, c, h, w = img.shape
    x = (x - 0.5).clamp(0.0, w - 1.0)
    y = (y - 0.5).clamp(0.0, h - 1.0)
    x0, y0 = x.floor(), y.floor()
    wx, wy = (x - x0).unsqueeze(1), (y - y0).unsqueeze(1)
    x0i, y0i = x0.long(), y0.long()
    x1i, y1i = (x0i + 1).clamp(max=w - 1), (y0i + 1).clamp(max=h - 1)
    flat = img.reshape(b, c, h * w)

    def g(yi, xi):
        idx = (yi * w + xi).reshape(b, 1, -1).expand(b, c, -1)
        return torch.gather(flat, 2, idx).reshape(b, c, x.shape[1], x.shape[2])
    return (g(y0i, x0i) * (1 - wx) + g(y0i, x1i) * wx) * (1 - wy) + (g(y1i, x0i) * (1 - wx) + g(y1i, x1i) * wx) * wy


def sample(img, x, y):
    """Bilinear sample of img [B,C,H,W] at x, y [B,h,w] given in img's own pixel units (pixel j
    covers [j, j+1)), border padding: grid_sample(align_corners=False) or its Gather twin."""
    if ONNX_OPS:
        return _bilinear_gather(img, x, y)
    h, w = img.shape[2], img.shape[3]
    return F.grid_sample(img, torch.stack([x * (2.0 / w) - 1.0, y * (2.0 / h) - 1.0], -1), mode='bilinear',
                         padding_mode='border', align_corners=False)


def _resize_matrix(mode, n_in=GRID, n_out=SIZE):
    """[n_out, n_in]: PyTorch's 1-D resize (half-pixel centres, edge clamped; bicubic a = -0.75)
    as a matrix, read off by resizing the unit vectors."""
    eye = torch.eye(n_in).view(n_in, 1, n_in, 1)
    return F.interpolate(eye, size=(n_out, 1), mode=mode, align_corners=False)[:, 0, :, 0].t().contiguous()


def _phase_kernels(mode, n=GRID, factor=SIZE // GRID):
    """[factor, 2r+1]: F.interpolate's 1-D weights (half-pixel centres) for the `factor` output
    pixels of one input pixel i, over inputs i-r..i+r (rows of its resize matrix)."""
    m = _resize_matrix(mode, n, n * factor)
    i = n // 2
    rows = m[i * factor:(i + 1) * factor]
    r = int((rows.abs() > 0).nonzero()[:, 1].sub(i).abs().max())
    return rows[:, i - r:i + r + 1].contiguous()


def upsample4(x, mode):
    """F.interpolate(x, 4x, mode, half-pixel centres) as the exported graphs compute it, one axis at
    a time: each output pixel is a few taps of the (replicate-padded: the edge clamp) input along
    that axis, so the shifted copies are stacked on a new last axis and one small MatMul with the
    [4, taps] phase weights gives the four output phases, which a free Reshape interleaves.
    onnxruntime-web's WASM Resize, dense bicubic MatMuls or a phase Conv + DepthToSpace all took
    longer (scratch timings of 7 channels 64 -> 256, 1 thread: bilinear Resize 1.49 ms, Conv +
    DepthToSpace 1.07, this 0.84; bicubic MatMuls ~3, Conv + DepthToSpace 1.68, this 1.29)."""
    k = PHASE_KERNELS[mode].to(x)                                   # [4, taps]
    f, taps = k.shape
    r = taps // 2
    b, c, h, w = (int(v) for v in x.shape)    # int(): constants in the traced graph
    xp = F.pad(x, (r, r, r, r), mode='replicate')
    u = torch.stack([xp[..., t:t + w] for t in range(taps)], -1)                 # [B,C,H+2r,W,taps]
    y = torch.matmul(u, k.t()).reshape(b, c, h + 2 * r, w * f)                  # along W
    v = torch.stack([y[:, :, t:t + h] for t in range(taps)], 3)                  # [B,C,H,taps,4W]
    return torch.matmul(k, v).reshape(b, c, h * f, w * f)                        # along H


PHASE_KERNELS = {mode: _phase_kernels(mode) for mode in ('bilinear', 'bicubic')}   # made once, constants in the graphs


def upsample(x):
    """GRID -> SIZE, bilinear (half-pixel centres): the flow and the refiner's maps."""
    if ONNX_OPS:
        return upsample4(x, 'bilinear')
    return F.interpolate(x, size=(SIZE, SIZE), mode='bilinear', align_corners=False)


def warp(image, flow64):
    """Backward-warp a [B,C,H,W] image by a 64x64 flow in 256-pixels (bilinear, border)."""
    h, w = image.shape[2], image.shape[3]
    flow = F.interpolate(flow64, size=(h, w), mode='bilinear', align_corners=False) if h != GRID else flow64
    return warp_at(image, flow)


def warp_at(image, flow):
    """warp() with the flow already at the image's size."""
    h, w = image.shape[2], image.shape[3]
    ys = (torch.arange(h, dtype=image.dtype, device=image.device) + 0.5) * (SIZE / h)
    xs = (torch.arange(w, dtype=image.dtype, device=image.device) + 0.5) * (SIZE / w)
    x = (xs.view(1, 1, w) + flow[:, 0]) * (w / SIZE)
    y = (ys.view(1, h, 1) + flow[:, 1]) * (h / SIZE)
    return sample(image, x, y)


# ---- patches (mouth; eyes share the code) -------------------------------------------------------

def patch_frame(lm, centre_idx, scale):
    """A square patch frame from landmarks: centre [B,2], unit axes ux, uy [B,2], side [B,1] px.

    The axes follow the eye line (head roll); the side is `scale` x the outer-eye-corner distance."""
    centre = lm[:, centre_idx].mean(1)
    eye_vec = lm[:, EYE_CORNER_L] - lm[:, EYE_CORNER_R]
    iod = torch.sqrt((eye_vec * eye_vec).sum(-1, keepdim=True) + 1e-6)
    ux = eye_vec / iod
    uy = torch.stack([-ux[:, 1], ux[:, 0]], -1)
    return centre, ux, uy, iod * scale


def cut_patch(image, centre, ux, uy, side, n=PATCH):
    """Cut the n x n patch from a 256 image (sampling positions by arithmetic, no affine_grid)."""
    t = (torch.arange(n, dtype=centre.dtype, device=centre.device) + 0.5) / n - 0.5   # [n]
    a = t.view(1, 1, n, 1)      # along ux (columns)
    c = t.view(1, n, 1, 1)      # along uy (rows)
    s = side.view(-1, 1, 1, 1)
    p = centre.view(-1, 1, 1, 2) + s * a * ux.view(-1, 1, 1, 2) + s * c * uy.view(-1, 1, 1, 2)
    return sample(image, p[..., 0], p[..., 1])


def image_to_patch_coords(centre, ux, uy, side, h=SIZE, w=SIZE):
    """For every image pixel, its patch coordinates (a, b) in [-0.5, 0.5] inside the patch: [B,h,w]."""
    ys = (torch.arange(h, dtype=centre.dtype, device=centre.device) + 0.5) * (SIZE / h)
    xs = (torch.arange(w, dtype=centre.dtype, device=centre.device) + 0.5) * (SIZE / w)
    return patch_coords_at(centre, ux, uy, side, xs, ys)


def patch_coords_at(centre, ux, uy, side, xs, ys):
    """Patch coordinates (a, b) of the pixel centres on the grid xs (columns) x ys (rows), in 256
    pixels: [B,len(ys),len(xs)]."""
    dx = xs.view(1, 1, -1) - centre[:, 0].view(-1, 1, 1)
    dy = ys.view(1, -1, 1) - centre[:, 1].view(-1, 1, 1)
    s = side.view(-1, 1, 1)
    a = (dx * ux[:, 0].view(-1, 1, 1) + dy * ux[:, 1].view(-1, 1, 1)) / s
    b = (dx * uy[:, 0].view(-1, 1, 1) + dy * uy[:, 1].view(-1, 1, 1)) / s
    return a, b


class _PadInto(torch.autograd.Function):
    """x [B,C,h,w] zero-padded to [B,C,H,W] with its top-left corner at (top, left), 0-dim int64
    tensors: one ONNX Pad whose pads the graph computes (the tracer would freeze F.pad's ints)."""

    @staticmethod
    def forward(ctx, x, top, left, H, W):
        t, l = int(top), int(left)
        return F.pad(x, (l, W - l - x.shape[3], t, H - t - x.shape[2]))

    @staticmethod
    def symbolic(g, x, top, left, H, W):
        const = lambda v: g.op('Constant', value_t=torch.tensor(v, dtype=torch.int64))
        shape = g.op('Shape', x)
        h, w = g.op('Gather', shape, const([2]), axis_i=0), g.op('Gather', shape, const([3]), axis_i=0)
        top, left = (g.op('Reshape', v, const([1])) for v in (top, left))
        bottom, right = g.op('Sub', g.op('Sub', const([H]), top), h), g.op('Sub', g.op('Sub', const([W]), left), w)
        pads = g.op('Concat', const([0, 0]), top, left, const([0, 0]), bottom, right, axis_i=0)
        return g.op('Pad', x, pads, mode_s='constant')


def paste_patch(image, delta, centre, ux, uy, side):
    """image [B,3,256,256] + a patch's delta [B,3,PATCH,PATCH] put back through its soft window.

    Only the window's pixels change (a rotated square of `side`): the exported graphs (ONNX_OPS)
    compute the patch coordinates, the window and the bilinear gather over the square's bounding
    box alone (all pictures of the batch together) and pad the result to 256 once, instead of over
    all 65,536 pixels; outside the box the window is exactly 0, so the numbers are the same."""
    if not ONNX_OPS:
        a, b = image_to_patch_coords(centre, ux, uy, side)
        return image + soft_window(a, b).unsqueeze(1) * sample(delta, (a + 0.5) * PATCH, (b + 0.5) * PATCH)
    half = 0.5 * side[:, 0] * (ux[:, 0].abs() + ux[:, 1].abs())   # half the box's side (x and y alike)
    lo = (centre - half.unsqueeze(1)).min(0).values.floor().clamp(0, SIZE - 1)            # [2]: x, y
    hi = torch.maximum((centre + half.unsqueeze(1)).max(0).values.ceil().clamp(max=SIZE), lo + 1)
    lo_i, n = lo.long(), (hi - lo).long()
    xs = lo[0] + torch.arange(n[0], dtype=image.dtype) + 0.5
    ys = lo[1] + torch.arange(n[1], dtype=image.dtype) + 0.5
    a, b = patch_coords_at(centre, ux, uy, side, xs, ys)
    back = soft_window(a, b).unsqueeze(1) * sample(delta, (a + 0.5) * PATCH, (b + 0.5) * PATCH)
    return image + _PadInto.apply(back, lo_i[1], lo_i[0], SIZE, SIZE)


def soft_window(a, b, edge=0.15):
    """1 in the patch's middle, falling linearly to 0 over `edge` (fraction of the side) at its rim."""
    wa = ((0.5 - a.abs()) / edge).clamp(0.0, 1.0)
    wb = ((0.5 - b.abs()) / edge).clamp(0.0, 1.0)
    return wa * wb


def heatmap(points, n, sigma_px):
    """Sum of Gaussians at points given in [0,1]^2 of an n x n map: [B,1,n,n] (clipped at 1).

    Separable: exp(-(dx^2+dy^2)/s2) = gy * gx, summed over points by one MatMul."""
    c = (torch.arange(n, dtype=points.dtype, device=points.device) + 0.5) / n
    s2 = 2.0 * (sigma_px / n) ** 2
    gx = gauss((c.view(1, 1, n) - points[:, :, 0:1]) ** 2 / s2)     # [B,K,n]
    gy = gauss((c.view(1, 1, n) - points[:, :, 1:2]) ** 2 / s2)     # [B,K,n]
    g = torch.matmul(gy.transpose(1, 2), gx)                             # [B,n(y),n(x)]
    return g.unsqueeze(1).clamp(max=1.0)


def to_patch_unit(points, centre, ux, uy, side):
    """Landmarks [B,K,2] in image pixels -> patch coordinates in [0,1]^2."""
    d = points - centre.unsqueeze(1)
    a = (d * ux.unsqueeze(1)).sum(-1) / side + 0.5
    b = (d * uy.unsqueeze(1)).sum(-1) / side + 0.5
    return torch.stack([a, b], -1)


# ---- networks --------------------------------------------------------------------------------

def conv(cin, cout, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.LeakyReLU(0.2, inplace=True))


def up2_conv3x3(x, w):
    """conv2d(nearest 2x upsampling of x, w, padding 1) without the upsampling: [B,C,n,n] -> [B,O,2n,2n].

    Each of the four output phases (row, column parity) sees only two rows and two columns of x,
    so the 3x3 kernel folds into a 2x2 one per phase: 16 multiply-adds per output pixel and input
    channel instead of 36. One Conv computes the four phases, PixelShuffle interleaves them."""
    n = x.shape[-1]
    # Kernel rows (columns) summed per phase: phase 0 reads rows (i-1, i), phase 1 rows (i, i+1).
    groups = (((0,), (1, 2)), ((0, 1), (2,)))
    k = []
    for a in range(2):
        rows = torch.stack([w[:, :, list(r)].sum(2) for r in groups[a]], 2)                # [O,C,2,3]
        for b in range(2):
            k.append(torch.stack([rows[..., list(c)].sum(-1) for c in groups[b]], -1))    # [O,C,2,2]
    o = w.shape[0]
    out = F.conv2d(x, torch.cat(k, 0), padding=1)                                            # [B,4O,n+1,n+1]
    phases = [out[:, i * o:(i + 1) * o, a:a + n, b:b + n] for i, (a, b) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1)))]
    return F.pixel_shuffle(torch.stack(phases, 2).reshape(x.shape[0], 4 * o, n, n), 2)


def up_cat_conv(layer, low, skip):
    """layer (conv + LeakyReLU) on [nearest 2x upsampling of low, skip]: the U-Net's decoder step.
    In the exported graphs (ONNX_OPS) the upsampled part runs as up2_conv3x3, same numbers."""
    cv, act = layer[0], layer[1]
    if not ONNX_OPS:
        return layer(torch.cat([F.interpolate(low, scale_factor=2.0, mode='nearest'), skip], 1))
    c = low.shape[1]
    return act(up2_conv3x3(low, cv.weight[:, :c]) + F.conv2d(skip, cv.weight[:, c:], cv.bias, padding=1))


class UNet3(nn.Module):
    """Three-level U-Net (n, n/2, n/4); the last conv starts at zero (output 0 before training)."""

    def __init__(self, cin, cout, ch=(24, 48, 64)):
        super().__init__()
        c1, c2, c3 = ch
        self.e1 = nn.Sequential(conv(cin, c1), conv(c1, c1))
        self.e2 = nn.Sequential(conv(c1, c2, 2), conv(c2, c2))
        self.e3 = nn.Sequential(conv(c2, c3, 2), conv(c3, c3), conv(c3, c3))
        self.d2 = nn.Sequential(conv(c3 + c2, c2), conv(c2, c2))
        self.d1 = nn.Sequential(conv(c2 + c1, c1))
        self.out = nn.Conv2d(c1, cout, 3, 1, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def features(self, x):
        """The last decoder features (c1 channels at the input's size), before the output conv."""
        x1 = self.e1(x)
        x2 = self.e2(x1)
        x3 = self.e3(x2)
        y = up_cat_conv(self.d2[0], x3, x2)
        y = self.d2[1:](y)
        return up_cat_conv(self.d1[0], y, x1)

    def forward(self, x):
        return self.out(self.features(x))


class ReferenceEncoder(nn.Module):
    """Runs once per reference picture (reference.onnx): features of the whole face at 64x64 and
    of its mouth patch, both in the REFERENCE's coordinates (the frame decoder warps them)."""

    def __init__(self, feat=16, mouth_feat=16, mouth_scale=1.1):
        super().__init__()
        self.mouth_scale = mouth_scale
        self.face = nn.Sequential(conv(3, 16, 2), conv(16, 24, 2), conv(24, feat))        # 256 -> 64
        self.mouth = nn.Sequential(conv(3, 16), conv(16, mouth_feat))                      # 64 patch

    def forward(self, ref_image, ref_landmarks):
        feat = self.face(ref_image)
        c, ux, uy, side = patch_frame(ref_landmarks, LIPS_OUTER, self.mouth_scale)
        patch = cut_patch(ref_image, c, ux, uy, side)
        return feat, self.mouth(patch)


GUIDE_INPUTS = 4      # decoder v2's refiner sees the guide (RGB) and whether there is one
GUIDE_OUT = 5         # the fusion net's outputs: a low-band correction (RGB), the guide's gain, the detail gate
GUIDE_GAIN, GUIDE_GATE = 3, 4


BICUBIC_UP = _resize_matrix('bicubic')


def upsample_bicubic(x):
    """GRID -> SIZE, bicubic: how a receiver shows a small picture, the same numbers as
    F.interpolate(mode='bicubic'). Training: two MatMuls with the fixed matrix; the exported
    graphs: upsample4 (onnxruntime's cubic Resize took ~24 ms per
    call on this machine's CPU, one thread)."""
    if ONNX_OPS:
        return upsample4(x, 'bicubic')
    up = BICUBIC_UP.to(x.device, x.dtype)
    return torch.matmul(torch.matmul(up, x), up.t())


FLOW_FADE_PX = 24.0   # the flow correction fades to zero over this band along the crop's edge


def border_fade(px: float) -> torch.Tensor:
    """[1,1,64,64] weight of the learned flow correction: 0 on the crop's edge, 1 from `px` pixels
    (of 256) inside. What lies on the edge (padding, letterbox bars, the frame's border) must stay
    put, as the landmark flow's border points keep it; the correction tore such hard edges."""
    c = (torch.arange(GRID, dtype=torch.float32) + 0.5) * (SIZE / GRID)
    d = torch.minimum(c, SIZE - c)
    w = (d / px).clamp(max=1.0) if px > 0 else torch.ones_like(d)
    return torch.minimum(w.view(GRID, 1), w.view(1, GRID)).view(1, 1, GRID, GRID)


BLUR_SIGMAS = (1.0, 2.5)   # px of 256: the blurred copies of the warp the refiner may blend in


class Blur(nn.Module):
    """A fixed separable Gaussian blur of [B,3,H,W], renormalised at the edges (the kernel's mass
    outside the picture is left out, so the border does not darken).

    Two ways (ONNX_OPS), the same numbers: in PyTorch two MatMuls with the banded [n,n] matrix (CPU convs of
    this shape took ~1.3 s per batch of 8, forward and backward, the MatMuls ~0.1 s); in ONNX two
    depthwise Convs and two Muls (onnxruntime: ~0.7 ms per blur, the MatMuls several times that).
    Those timings come from one-off timing loops on a 2-core AMD EPYC (2026-12-02), not kept."""

    def __init__(self, sigma: float, size: int = SIZE):
        super().__init__()
        r = max(1, int(math.ceil(3.0 * sigma)))
        t = torch.arange(-r, r + 1, dtype=torch.float32)
        g = torch.exp(-t * t / (2.0 * sigma * sigma))
        g = g / g.sum()
        self.r = r
        self.register_buffer('kx', g.view(1, 1, 1, -1).repeat(3, 1, 1, 1), persistent=False)
        self.register_buffer('ky', g.view(1, 1, -1, 1).repeat(3, 1, 1, 1), persistent=False)
        cover = F.conv1d(torch.ones(1, 1, size), g.view(1, 1, -1), padding=r).view(-1)   # kernel mass inside
        self.register_buffer('inv_x', (1.0 / cover).view(1, 1, 1, size), persistent=False)
        self.register_buffer('inv_y', (1.0 / cover).view(1, 1, size, 1), persistent=False)
        i = torch.arange(size)
        d = (i.view(-1, 1) - i.view(1, -1)).abs()
        band = torch.where(d <= r, g[(d + r).clamp(max=2 * r)], torch.zeros(()))
        self.register_buffer('matrix', band / cover.view(-1, 1), persistent=False)   # row i: output pixel i

    def forward(self, x):
        if ONNX_OPS:
            x = F.conv2d(x, self.kx, padding=(0, self.r), groups=3) * self.inv_x
            return F.conv2d(x, self.ky, padding=(self.r, 0), groups=3) * self.inv_y
        return torch.matmul(torch.matmul(self.matrix, x), self.matrix.t())


class FrameDecoder(nn.Module):
    """Runs per frame (frame.onnx): warp + low-res refiner + mouth patch refiner."""

    def __init__(self, feat=16, mouth_feat=16, mouth_scale=1.1, frame_ch=(16, 32, 48),
                 mouth_ch=(16, 24, 32), sigma_coarse=8.0, sigma_fine=3.0, flow_eps=1.0, flow_fade_px=FLOW_FADE_PX,
                 guide=False, guide_ch=(16, 24, 32), guide_grid=GRID):
        super().__init__()
        self.config = dict(feat=feat, mouth_feat=mouth_feat, mouth_scale=mouth_scale, frame_ch=frame_ch, mouth_ch=mouth_ch,
                           sigma_coarse=sigma_coarse, sigma_fine=sigma_fine, flow_eps=flow_eps, flow_fade_px=flow_fade_px,
                           guide=guide, guide_ch=guide_ch, guide_grid=guide_grid)
        self.mouth_scale = mouth_scale
        # Decoder v2: a low-resolution picture of the crop (the guide layer, GRID x GRID, coded
        # by a standard codec) carries what geometry cannot: lighting, the mouth's inside, eyes
        # closing, things that are not the face. Without it (geometry-only mode, a lost guide)
        # guide_on is 0 and the network is its no-guide part (decoder v1, unless a run retrained it).
        self.guide = guide
        # frame.onnx is exported with image_only = True: onnxruntime computes every output of a
        # graph whether fetched or not, and a call needs only the picture (warp.onnx has the rest).
        self.image_only = False
        self.flow = LandmarkFlow(sigma_coarse, sigma_fine, flow_eps)
        self.frame_net = UNet3(3 + feat + 2 + 2 + (GUIDE_INPUTS if guide else 0), 3, frame_ch)
        if guide:
            # The fusion (decoder v2): a small U-Net (at guide_grid) on [guide, the warp's low band, the
            # frame net's features] decides per cell how much of the picture's low band to take
            # from the guide (gain, starts at 1: the guide's band replaces the warp's and v1's
            # colour correction), adds its own correction there, and how much of the warp's finer
            # detail to drop (gate, starts at 0: all of it kept) where it disagrees with the guide
            # (a pose the reference never showed, a misplaced edge). The guide is upsampled
            # bicubically, as a standard codec's receiver shows it, so an untrained fusion is the
            # guide alone plus the warp's detail. Everything of v1 stays as it was: with
            # guide_on = 0 the graph computes v1's picture exactly (until a run trains v1's parts too).
            self.guide_net = UNet3(3 + 3 + frame_ch[0], GUIDE_OUT, guide_ch)
            # The fusion may run at a coarser grid than the frame net (its maps are smooth; the
            # guide itself still enters the picture at GRID): a quarter of its work at 32.
            self.guide_grid = guide_grid
            with torch.no_grad():
                self.guide_net.out.bias[GUIDE_GAIN] = 1.0
        self.fresh_heads = ('guide_net',) if guide else ()   # untrained, though not zero (train.py's --init_onnx)
        # A learned correction of the landmark flow, from the frame net's last features: moves
        # what the landmarks do not reach (hair, ears, neck, the face's outline). Zero at start.
        self.flow_head = nn.Conv2d(frame_ch[0], 2, 3, 1, 1)
        nn.init.zeros_(self.flow_head.weight)
        nn.init.zeros_(self.flow_head.bias)
        self.register_buffer('border_fade', border_fade(flow_fade_px), persistent=False)
        # A learned blend towards blurred copies of the warp, per region (64x64 weights): where the
        # target's detail cannot be known from the geometry (sensor and compression noise, hair,
        # edges that move a little), a smoother prediction has the smaller expected error; a
        # negative weight sharpens. Zero at start (the picture is then the plain warp).
        self.blurs = nn.ModuleList([Blur(s) for s in BLUR_SIGMAS])
        self.blur_head = nn.Conv2d(frame_ch[0], len(BLUR_SIGMAS), 3, 1, 1)
        nn.init.zeros_(self.blur_head.weight)
        nn.init.zeros_(self.blur_head.bias)
        self.mouth_net = UNet3(3 + mouth_feat + 2, 3, mouth_ch)
        self.register_buffer('eyes_lips', torch.tensor(EYE_R + EYE_L + LIPS_OUTER + LIPS_INNER),
                             persistent=False)
        self.register_buffer('contour', torch.tensor(FACE_OVAL + BROWS), persistent=False)
        self.register_buffer('lips_outer', torch.tensor(LIPS_OUTER), persistent=False)
        self.register_buffer('lips_inner', torch.tensor(LIPS_INNER), persistent=False)

    def geometry_only(self) -> 'FrameDecoder':
        """This decoder without its guide branch (frame-geometry.onnx): the picture of guide_on = 0
        (decoder v1's network with these weights) without computing what guide_on = 0 multiplies
        away, for the geometry-only modes and frames whose guide is lost. The frame net's first
        conv drops the guide's input channels (the last GUIDE_INPUTS: they are zero then)."""
        plain = FrameDecoder(**{**self.config, 'guide': False})
        state = {k: v for k, v in self.state_dict().items() if not k.startswith('guide_net.')}
        first = 'frame_net.e1.0.0.weight'
        state[first] = state[first][:, :-GUIDE_INPUTS]
        plain.load_state_dict(state)
        plain.image_only = self.image_only
        return plain.train(self.training)

    def forward(self, ref_image, ref_feat, ref_mouth_feat, ref_landmarks, tgt_landmarks,
                guide=None, guide_landmarks=None, guide_on=None):
        """Returns (image, warped), both [B,3,256,256] in [0,1]-ish (image clamped).

        With `guide` (decoder v2): guide [B,3,64,64] in [0,1], the landmarks of the frame it was
        taken from [B,468,2] and guide_on [B,1] (0: no guide; the guide's values are then ignored)."""
        if self.guide:
            flow, guide_flow = self.flow(ref_landmarks, tgt_landmarks, guide_landmarks)   # [B,2,64,64] each
        else:
            flow = self.flow(ref_landmarks, tgt_landmarks)
        # (a) low-resolution refiner on the whole frame: a colour correction and a flow correction
        small = warp(F.avg_pool2d(ref_image, SIZE // GRID), flow)           # warp only, at 64x64
        feat = warp(ref_feat, flow)
        lm_unit = tgt_landmarks / SIZE
        h1 = heatmap(lm_unit[:, self.eyes_lips], GRID, 0.7)
        h2 = heatmap(lm_unit[:, self.contour], GRID, 0.7)
        inputs = [small, feat, flow * (1.0 / 32.0), h1, h2]
        if self.guide:
            on = guide_on.view(-1, 1, 1, 1)
            # A guide arrives at a lower picture rate than the geometry: moved by the landmarks
            # from its own frame to this one (zero flow when it is this frame's), like the reference.
            g = warp(guide, guide_flow) * on
            inputs += [g, on.expand(-1, 1, GRID, GRID)]
        y = self.frame_net.features(torch.cat(inputs, 1))
        # The three heads on y (colour correction, flow correction, blur weights) as one Conv, and
        # their maps brought to 256 by one Resize: the same numbers, fewer ops (each op has a fixed
        # cost in onnxruntime-web's WASM that these small ones do not repay).
        heads = F.conv2d(y, torch.cat([self.frame_net.out.weight, self.flow_head.weight, self.blur_head.weight]),
                         torch.cat([self.frame_net.out.bias, self.flow_head.bias, self.blur_head.bias]), padding=1)
        delta = heads[:, :3]
        flow_fixed = flow + FLOW_HEAD_SCALE * heads[:, 3:5] * self.border_fade
        big = upsample(torch.cat([flow_fixed, delta, heads[:, 5:]], 1))
        warped = warp_at(ref_image, big[:, :2])
        blend = big[:, 5:]
        image = warped + big[:, 2:5]
        if self.guide:
            low = F.avg_pool2d(warped, SIZE // GRID)
            fuse_in = torch.cat([g, low, y], 1)
            if self.guide_grid == GRID:
                fuse = self.guide_net(fuse_in)
            else:
                fuse = self.guide_net(F.avg_pool2d(fuse_in, GRID // self.guide_grid))
                fuse = F.interpolate(fuse, size=(GRID, GRID), mode='bilinear', align_corners=False)
            fuse = fuse * on
            gain, gate = fuse[:, GUIDE_GAIN:GUIDE_GAIN + 1], fuse[:, GUIDE_GATE:GUIDE_GATE + 1]
            swap = gain * (g - low - delta) + fuse[:, :3]
            # one bicubic upsampling for both (one op in the graph, not two)
            swap_low = upsample_bicubic(torch.cat([swap, low], 1))
            image = image + swap_low[:, :3] + upsample(gate) * (swap_low[:, 3:] - warped)
        for k, blur in enumerate(self.blurs):
            image = image + blend[:, k:k + 1] * (blur(warped) - warped)
        # (b) mouth patch at full resolution
        c, ux, uy, side = patch_frame(tgt_landmarks, LIPS_OUTER, self.mouth_scale)
        patch = cut_patch(image, c, ux, uy, side)
        lips_o = to_patch_unit(tgt_landmarks[:, self.lips_outer], c, ux, uy, side)
        lips_i = to_patch_unit(tgt_landmarks[:, self.lips_inner], c, ux, uy, side)
        hm = torch.cat([heatmap(lips_o, PATCH, 1.2), heatmap(lips_i, PATCH, 1.2)], 1)
        pdelta = self.mouth_net(torch.cat([patch, ref_mouth_feat, hm], 1))
        image = paste_patch(image, pdelta, c, ux, uy, side)   # window is 0 where border padding acts
        # Clamped for use; unclamped while training, because a clamp passes no gradient where the
        # output saturates (the first run diverged into saturated outputs it could not leave).
        image = image if self.training else image.clamp(0.0, 1.0)
        if self.image_only:
            return image
        # "Warp only" (the landmark flow, no learning): the evaluation's baseline and a training log.
        return image, warp(ref_image, flow)


class WarpOnly(nn.Module):
    """The landmark warp alone (warp.onnx): the "warp only" baseline of the evaluation."""

    def __init__(self, flow: LandmarkFlow):
        super().__init__()
        self.flow = flow

    def forward(self, ref_image, ref_landmarks, tgt_landmarks):
        return warp(ref_image, self.flow(ref_landmarks, tgt_landmarks))


class Decoder(nn.Module):
    """Reference encoder + frame decoder, for training and evaluation in PyTorch."""

    def __init__(self, **cfg):
        super().__init__()
        enc_keys = {'feat', 'mouth_feat', 'mouth_scale'}
        self.reference = ReferenceEncoder(**{k: v for k, v in cfg.items() if k in enc_keys})
        self.frame = FrameDecoder(**cfg)

    def forward(self, ref_image, ref_landmarks, tgt_landmarks, guide=None, guide_landmarks=None, guide_on=None):
        feat, mfeat = self.reference(ref_image, ref_landmarks)
        return self.frame(ref_image, feat, mfeat, ref_landmarks, tgt_landmarks, guide, guide_landmarks, guide_on)


def region_weights(lm, w_mouth=4.0, w_eyes=2.0, mouth_scale=1.1):
    """Per-pixel loss weight [B,1,256,256]: 1 + extra on the mouth patch and both eyes."""
    c, ux, uy, side = patch_frame(lm, LIPS_OUTER, mouth_scale)
    a, b = image_to_patch_coords(c, ux, uy, side)
    w = 1.0 + w_mouth * soft_window(a, b)
    for eye in (EYE_R, EYE_L):
        c, ux, uy, side = patch_frame(lm, eye, 0.45)
        a, b = image_to_patch_coords(c, ux, uy, side)
        w = w + w_eyes * soft_window(a, b)
    return w.unsqueeze(1)


# ---- metrics and losses (no pretrained networks) ---------------------------------------------

def _gauss_window(size=11, sigma=1.5, device=None):
    x = torch.arange(size, dtype=torch.float32, device=device) - (size - 1) / 2
    g = torch.exp(-x * x / (2 * sigma * sigma))
    return g / g.sum()


def _ssim_cs(x, y, win):
    """Per-image SSIM and contrast-structure terms (Wang et al.; valid Gaussian filtering)."""
    c = x.shape[1]
    k = win.shape[0]
    wx = win.view(1, 1, 1, k).expand(c, 1, 1, k)
    wy = win.view(1, 1, k, 1).expand(c, 1, k, 1)

    def blur(t):
        return F.conv2d(F.conv2d(t, wx, groups=c), wy, groups=c)

    c1, c2 = 0.01 ** 2, 0.03 ** 2
    mx, my = blur(x), blur(y)
    sxx = blur(x * x) - mx * mx
    syy = blur(y * y) - my * my
    sxy = blur(x * y) - mx * my
    cs = (2 * sxy + c2) / (sxx + syy + c2)
    ssim = ((2 * mx * my + c1) / (mx * mx + my * my + c1)) * cs
    return ssim.mean((1, 2, 3)), cs.mean((1, 2, 3))


def ssim(x, y):
    return _ssim_cs(x, y, _gauss_window(device=x.device))[0]


MS_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def ms_ssim(x, y):
    """MS-SSIM (5 scales, Wang 2003 weights) per image; x, y in [0,1], side >= 161."""
    win = _gauss_window(device=x.device)
    vals = []
    for i, _ in enumerate(MS_WEIGHTS):
        s, cs = _ssim_cs(x, y, win)
        if i < len(MS_WEIGHTS) - 1:
            vals.append(cs.clamp(min=1e-6))
            x, y = F.avg_pool2d(x, 2), F.avg_pool2d(y, 2)
        else:
            vals.append(s.clamp(min=1e-6))
    out = torch.ones_like(vals[0])
    for v, w in zip(vals, MS_WEIGHTS):
        out = out * v ** w
    return out


def psnr(x, y):
    mse = ((x - y) ** 2).mean((1, 2, 3)).clamp(min=1e-10)
    return 10.0 * torch.log10(1.0 / mse)


PSNR_LOSS_FLOOR = 1e-4   # MSE floor of the PSNR loss (40 dB): a target equal to its reference gets no unbounded weight


def decoder_loss(pred, target, weight, w_msssim=0.5, pyramid=(2, 4), w_l2=0.0, w_psnr=0.0):
    """Region-weighted L1 + pyramid L1 + (1 - MS-SSIM) + w_l2 x MSE + w_psnr x (-PSNR in dB, per
    picture). Returns (total, parts dict).

    The PSNR term is what the evaluation averages (per-frame PSNR): its gradient is the MSE's
    divided by the picture's own MSE, so a nearly static frame, where a refiner that smooths or
    shifts colour costs dB, weighs as much as one with large motion; the plain MSE lets the hard
    pairs of the batch decide."""
    l1 = ((pred - target).abs() * weight).mean() / weight.mean()
    pyr = pred.new_zeros(())
    for f in pyramid:
        pyr = pyr + (F.avg_pool2d(pred, f) - F.avg_pool2d(target, f)).abs().mean()
    ms = (1.0 - ms_ssim(pred, target)).mean()
    mse_each = ((pred - target) ** 2).mean((1, 2, 3))
    neg_psnr = (10.0 * torch.log10(mse_each + PSNR_LOSS_FLOOR)).mean()
    mse = mse_each.mean()
    total = l1 + pyr / max(len(pyramid), 1) + w_msssim * ms + w_l2 * mse + w_psnr * neg_psnr
    return total, {'l1w': l1.item(), 'pyr': pyr.item(), 'msssim_loss': ms.item(), 'mse': mse.item(),
                   'psnr_loss': -neg_psnr.item()}


def count_params(m):
    return sum(p.numel() for p in m.parameters())
