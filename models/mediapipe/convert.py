#!/usr/bin/env python3
"""Convert a float TFLite network (MediaPipe's face detector and face mesh) to ONNX, opset 17.

The graph is rebuilt op by op with `onnx.helper`; the .tflite is read with our own small
flatbuffer reader (tflite_reader.py), so conversion needs only flatbuffers + numpy + onnx.

Conventions of the ONNX file (documented in README.md):
  * input  `input`: float32 NHWC [1, H, W, 3], same value range as the tflite model
    (the caller does MediaPipe's preprocessing; see README.md).
  * outputs renamed to meaningful names for the known MediaPipe models (KNOWN_MODELS below),
    otherwise the tflite names are kept.
  * inside, activations are NCHW (ONNX's native conv layout): one Transpose after the input,
    and Transposes back only where the tflite graph depends on NHWC memory order (RESHAPE, outputs).
  * float16 weights (tflite DEQUANTIZE of fp16 constants) are folded at conversion time.
    By default they stay float16 in the file with one Cast each (halves the download; fp16->fp32
    is exact, and onnxruntime folds the Cast when the session is created); --fp32-weights writes
    them as float32.

Usage:
  python models/mediapipe/convert.py /tmp/mp_assets/face_landmark.tflite models/mediapipe/face_landmark.onnx
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from tflite_reader import Graph, Op, read_tflite

OPSET = 17
NHWC_TO_NCHW = [0, 3, 1, 2]
NCHW_TO_NHWC = [0, 2, 3, 1]

# Output names and shapes for the MediaPipe files we ship. The tflite names (conv2d_21 ...) say
# nothing; these say what the tensor is. Shapes drop the 1x1 spatial dims of the landmark heads.
KNOWN_MODELS = {
    "face_detection_short_range": {
        "outputs": {"regressors": ("regressors", [1, 896, 16]),
                    "classificators": ("classificators", [1, 896, 1])},
    },
    "face_landmark": {
        "outputs": {"conv2d_21": ("landmarks", [1, 468, 3]),
                    "conv2d_31": ("face_flag", [1, 1])},
    },
}


class UnsupportedOp(Exception):
    pass


class Converter:
    def __init__(self, g: Graph, fp16_weights: bool = True):
        self.g = g
        self.fp16_weights = fp16_weights
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        # Constant tensors (tflite layout, float32 or int), and which came from fp16 storage.
        self.const: dict[int, np.ndarray] = {}
        self.from_fp16: set[int] = set()
        # Activations: tflite tensor index -> (onnx name, layout), layout "NCHW" or "plain".
        # "plain" means the element order of the tflite tensor (NHWC for 4-D).
        self.act: dict[int, tuple[str, str]] = {}
        self.count = 0
        for t in g.tensors:
            if t.data is not None:
                self.const[t.index] = t.data

    # ---- helpers -----------------------------------------------------------------------------
    def uniq(self, base: str) -> str:
        self.count += 1
        return f"{base}_{self.count}"

    def node(self, op_type: str, inputs: list[str], base: str, **attrs) -> str:
        out = self.uniq(base)
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out

    def weight(self, value: np.ndarray, src: int, base: str) -> str:
        """Add a weight initializer (already in ONNX layout) and return the float32 tensor name."""
        name = self.uniq(base)
        if self.fp16_weights and src in self.from_fp16:
            self.inits.append(numpy_helper.from_array(value.astype(np.float16), name + "_fp16"))
            self.nodes.append(helper.make_node("Cast", [name + "_fp16"], [name], name=name,
                                               to=TensorProto.FLOAT))
        else:
            self.inits.append(numpy_helper.from_array(value.astype(np.float32), name))
        return name

    def int_const(self, value, base: str) -> str:
        name = self.uniq(base)
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype=np.int64), name))
        return name

    def nchw(self, idx: int) -> str:
        """ONNX name of activation `idx` in NCHW layout (4-D), transposing if needed."""
        name, layout = self.act[idx]
        if layout == "NCHW":
            return name
        assert len(self.g.tensors[idx].shape) == 4, "only 4-D tensors have an NCHW form"
        out = self.node("Transpose", [name], "to_nchw", perm=NHWC_TO_NCHW)
        self.act[idx] = (out, "NCHW")  # cache: later users reuse the transposed tensor
        return out

    def plain(self, idx: int) -> str:
        """ONNX name of activation `idx` in the tflite element order."""
        name, layout = self.act[idx]
        if layout == "plain":
            return name
        return self.node("Transpose", [name], "to_nhwc", perm=NCHW_TO_NHWC)

    def is_const(self, idx: int) -> bool:
        return idx in self.const

    def fused(self, name: str, activation: str | None) -> str:
        if activation is None:
            return name
        if activation == "RELU":
            return self.node("Relu", [name], "relu")
        if activation == "RELU6":
            return self.node("Clip", [name, self.f32_scalar(0.0), self.f32_scalar(6.0)], "relu6")
        raise UnsupportedOp(f"fused activation {activation}")

    def f32_scalar(self, v: float) -> str:
        name = self.uniq("scalar")
        self.inits.append(numpy_helper.from_array(np.array(v, dtype=np.float32), name))
        return name

    @staticmethod
    def same_pads(in_size: int, k: int, stride: int, dilation: int) -> tuple[int, int]:
        # TFLite SAME: output = ceil(in / stride); total padding split with the extra pixel at
        # the end (bottom/right), like ONNX SAME_UPPER. Explicit pads keep the graph static.
        out = -(-in_size // stride)
        eff_k = (k - 1) * dilation + 1
        total = max((out - 1) * stride + eff_k - in_size, 0)
        return total // 2, total - total // 2

    def spatial_pads(self, op: Op, kh: int, kw: int) -> list[int]:
        _, h, w, _ = self.g.tensors[op.inputs[0]].shape
        if op.options["padding"] == "VALID":
            return [0, 0, 0, 0]
        t, b = self.same_pads(h, kh, op.options["stride_h"], op.options.get("dilation_h", 1))
        l, r = self.same_pads(w, kw, op.options["stride_w"], op.options.get("dilation_w", 1))
        return [t, l, b, r]

    # ---- ops ---------------------------------------------------------------------------------
    def op_DEQUANTIZE(self, op: Op):
        src = op.inputs[0]
        if not self.is_const(src):
            raise UnsupportedOp("DEQUANTIZE of a non-constant tensor")
        data = self.const[src]
        if data.dtype != np.float16:
            raise UnsupportedOp(f"DEQUANTIZE of {data.dtype} (only fp16 weights are handled)")
        self.const[op.outputs[0]] = data.astype(np.float32)
        self.from_fp16.add(op.outputs[0])

    def _conv(self, op: Op, depthwise: bool):
        x, w_idx, b_idx = op.inputs
        w = self.const[w_idx]
        if depthwise:
            # tflite [1, KH, KW, C*M] -> ONNX [C*M, 1, KH, KW], one group per input channel.
            _, kh, kw, cm = w.shape
            groups = self.g.tensors[x].shape[3]
            if op.options["depth_multiplier"] not in (0, cm // groups):
                raise UnsupportedOp("depthwise conv with inconsistent depth multiplier")
            w_onnx = w.transpose(3, 0, 1, 2)
        else:
            # tflite [O, KH, KW, I] -> ONNX [O, I, KH, KW]
            _, kh, kw, _ = w.shape
            groups = 1
            w_onnx = w.transpose(0, 3, 1, 2)
        inputs = [self.nchw(x), self.weight(w_onnx, w_idx, "w")]
        if b_idx >= 0:
            inputs.append(self.weight(self.const[b_idx], b_idx, "b"))
        y = self.node("Conv", inputs, "dwconv" if depthwise else "conv",
                      kernel_shape=[kh, kw],
                      strides=[op.options["stride_h"], op.options["stride_w"]],
                      dilations=[op.options["dilation_h"], op.options["dilation_w"]],
                      pads=self.spatial_pads(op, kh, kw), group=groups)
        self.act[op.outputs[0]] = (self.fused(y, op.options["activation"]), "NCHW")

    def op_CONV_2D(self, op: Op):
        self._conv(op, depthwise=False)

    def op_DEPTHWISE_CONV_2D(self, op: Op):
        self._conv(op, depthwise=True)

    def op_MAX_POOL_2D(self, op: Op):
        kh, kw = op.options["filter_h"], op.options["filter_w"]
        # ONNX MaxPool ignores padded cells, as TFLite does, so SAME maps to explicit pads.
        y = self.node("MaxPool", [self.nchw(op.inputs[0])], "maxpool",
                      kernel_shape=[kh, kw], strides=[op.options["stride_h"], op.options["stride_w"]],
                      pads=self.spatial_pads(op, kh, kw))
        self.act[op.outputs[0]] = (self.fused(y, op.options["activation"]), "NCHW")

    def op_RELU(self, op: Op):
        name, layout = self.act[op.inputs[0]]
        self.act[op.outputs[0]] = (self.node("Relu", [name], "relu"), layout)

    def op_PRELU(self, op: Op):
        x, a_idx = op.inputs
        alpha = self.const[a_idx]
        c = self.g.tensors[x].shape[-1]
        if alpha.size != c:
            raise UnsupportedOp(f"PRELU alpha of shape {alpha.shape} (only per-channel handled)")
        # tflite alpha broadcasts over NHWC ([1,1,C]); in NCHW it must be [C,1,1].
        y = self.node("PRelu", [self.nchw(x), self.weight(alpha.reshape(c, 1, 1), a_idx, "alpha")],
                      "prelu")
        self.act[op.outputs[0]] = (y, "NCHW")

    def _binary(self, op: Op, onnx_op: str):
        a, b = op.inputs
        if self.is_const(a) or self.is_const(b):
            raise UnsupportedOp(f"{op.name} with a constant operand")
        shape_a, shape_b = self.g.tensors[a].shape, self.g.tensors[b].shape
        if len(shape_a) == 4 and shape_a == shape_b:
            ins, layout = [self.nchw(a), self.nchw(b)], "NCHW"
        else:
            ins, layout = [self.plain(a), self.plain(b)], "plain"
        y = self.node(onnx_op, ins, onnx_op.lower())
        self.act[op.outputs[0]] = (self.fused(y, op.options["activation"]), layout)

    def op_ADD(self, op: Op):
        self._binary(op, "Add")

    def op_MUL(self, op: Op):
        self._binary(op, "Mul")

    def op_PAD(self, op: Op):
        x, p_idx = op.inputs[:2]
        pads = self.const[p_idx].astype(np.int64)  # [rank, 2] (before, after) per tflite axis
        if len(self.g.tensors[x].shape) == 4:
            pads = pads[NHWC_TO_NCHW]
            src, layout = self.nchw(x), "NCHW"
        else:
            src, layout = self.plain(x), "plain"
        onnx_pads = np.concatenate([pads[:, 0], pads[:, 1]])
        # tflite PAD pads with zeros (PADV2 would carry a value); ONNX Pad's default is 0 too.
        y = self.node("Pad", [src, self.int_const(onnx_pads, "pads")], "pad", mode="constant")
        self.act[op.outputs[0]] = (y, layout)

    def op_RESHAPE(self, op: Op):
        # A reshape depends on element order, so it runs on the tflite (NHWC) order. The target
        # shape is the (static) output shape, whether it came as an input tensor or an option.
        shape = self.g.tensors[op.outputs[0]].shape
        y = self.node("Reshape", [self.plain(op.inputs[0]), self.int_const(shape, "shape")], "reshape")
        self.act[op.outputs[0]] = (y, "plain")

    def op_CONCATENATION(self, op: Op):
        axis = op.options["axis"]
        rank = len(self.g.tensors[op.outputs[0]].shape)
        axis = axis % rank
        layouts = {self.act[i][1] for i in op.inputs}
        if rank == 4 and layouts == {"NCHW"}:
            ins, layout, axis = [self.nchw(i) for i in op.inputs], "NCHW", NHWC_TO_NCHW.index(axis)
        else:
            ins, layout = [self.plain(i) for i in op.inputs], "plain"
        y = self.node("Concat", ins, "concat", axis=axis)
        self.act[op.outputs[0]] = (self.fused(y, op.options["activation"]), layout)

    # ---- whole graph -------------------------------------------------------------------------
    def convert(self, model_key: str | None, input_name: str = "input") -> onnx.ModelProto:
        g = self.g
        unsupported = sorted({op.name for op in g.ops if not hasattr(self, f"op_{op.name}")})
        if unsupported:
            raise UnsupportedOp(f"ops without a converter: {', '.join(unsupported)}")
        if len(g.inputs) != 1:
            raise UnsupportedOp("only single-input models are handled")
        in_t = g.tensors[g.inputs[0]]
        self.act[in_t.index] = (input_name, "plain")
        for op in g.ops:
            getattr(self, f"op_{op.name}")(op)

        spec = KNOWN_MODELS.get(model_key or "", {}).get("outputs", {})
        outputs = []
        for idx in g.outputs:
            t = g.tensors[idx]
            name, shape = spec.get(t.name, (t.name, list(t.shape)))
            # Outputs in tflite element order, then the documented (squeezed) shape.
            src = self.plain(idx)
            self.nodes.append(helper.make_node("Reshape", [src, self.int_const(shape, "out_shape")],
                                               [name], name=f"output_{name}"))
            outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))

        graph = helper.make_graph(
            self.nodes, model_key or "tflite_graph",
            [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, list(in_t.shape))],
            outputs, self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name="kiloface models/mediapipe/convert.py")
        model.ir_version = 8  # opset 17 era; readable by onnxruntime-web/node 1.14+
        onnx.checker.check_model(model, full_check=True)
        return model


def convert_file(src: Path, dst: Path, fp16_weights: bool = True) -> onnx.ModelProto:
    g = read_tflite(str(src))
    model = Converter(g, fp16_weights).convert(src.stem)
    model.doc_string = (f"Converted from MediaPipe {src.name} (tflite description: "
                        f"{g.description}) by kiloface models/mediapipe/convert.py. "
                        "Input float32 NHWC; see models/mediapipe/README.md.")
    dst.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(dst))
    return model


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tflite", type=Path)
    ap.add_argument("onnx", type=Path)
    ap.add_argument("--fp32-weights", action="store_true",
                    help="store fp16 weights as float32 (bigger file, no Cast nodes)")
    args = ap.parse_args(argv)
    try:
        model = convert_file(args.tflite, args.onnx, fp16_weights=not args.fp32_weights)
    except UnsupportedOp as e:
        print(f"{args.tflite.name}: cannot convert: {e}", file=sys.stderr)
        return 2
    ins = [(i.name, [d.dim_value for d in i.type.tensor_type.shape.dim]) for i in model.graph.input]
    outs = [(o.name, [d.dim_value for d in o.type.tensor_type.shape.dim]) for o in model.graph.output]
    print(f"{args.tflite.name} -> {args.onnx} ({args.onnx.stat().st_size} bytes, "
          f"{len(model.graph.node)} nodes) inputs {ins} outputs {outs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
