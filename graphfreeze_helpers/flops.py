"""FLOPs and MACs of a frozen graph, per op type and in total, without TensorFlow.

Two steps, both reading the GraphDef alone:

1. :func:`infer_shapes` walks the graph from its inputs and propagates static shapes through
   the common ops (convolutions, matrix products, pooling, elementwise ops with broadcasting,
   reductions, reshapes on constants...). A free size of an input counts as 1 for the batch
   (the first dimension); another free size leaves the shapes after it unknown, until you give
   the input's shape (``--shape image=[1,224,224,3]``).
2. :func:`count_flops` applies, node by node, the formulas TensorFlow's own profiler registers
   (``tensorflow/python/profiler/internal/flops_registry.py`` and ``nn_ops.py``): a MatMul is
   ``2 * k * output elements``, a Conv2D ``2 * kh * kw * in_channels * output elements``, an
   elementwise op one per output element, Softmax five per element, and so on. A MAC
   (multiply-accumulate) is two FLOPs of a MatMul or convolution.

Ops without a formula in TensorFlow's profiler (Relu, Tanh, FusedBatchNorm...) are listed
apart, not counted, so the total matches what ``tf.compat.v1.profiler`` reports for the same
graph and shapes (a test checks it). Ops that only move or relabel data (Const, Identity,
Reshape, Cast...) cost nothing here, as there.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence

import numpy as np

from . import graphfile, tensorproto
from .errors import TensorNameError
from .formatting import printable
from .tensors import TensorInfo, format_shape, node_name, tensor_name

Shape = Optional[tuple[Optional[int], ...]]

# Formulas of TensorFlow's profiler, by op: "unary" counts input elements x k, "binary" output
# elements x k, "reduce" input elements x reduce + output elements x (finalize - reduce).
UNARY_FLOPS = {"Reciprocal": 1, "Square": 1, "Rsqrt": 2, "Log": 1, "Neg": 1, "Softmax": 5, "AssignSub": 1,
               "AssignAdd": 1}
BINARY_FLOPS = {
    "Add": 1, "AddV2": 1, "Sub": 1, "Mul": 1, "RealDiv": 1, "Maximum": 1, "Minimum": 1, "Pow": 1,
    "GreaterEqual": 1, "Greater": 1, "LessEqual": 1, "Less": 1, "Equal": 1, "NotEqual": 1, "SquaredDifference": 2,
}
REDUCE_FLOPS = {"Mean": (1, 1), "Sum": (1, 0), "ArgMax": (1, 0), "ArgMin": (1, 0)}
MATMUL_OPS = ("MatMul", "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3")
CONV_OPS = ("Conv2D", "DepthwiseConv2dNative")
POOL_OPS = ("MaxPool", "AvgPool")
FORMULA_OPS = frozenset(UNARY_FLOPS) | frozenset(BINARY_FLOPS) | frozenset(REDUCE_FLOPS) | frozenset(
    MATMUL_OPS + CONV_OPS + POOL_OPS + ("BiasAdd", "AddN"))
# Ops that move, relabel or route data: no arithmetic.
FREE_OPS = frozenset({
    "Const", "Placeholder", "PlaceholderWithDefault", "Identity", "IdentityN", "NoOp", "Reshape", "Squeeze",
    "ExpandDims", "Shape", "ShapeN", "Size", "Rank", "Pack", "Unpack", "StridedSlice", "Slice", "ConcatV2",
    "Concat", "Transpose", "Cast", "Bitcast", "Fill", "ZerosLike", "OnesLike", "Tile", "GatherV2", "Gather",
    "Split", "SplitV", "Pad", "PadV2", "MirrorPad", "StopGradient", "PreventGradient", "Snapshot", "CheckNumerics",
    "Switch", "Merge", "Enter", "Exit", "NextIteration", "LoopCond", "Range", "Assert", "RefSwitch", "RefMerge",
    "RefEnter", "RefExit", "RefNextIteration", "RefIdentity",
})
# Ops whose first output has the shape of their first input.
SAME_SHAPE_OPS = frozenset({
    "Identity", "StopGradient", "PreventGradient", "Snapshot", "CheckNumerics", "Relu", "Relu6", "Elu", "Selu",
    "Sigmoid", "Tanh", "Softplus", "Softsign", "LeakyRelu", "Neg", "Square", "Sqrt", "Rsqrt", "Exp", "Log",
    "Log1p", "Reciprocal", "Abs", "Cast", "Softmax", "LogSoftmax", "FusedBatchNorm", "FusedBatchNormV2",
    "FusedBatchNormV3", "BiasAdd", "Round", "Floor", "Ceil", "Sign", "Erf", "ClipByValue", "LRN", "AddN",
    "Gelu", "Switch", "Enter", "Exit", "NextIteration", "ZerosLike", "OnesLike", "Cos", "Sin", "IsNan",
    "LogicalNot", "Relu6Grad", "Inv", "Expm1", "Mish", "Swish",
})
ELEMENTWISE_OPS = frozenset(BINARY_FLOPS) | frozenset({
    "Div", "DivNoNan", "FloorDiv", "FloorMod", "Mod", "LogicalAnd", "LogicalOr", "BiasAdd", "SelectV2",
    "Atan2", "TruncateDiv", "MulNoNan",
})
REDUCE_OPS = frozenset({"Mean", "Sum", "Max", "Min", "Prod", "All", "Any", "ArgMax", "ArgMin"})


# --- shapes ---------------------------------------------------------------------------------


def _const_array(node: Any) -> Optional[np.ndarray]:
    if node is None or node.op != "Const":
        return None
    try:
        return np.asarray(tensorproto.tensor_to_numpy(node.attr["value"].tensor))
    except Exception:  # a dtype NumPy cannot hold: no value to read shapes from
        return None


def _broadcast(a: Shape, b: Shape) -> Shape:
    """NumPy's broadcasting of two shapes (a free size meets a fixed one: the fixed one)."""
    if a is None or b is None:
        return None
    n = max(len(a), len(b))
    left, right = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    out: list[Optional[int]] = []
    for x, y in zip(left, right):
        if x == 1 or x is None and y not in (None, 1):
            out.append(y)
        elif y == 1 or x == y or y is None:
            out.append(x)
        else:
            return None  # sizes that do not broadcast
    return tuple(out)


def _window(size: Optional[int], kernel: int, stride: int, padding: str, dilation: int = 1) -> Optional[int]:
    if size is None:
        return None
    effective = (kernel - 1) * dilation + 1
    if padding == "VALID":
        return (size - effective) // stride + 1
    return -(-size // stride)  # SAME (EXPLICIT pads are rare in frozen graphs: taken as SAME)


def _spatial(node: Any, x: Shape, kernel: Sequence[int], channels: Optional[int]) -> Shape:
    """Output shape of a 2-D convolution or pooling, NHWC or NCHW."""
    if x is None or len(x) != 4:
        return None
    nchw = node.attr["data_format"].s == b"NCHW" if "data_format" in node.attr else False
    strides = list(node.attr["strides"].list.i) or [1, 1, 1, 1]
    dilations = list(node.attr["dilations"].list.i) if "dilations" in node.attr else [1, 1, 1, 1]
    dilations = dilations or [1, 1, 1, 1]
    padding = node.attr["padding"].s.decode() if "padding" in node.attr else "VALID"
    h_axis, w_axis, c_axis = (2, 3, 1) if nchw else (1, 2, 3)
    out = list(x)
    out[h_axis] = _window(x[h_axis], kernel[0], strides[h_axis], padding, dilations[h_axis])
    out[w_axis] = _window(x[w_axis], kernel[1], strides[w_axis], padding, dilations[w_axis])
    out[c_axis] = channels if channels is not None else x[c_axis]
    return tuple(out)


def _reshape(x: Shape, target: Optional[np.ndarray]) -> Shape:
    if target is None:
        return None
    dims = [int(d) for d in np.asarray(target).ravel()]
    if -1 in dims:
        known = int(np.prod([d for d in dims if d != -1])) if len(dims) > 1 else 1
        total = None if x is None or any(d is None for d in x) else int(np.prod(x))
        dims = [(total // known if total is not None and known else None) if d == -1 else d for d in dims]
    return tuple(dims)


def _reduced(node: Any, x: Shape, axes: Optional[np.ndarray]) -> Shape:
    if x is None or axes is None:
        return None
    keep = node.attr["keep_dims"].b if "keep_dims" in node.attr else False
    axis_set = {int(a) % len(x) for a in np.asarray(axes).ravel()} if len(x) else set()
    if node.op in ("ArgMax", "ArgMin"):
        keep = False
    return tuple(1 if i in axis_set else d for i, d in enumerate(x) if keep or i not in axis_set)


def _node_shape(node: Any, ins: list[Shape], consts: list[Optional[np.ndarray]]) -> Shape:
    """The static shape of ``node``'s first output from its inputs' shapes (and constant inputs)."""
    op = node.op
    first = ins[0] if ins else None
    if op == "Const":
        return tensorproto.tensor_shape(node.attr["value"].tensor)
    if op in ("Placeholder", "PlaceholderWithDefault"):
        return graphfile.placeholder_info(node).shape
    if op in ELEMENTWISE_OPS and len(ins) >= 2:
        shape = ins[0]
        for other in ins[1:]:
            shape = _broadcast(shape, other)
        return shape
    if op in SAME_SHAPE_OPS:
        return first
    if op == "Merge":
        return next((s for s in ins if s is not None), None)
    if op == "MatMul" and len(ins) >= 2 and first is not None and ins[1] is not None:
        a, b = first, ins[1]
        m = a[1] if node.attr["transpose_a"].b else a[0]
        n = b[0] if node.attr["transpose_b"].b else b[1]
        return (m, n)
    if op in MATMUL_OPS[1:] and len(ins) >= 2 and first is not None and ins[1] is not None:
        a, b = first, ins[1]
        adj_x = node.attr["adj_x"].b if "adj_x" in node.attr else False
        adj_y = node.attr["adj_y"].b if "adj_y" in node.attr else False
        batch = _broadcast(tuple(a[:-2]), tuple(b[:-2]))
        if batch is None:
            return None
        return (*batch, a[-1] if adj_x else a[-2], b[-2] if adj_y else b[-1])
    if op == "Conv2D" and len(ins) >= 2 and ins[1] is not None:
        kh, kw, _, out_ch = ins[1]
        return _spatial(node, first, (kh or 1, kw or 1), out_ch)
    if op == "DepthwiseConv2dNative" and len(ins) >= 2 and ins[1] is not None:
        kh, kw, in_ch, mult = ins[1]
        return _spatial(node, first, (kh or 1, kw or 1), None if in_ch is None or mult is None else in_ch * mult)
    if op in POOL_OPS:
        ksize = list(node.attr["ksize"].list.i) or [1, 1, 1, 1]
        nchw = node.attr["data_format"].s == b"NCHW" if "data_format" in node.attr else False
        kernel = (ksize[2], ksize[3]) if nchw else (ksize[1], ksize[2])
        return _spatial(node, first, kernel, None)
    if op == "Reshape" and len(consts) >= 2:
        return _reshape(first, consts[1])
    if op in REDUCE_OPS and len(consts) >= 2:
        return _reduced(node, first, consts[1])
    if op == "Squeeze" and first is not None:
        dims = {int(d) % len(first) for d in node.attr["squeeze_dims"].list.i} if len(first) else set()
        return tuple(d for i, d in enumerate(first) if (i not in dims if dims else d != 1))
    if op == "ExpandDims" and first is not None and len(consts) >= 2 and consts[1] is not None:
        axis = int(np.asarray(consts[1]).ravel()[0])
        axis = axis if axis >= 0 else len(first) + 1 + axis
        return (*first[:axis], 1, *first[axis:])
    if op == "Transpose" and first is not None and len(consts) >= 2 and consts[1] is not None:
        return tuple(first[int(p)] for p in np.asarray(consts[1]).ravel())
    if op in ("Pad", "PadV2", "MirrorPad") and first is not None and len(consts) >= 2 and consts[1] is not None:
        pads = np.asarray(consts[1]).reshape(-1, 2)
        return tuple(None if d is None else d + int(p.sum()) for d, p in zip(first, pads))
    if op == "ConcatV2" and len(ins) >= 2 and consts and consts[-1] is not None:
        parts = [s for s in ins[:-1]]
        if any(s is None for s in parts) or not parts:
            return None
        axis = int(np.asarray(consts[-1]).ravel()[0]) % len(parts[0])
        sizes = [s[axis] for s in parts]
        out = list(parts[0])
        out[axis] = None if any(d is None for d in sizes) else sum(sizes)
        return tuple(out)
    if op == "Shape" and first is not None:
        return (len(first),)
    if op == "Pack" and ins and first is not None:
        axis = node.attr["axis"].i if "axis" in node.attr else 0
        axis = axis if axis >= 0 else len(first) + 1 + axis
        return (*first[:axis], len(ins), *first[axis:])
    return None


def infer_shapes(graph_def: Any, shapes: Optional[Mapping[str, Shape]] = None, *, batch: Optional[int] = 1) -> \
        dict[str, Shape]:
    """The static shape of every node's first output (``{node name: shape}``, ``None`` when unknown).

    ``shapes`` gives inputs' shapes by tensor or node name (``{"image": (1, 224, 224, 3)}``);
    other placeholders keep the shape they declare, with a free first dimension taken as
    ``batch`` (``None`` keeps it free). No TensorFlow: only the ops this module knows
    propagate a shape; after any other op the shape is unknown.
    """
    given = {node_name(k): tuple(v) if v is not None else None for k, v in (shapes or {}).items()}
    nodes = {node.name: node for node in graph_def.node}
    placeholders = [n.name for n in graph_def.node if n.op in ("Placeholder", "PlaceholderWithDefault")]
    unknown = [name for name in given if name not in placeholders]
    if unknown:
        raise TensorNameError(f"--shape {unknown[0]!r}: no such input in the graph; its inputs are {placeholders}")
    result: dict[str, Shape] = {}
    order = _topological(graph_def)
    for name in order:
        node = nodes[name]
        data = [edge for edge in node.input if not edge.startswith("^")]
        ins = [result.get(node_name(edge)) if tensor_name(edge).endswith(":0")
               or nodes[node_name(edge)].op in ("Switch", "RefSwitch") else None
               for edge in data if node_name(edge) in nodes]
        consts = [_const_array(nodes.get(node_name(edge))) for edge in data if node_name(edge) in nodes]
        if node.op in ("Placeholder", "PlaceholderWithDefault"):
            shape = given.get(name, graphfile.placeholder_info(node).shape)
            if shape is not None and shape and shape[0] is None and batch is not None and name not in given:
                shape = (batch, *shape[1:])
        else:
            try:
                shape = _node_shape(node, ins, consts)
            except (IndexError, ValueError, TypeError, ZeroDivisionError):  # a malformed node: shape unknown
                shape = None
            if shape is None:
                shape = declared_shape(node, batch)
        result[name] = shape
    return result


def declared_shape(node: Any, batch: Optional[int] = 1) -> Shape:
    """The shape a node declares for its first output: ``_output_shapes`` (a graph written with
    ``add_shapes=True``) or ``output_shapes`` (a v2 ``If``/``While``/call), a free first size as ``batch``."""
    for key in ("_output_shapes", "output_shapes"):
        if key in node.attr and node.attr[key].list.shape:
            proto = node.attr[key].list.shape[0]
            if proto.unknown_rank:
                return None
            dims = tuple(None if d.size < 0 else int(d.size) for d in proto.dim)
            return (batch, *dims[1:]) if dims and dims[0] is None and batch is not None else dims
    return None


def _topological(graph_def: Any) -> list[str]:
    """Node names with each node after its inputs (a v1 loop's back edge, NextIteration, is cut)."""
    nodes = {node.name: node for node in graph_def.node}
    pending = {name: [node_name(e) for e in node.input if node_name(e) in nodes
                      and nodes[node_name(e)].op != "NextIteration"] for name, node in nodes.items()}
    consumers: dict[str, list[str]] = {}
    for name, inputs in pending.items():
        for source in inputs:
            consumers.setdefault(source, []).append(name)
    waiting = {name: len(inputs) for name, inputs in pending.items()}
    ready = [name for name, count in waiting.items() if count == 0]
    order: list[str] = []
    while ready:
        name = ready.pop()
        order.append(name)
        for consumer in consumers.get(name, ()):
            waiting[consumer] -= 1
            if waiting[consumer] == 0:
                ready.append(consumer)
    seen = set(order)
    order += [name for name in nodes if name not in seen]  # cycles left: shapes unknown
    return order


# --- FLOPs ----------------------------------------------------------------------------------


def _elements(shape: Shape) -> Optional[int]:
    if shape is None or any(d is None for d in shape):
        return None
    return math.prod(int(d) for d in shape) if shape else 1  # Python ints: no overflow


def node_flops(node: Any, shapes: Mapping[str, Shape]) -> Optional[int]:
    """FLOPs of one node by TensorFlow's profiler's formula; ``None`` if a shape it needs is unknown.

    ``0`` for ops with no formula. ``shapes`` as :func:`infer_shapes` returns them.
    """
    data = [edge for edge in node.input if not edge.startswith("^")]

    def shape_of(i: int) -> Shape:
        return shapes.get(node_name(data[i])) if i < len(data) else None

    out = _elements(shapes.get(node.name))
    op = node.op
    if op in UNARY_FLOPS:
        n = _elements(shape_of(0))
        return None if n is None else n * UNARY_FLOPS[op]
    if op in BINARY_FLOPS:
        return None if out is None else out * BINARY_FLOPS[op]
    if op in REDUCE_FLOPS:
        n = _elements(shape_of(0))
        reduce, finalize = REDUCE_FLOPS[op]
        return None if n is None or out is None else n * reduce + out * (finalize - reduce)
    if op == "BiasAdd":
        return _elements(shape_of(0))
    if op == "AddN":
        n = _elements(shape_of(0))
        return None if n is None else n * (len(data) - 1)
    if op in MATMUL_OPS:
        a = shape_of(0)
        if a is None or out is None:
            return None
        if op == "MatMul":
            k = a[0] if node.attr["transpose_a"].b else a[1]
        else:
            k = a[-2] if ("adj_x" in node.attr and node.attr["adj_x"].b) else a[-1]
        return None if k is None else 2 * int(k) * out
    if op in CONV_OPS:
        f = shape_of(1)
        if f is None or out is None or any(d is None for d in f[:3]):
            return None
        per_output = f[0] * f[1] * (f[2] if op == "Conv2D" else 1)
        return 2 * int(per_output) * out
    if op in POOL_OPS:
        kernel = int(np.prod(list(node.attr["ksize"].list.i) or [1]))
        return None if out is None else kernel * out
    return 0


@dataclass(frozen=True)
class OpFlops:
    """One op type's row: how many nodes, their FLOPs and MACs, and how many could not be counted."""

    op: str
    nodes: int
    flops: int
    macs: int
    unknown: int = 0  # nodes whose shapes are not known

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op, "nodes": self.nodes, "flops": self.flops, "macs": self.macs, "unknown": self.unknown}


@dataclass
class FlopsReport:
    """FLOPs and MACs per op type and in total, for the inputs' shapes used (:attr:`inputs`)."""

    rows: list[OpFlops]
    inputs: list[TensorInfo]
    not_counted: dict[str, int] = field(default_factory=dict)  # op -> nodes: no formula in TF's profiler
    by_node: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def flops(self) -> int:
        return sum(row.flops for row in self.rows)

    @property
    def macs(self) -> int:
        return sum(row.macs for row in self.rows)

    @property
    def unknown(self) -> int:
        """Nodes with a formula whose shapes are not known: give the inputs' shapes (``--shape``)."""
        return sum(row.unknown for row in self.rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": [t.to_dict() for t in self.inputs],
            "flops": self.flops,
            "macs": self.macs,
            "per_op": [row.to_dict() for row in self.rows],
            "unknown_shape_nodes": self.unknown,
            "not_counted": dict(self.not_counted),
        }

    def table(self) -> str:
        """Op type, nodes, FLOPs, MACs and share of the total, largest first; then the total."""
        total = self.flops or 1
        lines = ["FLOPs (TensorFlow profiler formulas), for " + (", ".join(
            f"{t.name}{format_shape(t.shape)}" for t in self.inputs) or "the graph's shapes")]
        lines.append(f"  {'op':<24} {'nodes':>6} {'FLOPs':>14} {'MACs':>14} {'share':>6}")
        for row in self.rows:
            unknown = f"  ({row.unknown} of unknown shape)" if row.unknown else ""
            lines.append(f"  {row.op:<24} {row.nodes:>6} {row.flops:>14,} {row.macs:>14,} "
                         f"{row.flops / total:>6.1%}{unknown}")
        lines.append(f"  {'total':<24} {sum(r.nodes for r in self.rows):>6} {self.flops:>14,} {self.macs:>14,}")
        if self.not_counted:
            lines.append("  not counted (no formula in TensorFlow's profiler): "
                         + ", ".join(f"{op} {n}" for op, n in self.not_counted.items()))
        if self.unknown:
            lines.append(f"  {self.unknown} node(s) of unknown shape are not counted; give the input shapes "
                         "(--shape NAME=[1,224,224,3])")
        return "\n".join(printable(line) for line in lines)  # op and input names escaped, line by line

    def __repr__(self) -> str:
        return f"FlopsReport(flops={self.flops:,}, macs={self.macs:,}, unknown={self.unknown})"

    def _repr_html_(self) -> str:
        total = self.flops or 1
        rows = "".join(f"<tr><td><code>{r.op}</code></td><td>{r.nodes}</td><td>{r.flops:,}</td><td>{r.macs:,}</td>"
                       f"<td>{r.flops / total:.1%}</td></tr>" for r in self.rows)
        return (f"<p><b>FLOPs</b>: {self.flops:,} ({self.macs:,} MACs)</p><table><tr><th>op</th><th>nodes</th>"
                f"<th>FLOPs</th><th>MACs</th><th>share</th></tr>{rows}</table>")


def count_flops(
    graph_def: Any, shapes: Optional[Mapping[str, Shape]] = None, *, batch: Optional[int] = 1
) -> FlopsReport:
    """FLOPs and MACs of the top-level graph, per op type (largest first) and in total.

    ``shapes`` (``{"image": (1, 224, 224, 3)}``) fixes inputs' shapes; otherwise each
    placeholder's own, its free first dimension taken as ``batch``. Library functions are
    not entered (a graph frozen for inference has them inlined). No TensorFlow.
    """
    inferred = infer_shapes(graph_def, shapes, batch=batch)
    totals: dict[str, list[int]] = {}
    not_counted: Counter = Counter()
    by_node: dict[str, int] = {}
    for node in graph_def.node:
        if node.op not in FORMULA_OPS:
            if node.op not in FREE_OPS:
                not_counted[node.op] += 1
            continue
        try:
            flops = node_flops(node, inferred)
        except (IndexError, ValueError, TypeError, OverflowError):  # a malformed node: not counted
            flops = None
        if flops is not None and flops < 0:
            flops = None
        row = totals.setdefault(node.op, [0, 0, 0, 0])  # nodes, flops, macs, unknown
        row[0] += 1
        if flops is None:
            row[3] += 1
            continue
        by_node[node.name] = flops
        row[1] += flops
        row[2] += flops // 2 if node.op in MATMUL_OPS + CONV_OPS else 0
    rows = sorted((OpFlops(op, *values) for op, values in totals.items()), key=lambda r: (-r.flops, r.op))
    inputs = [TensorInfo(f"{n.name}:0", graphfile.placeholder_info(n).dtype, inferred.get(n.name))
              for n in graph_def.node if n.op == "Placeholder" and n.attr["dtype"].type != graphfile.DT_RESOURCE]
    return FlopsReport(rows, inputs, dict(not_counted.most_common()), by_node)


__all__ = [
    "FORMULA_OPS",
    "FlopsReport",
    "OpFlops",
    "count_flops",
    "declared_shape",
    "infer_shapes",
    "node_flops",
]
