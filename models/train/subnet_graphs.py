"""The frame graph's two U-Nets alone (the refiner at 64x64 and the mouth patch's), as the frame
graph runs them, with an export's weights: to see how much of a picture is convolution.

    python models/train/subnet_graphs.py [MODEL_DIR=models/kiloface-v2] [OUT_DIR=/tmp/kiloface-subnets]
    node models/train/bench_node.mjs --graph OUT_DIR/frame_net.onnx --wasm     (and mouth_net.onnx)

Writes OUT_DIR/frame_net.onnx and OUT_DIR/mouth_net.onnx (input `x`, the net's inputs at 64x64;
output: its last features, before the heads) and prints each one's multiply-adds.
"""
import os
import sys

import torch
from torch.utils.flop_counter import FlopCounterMode

from decoder import GRID, PATCH, onnx_ops
from export import OPSET, load_export


class Features(torch.nn.Module):
    """A U-Net's last features (the frame graph puts its own heads on them)."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net.features(x)


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else 'models/kiloface-v2'
    out = sys.argv[2] if len(sys.argv) > 2 else '/tmp/kiloface-subnets'
    os.makedirs(out, exist_ok=True)
    model, _ = load_export(folder)
    frame = model.frame.geometry_only()   # the frame net as frames without a guide run it
    for name, net, side in (('frame_net', frame.frame_net, GRID), ('mouth_net', frame.mouth_net, PATCH)):
        x = torch.rand(1, net.e1[0][0].in_channels, side, side)
        with onnx_ops(), torch.no_grad():
            with FlopCounterMode(display=False) as counter:
                Features(net)(x)
            path = os.path.join(out, f'{name}.onnx')
            torch.onnx.export(Features(net), (x,), path, input_names=['x'], output_names=['features'],
                              opset_version=OPSET, dynamo=False)
        print(f'{path}: input {list(x.shape)}, {counter.get_total_flops() / 2e6:.1f} M multiply-adds')


if __name__ == '__main__':
    main()
