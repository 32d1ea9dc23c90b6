"""A small reader for .tflite files: just the parts of the TFLite flatbuffer schema that a
converter of float convolutional networks needs.

Why not tensorflow's `schema_py_generated`: it drags in a 500 MB package to read a few tables.
The field numbers below are those of tensorflow/lite/schema/schema.fbs (a flatbuffer field `n`
lives at vtable offset 4 + 2n); only `flatbuffers` and `numpy` are needed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import flatbuffers
import numpy as np
from flatbuffers import number_types as N
from flatbuffers.table import Table

# schema.fbs enum TensorType -> numpy dtype (the ones a float model can hold).
TENSOR_TYPES = {
    0: np.float32,
    1: np.float16,
    2: np.int32,
    3: np.uint8,
    4: np.int64,
    6: np.bool_,
    7: np.int16,
    9: np.int8,
}

# schema.fbs enum BuiltinOperator: the names of the codes we may meet (others print as numbers).
BUILTIN_NAMES = {
    0: "ADD", 1: "AVERAGE_POOL_2D", 2: "CONCATENATION", 3: "CONV_2D", 4: "DEPTHWISE_CONV_2D",
    6: "DEQUANTIZE", 9: "FULLY_CONNECTED", 14: "LOGISTIC", 17: "MAX_POOL_2D", 18: "MUL",
    19: "RELU", 21: "RELU6", 22: "RESHAPE", 23: "RESIZE_BILINEAR", 25: "SOFTMAX", 28: "TANH",
    32: "CUSTOM", 34: "PAD", 39: "TRANSPOSE", 41: "SUB", 45: "STRIDED_SLICE", 54: "PRELU",
    98: "LEAKY_RELU",
}

# Builtin option tables: field name -> (field number, flatbuffer scalar type, default).
_I32, _I8, _BOOL = N.Int32Flags, N.Int8Flags, N.BoolFlags
OPTION_FIELDS = {
    "CONV_2D": {"padding": (0, _I8, 0), "stride_w": (1, _I32, 0), "stride_h": (2, _I32, 0),
                "activation": (3, _I8, 0), "dilation_w": (4, _I32, 1), "dilation_h": (5, _I32, 1)},
    "DEPTHWISE_CONV_2D": {"padding": (0, _I8, 0), "stride_w": (1, _I32, 0), "stride_h": (2, _I32, 0),
                          "depth_multiplier": (3, _I32, 0), "activation": (4, _I8, 0),
                          "dilation_w": (5, _I32, 1), "dilation_h": (6, _I32, 1)},
    "MAX_POOL_2D": {"padding": (0, _I8, 0), "stride_w": (1, _I32, 0), "stride_h": (2, _I32, 0),
                    "filter_w": (3, _I32, 0), "filter_h": (4, _I32, 0), "activation": (5, _I8, 0)},
    "AVERAGE_POOL_2D": {"padding": (0, _I8, 0), "stride_w": (1, _I32, 0), "stride_h": (2, _I32, 0),
                        "filter_w": (3, _I32, 0), "filter_h": (4, _I32, 0), "activation": (5, _I8, 0)},
    "CONCATENATION": {"axis": (0, _I32, 0), "activation": (1, _I8, 0)},
    "ADD": {"activation": (0, _I8, 0)},
    "MUL": {"activation": (0, _I8, 0)},
    "SUB": {"activation": (0, _I8, 0)},
}
PADDING = {0: "SAME", 1: "VALID"}
ACTIVATION = {0: None, 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6", 4: "TANH"}


class _T:
    """Thin wrapper over a flatbuffer table: fields by number."""

    def __init__(self, buf: bytes, pos: int):
        self.t = Table(buf, pos)

    def _o(self, n: int) -> int:
        return self.t.Offset(4 + 2 * n)

    def scalar(self, n: int, flags, default):
        o = self._o(n)
        return self.t.Get(flags, o + self.t.Pos) if o else default

    def string(self, n: int) -> str | None:
        o = self._o(n)
        return self.t.String(o + self.t.Pos).decode() if o else None

    def table(self, n: int) -> "_T | None":
        o = self._o(n)
        return _T(self.t.Bytes, self.t.Indirect(o + self.t.Pos)) if o else None

    def tables(self, n: int) -> list["_T"]:
        o = self._o(n)
        if not o:
            return []
        start, count = self.t.Vector(o), self.t.VectorLen(o)
        return [_T(self.t.Bytes, self.t.Indirect(start + 4 * i)) for i in range(count)]

    def array(self, n: int, flags) -> np.ndarray:
        o = self._o(n)
        if not o:
            return np.zeros(0, dtype=N.to_numpy_type(flags))
        return self.t.GetVectorAsNumpy(flags, o)

    def union(self, n: int) -> "_T | None":
        o = self._o(n)
        if not o:
            return None
        u = _T(self.t.Bytes, 0)
        self.t.Union(u.t, o)
        return u


@dataclass
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: type
    data: np.ndarray | None  # constant contents, or None for activations


@dataclass
class Op:
    index: int
    name: str  # builtin name, or the custom code for CUSTOM ops
    inputs: list[int]  # tensor indices; -1 means "optional input absent"
    outputs: list[int]
    options: dict = field(default_factory=dict)


@dataclass
class Graph:
    tensors: list[Tensor]
    ops: list[Op]
    inputs: list[int]
    outputs: list[int]
    description: str | None


def read_tflite(path: str) -> Graph:
    buf = open(path, "rb").read()
    if buf[4:8] != b"TFL3":
        raise ValueError(f"{path}: not a TFLite flatbuffer (identifier {buf[4:8]!r})")
    model = _T(buf, flatbuffers.encode.Get(N.UOffsetTFlags.packer_type, buf, 0))
    # Model: 1 operator_codes, 2 subgraphs, 3 description, 4 buffers.
    codes = []
    for c in model.tables(1):
        # OperatorCode: 0 deprecated_builtin_code (int8), 1 custom_code, 3 builtin_code (int32).
        # Newer files put codes >127 in builtin_code; the real code is the larger of the two.
        code = max(c.scalar(0, _I8, 0), c.scalar(3, _I32, 0))
        codes.append(c.string(1) if code == 32 else BUILTIN_NAMES.get(code, f"BUILTIN_{code}"))
    buffers = [b.array(0, N.Uint8Flags) for b in model.tables(4)]
    subgraphs = model.tables(2)
    if len(subgraphs) != 1:
        raise ValueError(f"{path}: {len(subgraphs)} subgraphs; only single-graph models are handled")
    sg = subgraphs[0]

    tensors = []
    for i, t in enumerate(sg.tables(0)):
        # Tensor: 0 shape, 1 type, 2 buffer, 3 name, 4 quantization.
        ttype = t.scalar(1, _I8, 0)
        if ttype not in TENSOR_TYPES:
            raise ValueError(f"tensor {i}: unsupported TensorType {ttype}")
        dtype = TENSOR_TYPES[ttype]
        shape = tuple(int(s) for s in t.array(0, N.Int32Flags))
        q = t.table(4)
        if q is not None and len(q.array(2, N.Float32Flags)):
            # Quantized (int8/uint8) tensors would need scale/zero-point handling everywhere;
            # MediaPipe's float models have none, so refuse instead of converting wrongly.
            raise ValueError(f"tensor {i} ({t.string(3)}): quantized tensors are not supported")
        raw = buffers[t.scalar(2, N.Uint32Flags, 0)]
        data = None
        if len(raw):
            data = np.frombuffer(raw.tobytes(), dtype=dtype).reshape(shape).copy()
        tensors.append(Tensor(i, t.string(3) or f"t{i}", shape, dtype, data))

    ops = []
    for i, o in enumerate(sg.tables(3)):
        # Operator: 0 opcode_index, 1 inputs, 2 outputs, 3 builtin_options_type, 4 builtin_options.
        name = codes[o.scalar(0, N.Uint32Flags, 0)]
        opts = {}
        spec = OPTION_FIELDS.get(name)
        u = o.union(4)
        if spec is not None:
            for key, (n, flags, default) in spec.items():
                opts[key] = u.scalar(n, flags, default) if u is not None else default
            if "padding" in opts:
                opts["padding"] = PADDING[opts["padding"]]
            if "activation" in opts:
                if opts["activation"] not in ACTIVATION:
                    raise ValueError(f"op {i} {name}: fused activation {opts['activation']}")
                opts["activation"] = ACTIVATION[opts["activation"]]
        if name == "STRIDED_SLICE" and u is not None:
            opts.update({k: u.scalar(n, _I32, 0) for k, n in
                         [("begin_mask", 0), ("end_mask", 1), ("ellipsis_mask", 2),
                          ("new_axis_mask", 3), ("shrink_axis_mask", 4)]})
        ops.append(Op(i, name, [int(x) for x in o.array(1, N.Int32Flags)],
                      [int(x) for x in o.array(2, N.Int32Flags)], opts))

    return Graph(
        tensors=tensors,
        ops=ops,
        inputs=[int(x) for x in sg.array(1, N.Int32Flags)],
        outputs=[int(x) for x in sg.array(2, N.Int32Flags)],
        description=model.string(3),
    )
