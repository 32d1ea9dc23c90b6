"""Narrower U-Nets from a trained decoder: the start of a distillation run (issue 17, speed).

Over half of a picture in onnxruntime-web WASM is the frame net's and the mouth net's
convolutions, at about one SIMD core's pace (MODEL_CARD.md): fewer channels is the way to a faster
picture. A narrower net does not start from random weights: each of its convs keeps the parent's
filters with the largest L1 norm (and the matching input columns of whatever reads them), so it
starts near the parent's picture and `train.py --distill W` pulls it the rest of the way towards
the parent's own output.

    python models/train/train.py --config models/train/configs/RUN.json   (frame_ch / mouth_ch set)
"""
from __future__ import annotations

import torch

from decoder import Decoder, UNet3


def _keep(weight: torch.Tensor, n: int) -> torch.Tensor:
    """The n output channels of a conv weight [O, I, kh, kw] with the largest L1 norm, in order."""
    return weight.detach().abs().sum((1, 2, 3)).topk(n).indices.sort().values


def _copy_conv(dst: torch.nn.Conv2d, src: torch.nn.Conv2d, out_idx, in_idx) -> None:
    with torch.no_grad():
        dst.weight.copy_(src.weight[out_idx][:, in_idx])
        dst.bias.copy_(src.bias[out_idx])


def prune_unet(dst: UNet3, src: UNet3) -> torch.Tensor:
    """Copies src's strongest filters into the narrower dst (same input channels), its output conv
    included. Returns the channels of src's last features (`features()`) that dst keeps, for the
    other convs that read them."""
    every_in = torch.arange(src.e1[0][0].in_channels)

    def chain(dst_seq, src_seq, in_idx):
        for d, s in zip(dst_seq, src_seq):
            out_idx = _keep(s[0].weight, d[0].out_channels)
            _copy_conv(d[0], s[0], out_idx, in_idx)
            in_idx = out_idx
        return in_idx

    k1 = chain(dst.e1, src.e1, every_in)
    k2 = chain(dst.e2, src.e2, k1)
    k3 = chain(dst.e3, src.e3, k2)
    # The decoder's first conv of a level reads [upsampled low level, skip]: columns of both.
    c3 = src.e3[-1][0].out_channels
    k = _keep(src.d2[0][0].weight, dst.d2[0][0].out_channels)
    _copy_conv(dst.d2[0][0], src.d2[0][0], k, torch.cat([k3, c3 + k2]))
    kd2 = chain(dst.d2[1:], src.d2[1:], k)
    c2 = src.d2[-1][0].out_channels
    kf = _keep(src.d1[0][0].weight, dst.d1[0][0].out_channels)
    _copy_conv(dst.d1[0][0], src.d1[0][0], kf, torch.cat([kd2, c2 + k1]))
    _copy_conv(dst.out, src.out, torch.arange(src.out.out_channels), kf)
    return kf


def prune_decoder(student: Decoder, teacher: Decoder) -> None:
    """Every weight of the teacher into the student; where the student's frame net or mouth net is
    narrower, the strongest channels (prune_unet) and, for the heads and the fusion net that read
    the frame net's features, the matching input columns."""
    t_params = dict(teacher.named_parameters())
    same = {k: v for k, v in t_params.items()
            if not k.startswith(('frame.frame_net.', 'frame.mouth_net.', 'frame.flow_head.', 'frame.blur_head.',
                                 'frame.guide_net.e1.0.0.'))}
    s_params = dict(student.named_parameters())
    with torch.no_grad():
        for k, v in same.items():
            s_params[k].copy_(v)
    sf, tf = student.frame, teacher.frame
    prune_unet(sf.mouth_net, tf.mouth_net)
    kept = prune_unet(sf.frame_net, tf.frame_net)
    for head in ('flow_head', 'blur_head'):
        _copy_conv(getattr(sf, head), getattr(tf, head), torch.arange(getattr(tf, head).out_channels), kept)
    if getattr(tf, 'guide', False):
        # The fusion net reads [guide (3), the warp's low band (3), the frame net's features].
        first_in = torch.cat([torch.arange(6), 6 + kept])
        first = tf.guide_net.e1[0][0]
        _copy_conv(sf.guide_net.e1[0][0], first, torch.arange(first.out_channels), first_in)
