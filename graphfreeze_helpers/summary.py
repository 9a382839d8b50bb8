"""What is inside a GraphDef, and what freezing changed, without importing TensorFlow.

    summary = summarize("artifacts/digits_cnn.pb")   # or a GraphDef, or a FrozenGraph
    summary.inputs, summary.outputs, summary.ops, summary.const_bytes, summary.unsafe_ops
    diff(unfrozen_graph_def, frozen_graph_def)       # which op types went away or appeared
    const_value(graph_def, "dense/kernel")           # a Const's tensor as a NumPy array

The protos come from ``tensorboard.compat.proto`` (TensorFlow's own GraphDef works too:
the fields are the same). The unsafe-op catalogue lives in :mod:`.safety`.
"""

from __future__ import annotations

import html
import os
import socket
import struct
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional

from . import graphfile, safety
from .errors import GraphFormatError, TensorNameError
from .tensors import TensorInfo, tensor_name

# Ops that steer execution: v2 functional control flow, v1 dataflow control flow, calls.
CONTROL_FLOW_OPS: frozenset[str] = frozenset(
    {"If", "StatelessIf", "_If", "While", "StatelessWhile", "_While", "Case", "StatelessCase",
     "PartitionedCall", "StatefulPartitionedCall", "RemoteCall", "Switch", "_SwitchN", "RefSwitch", "Merge",
     "RefMerge", "Enter", "RefEnter", "Exit", "RefExit", "NextIteration", "RefNextIteration", "LoopCond"}
)
# Ops that hold or touch variables. A frozen graph should have none (nor resource Placeholders).
VARIABLE_OPS: frozenset[str] = frozenset(
    {"ReadVariableOp", "VarHandleOp", "VariableV2", "Variable", "VarIsInitializedOp", "AssignVariableOp",
     "AssignAddVariableOp", "AssignSubVariableOp", "Assign", "AssignAdd", "AssignSub", "ResourceGather",
     "ResourceGatherNd", "ResourceScatterUpdate", "ResourceScatterAdd", "ResourceScatterSub",
     "ResourceScatterMul", "ResourceScatterDiv", "ResourceScatterMin", "ResourceScatterMax",
     "ResourceScatterNdUpdate", "ResourceScatterNdAdd", "ResourceScatterNdSub", "ResourceApplyGradientDescent",
     "ResourceApplyAdam", "DestroyResourceOp", "_VarHandlesOp", "_ReadVariablesOp"}
)

# DataType enum value -> (name, bytes per element); 0 = variable size (strings, variants).
_DTYPES: dict[int, tuple[str, int]] = {
    1: ("float32", 4), 2: ("float64", 8), 3: ("int32", 4), 4: ("uint8", 1), 5: ("int16", 2), 6: ("int8", 1),
    7: ("string", 0), 8: ("complex64", 8), 9: ("int64", 8), 10: ("bool", 1), 11: ("qint8", 1), 12: ("quint8", 1),
    13: ("qint32", 4), 14: ("bfloat16", 2), 15: ("qint16", 2), 16: ("quint16", 2), 17: ("uint16", 2),
    18: ("complex128", 16), 19: ("float16", 2), 20: ("resource", 0), 21: ("variant", 0), 22: ("uint32", 4),
    23: ("uint64", 8),
}
_FLOATING = {"float32", "float64", "float16", "bfloat16", "complex64", "complex128"}


def dtype_name(enum_value: int) -> str:
    """``1`` → ``'float32'``; unknown values keep TensorFlow's enum name in lower case."""
    if enum_value in _DTYPES:
        return _DTYPES[enum_value][0]
    from tensorboard.compat.proto import types_pb2

    try:
        return types_pb2.DataType.Name(enum_value).removeprefix("DT_").lower()
    except ValueError:
        return f"dtype_{enum_value}"


# --- result types -------------------------------------------------------------------------


@dataclass(frozen=True)
class ConstInfo:
    """One ``Const`` node: name, dtype, shape, size of its data in bytes, element count, and where it lives."""

    node: str
    dtype: str
    shape: tuple[int, ...]
    bytes: int
    elements: int
    function: Optional[str] = None

    def to_dict(self) -> dict[str, Any]:
        return {"node": self.node, "dtype": self.dtype, "shape": list(self.shape), "bytes": self.bytes,
                "elements": self.elements, "function": self.function}


@dataclass(frozen=True)
class FunctionInfo:
    """One function of the library: its size, op histogram, the functions it calls, and whether the graph reaches it."""

    name: str
    nodes: int
    ops: dict[str, int]
    calls: tuple[str, ...]
    reachable: bool

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "nodes": self.nodes, "ops": dict(self.ops), "calls": list(self.calls),
                "reachable": self.reachable}


@dataclass
class GraphSummary:
    """What a GraphDef holds: size, op types, inputs/outputs, constants, functions and risky ops."""

    nodes: int
    ops: dict[str, int]
    inputs: list[TensorInfo]
    outputs: list[TensorInfo]
    outputs_from: str  # "sidecar" or "sinks" (nodes nothing consumes)
    const_count: int
    const_bytes: int
    const_params: int  # elements of floating-point constants: the weights
    largest_consts: list[ConstInfo]
    functions: list[FunctionInfo]
    function_ops: dict[str, int]  # op histogram over every library function
    control_flow: list[dict[str, Any]]  # {node, op, function, calls}
    variable_ops: list[dict[str, Any]]  # {node, op, function}
    unsafe_ops: list[safety.UnsafeOp]
    producer: Optional[int]
    min_consumer: Optional[int]
    graph_bytes: int
    missing_inputs: list[tuple[str, str]] = field(default_factory=list)  # (node, input it names that is absent)
    path: Optional[str] = None

    @property
    def all_ops(self) -> dict[str, int]:
        """Op histogram over the top level and every library function together."""
        return dict(_sorted_counts(Counter(self.ops) + Counter(self.function_ops)))

    @property
    def frozen(self) -> bool:
        """True when no variable op or resource Placeholder is left."""
        return not self.variable_ops

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "nodes": self.nodes,
            "ops": dict(self.ops),
            "inputs": [t.to_dict() for t in self.inputs],
            "outputs": [t.to_dict() for t in self.outputs],
            "outputs_from": self.outputs_from,
            "const_count": self.const_count,
            "const_bytes": self.const_bytes,
            "const_params": self.const_params,
            "largest_consts": [c.to_dict() for c in self.largest_consts],
            "functions": [f.to_dict() for f in self.functions],
            "function_ops": dict(self.function_ops),
            "control_flow": [dict(c) for c in self.control_flow],
            "variable_ops": [dict(v) for v in self.variable_ops],
            "unsafe_ops": [u.to_dict() for u in self.unsafe_ops],
            "producer": self.producer,
            "min_consumer": self.min_consumer,
            "graph_bytes": self.graph_bytes,
            "missing_inputs": [list(m) for m in self.missing_inputs],
        }

    # -- display ------------------------------------------------------------------------

    def _sections(self, top_ops: int = 15) -> list[tuple[str, list[str], list[list[str]]]]:
        """(title, header, rows) for each table; shared by the text and HTML views."""
        fn_list = ", ".join(f.name for f in self.functions[:5]) + (" ..." if len(self.functions) > 5 else "")
        overview = [
            ["nodes", f"{self.nodes:,}" + (f" (+{sum(f.nodes for f in self.functions):,} in functions)" if self.functions else "")],
            ["serialized size", human_bytes(self.graph_bytes)],
            ["constants", f"{self.const_count:,} holding {human_bytes(self.const_bytes)}, {self.const_params:,} float parameters"],
            ["functions", f"{len(self.functions)}" + (f": {fn_list}" if self.functions else "")],
            ["control flow", str(len(self.control_flow))],
            ["variable ops", "none (frozen)" if not self.variable_ops else f"{len(self.variable_ops)} (NOT frozen)"],
            ["unsafe ops", "none" if not self.unsafe_ops else str(len(self.unsafe_ops))],
            ["producer", "?" if self.producer is None else str(self.producer)],
        ]
        if self.producer is None:
            overview.append(["note", "no versions field: not written by TensorFlow, or cut short"])
        if self.missing_inputs:
            node, name = self.missing_inputs[0]
            overview.append(["damaged", f"{len(self.missing_inputs)} edge(s) name absent nodes, e.g. {node} <- {name}"])
        sections: list[tuple[str, list[str], list[list[str]]]] = [
            ("Graph" + (f" {self.path}" if self.path else ""), ["", ""], overview),
            ("Inputs", ["name", "dtype", "shape"], [_tensor_row(t) for t in self.inputs]),
            (f"Outputs (from {self.outputs_from})", ["name", "dtype", "shape"], [_tensor_row(t) for t in self.outputs]),
        ]
        ops = list(self.ops.items())
        rows = [[op, str(n)] for op, n in ops[:top_ops]]
        if len(ops) > top_ops:
            rows.append([f"... {len(ops) - top_ops} more op types", str(sum(n for _, n in ops[top_ops:]))])
        sections.append(("Op types", ["op", "count"], rows))
        if self.largest_consts:
            sections.append((
                "Largest constants", ["node", "dtype", "shape", "size"],
                [[c.node, c.dtype, str(c.shape), human_bytes(c.bytes)] for c in self.largest_consts],
            ))
        if self.functions:
            sections.append((
                "Functions", ["name", "nodes", "calls", "reachable"],
                [[f.name, str(f.nodes), ", ".join(f.calls) or "-", "yes" if f.reachable else "no"] for f in self.functions],
            ))
        if self.control_flow:
            sections.append((
                "Control flow", ["node", "op", "function", "runs"],
                [[c["node"], c["op"], c["function"] or "-", ", ".join(c["calls"]) or "-"] for c in self.control_flow],
            ))
        if self.variable_ops:
            sections.append((
                "Variable ops (a frozen graph has none)", ["node", "op", "function"],
                [[v["node"], v["op"], v["function"] or "-"] for v in self.variable_ops],
            ))
        if self.unsafe_ops:
            sections.append((
                "Unsafe ops", ["node", "op", "function", "why"],
                [[u.node, u.op, u.function or "-", u.reason] for u in self.unsafe_ops],
            ))
        return sections

    def table(self, top_ops: int = 15) -> str:
        """The summary as plain-text tables (what ``graphfreeze inspect`` prints)."""
        return "\n\n".join(_text_table(title, header, rows) for title, header, rows in self._sections(top_ops))

    def __repr__(self) -> str:
        io = ", ".join(t.name for t in self.inputs) + " -> " + ", ".join(t.name for t in self.outputs)
        return (
            f"GraphSummary({self.nodes} nodes, {len(self.ops)} op types, {io}, "
            f"{self.const_count} consts = {human_bytes(self.const_bytes)}, {len(self.functions)} functions, "
            f"{len(self.variable_ops)} variable ops, {len(self.unsafe_ops)} unsafe ops)"
        )

    def _repr_html_(self) -> str:
        return "".join(_html_table(title, header, rows) for title, header, rows in self._sections())


@dataclass
class GraphDiff:
    """What changed between two graphs (typically unfrozen -> frozen), over all op types incl. functions."""

    before_ops: dict[str, int]
    after_ops: dict[str, int]
    nodes_before: int
    nodes_after: int
    bytes_before: int
    bytes_after: int
    const_bytes_before: int
    const_bytes_after: int

    @property
    def removed(self) -> dict[str, int]:
        """Op types present before and gone after (count before)."""
        return {op: n for op, n in self.before_ops.items() if op not in self.after_ops}

    @property
    def added(self) -> dict[str, int]:
        """Op types that appear only after (count after)."""
        return {op: n for op, n in self.after_ops.items() if op not in self.before_ops}

    @property
    def changed(self) -> dict[str, tuple[int, int]]:
        """Op types present in both whose count changed: ``op -> (before, after)``."""
        return {
            op: (n, self.after_ops[op])
            for op, n in self.before_ops.items()
            if op in self.after_ops and self.after_ops[op] != n
        }

    @property
    def node_change(self) -> int:
        return self.nodes_after - self.nodes_before

    @property
    def byte_change(self) -> int:
        return self.bytes_after - self.bytes_before

    def to_dict(self) -> dict[str, Any]:
        return {
            "removed": self.removed, "added": self.added,
            "changed": {k: list(v) for k, v in self.changed.items()},
            "nodes_before": self.nodes_before, "nodes_after": self.nodes_after,
            "bytes_before": self.bytes_before, "bytes_after": self.bytes_after,
            "const_bytes_before": self.const_bytes_before, "const_bytes_after": self.const_bytes_after,
        }

    def _rows(self) -> list[list[str]]:
        rows = [[op, str(n), "0", "removed"] for op, n in self.removed.items()]
        rows += [[op, "0", str(n), "added"] for op, n in self.added.items()]
        rows += [[op, str(b), str(a), f"{a - b:+d}"] for op, (b, a) in self.changed.items()]
        return rows

    def _overview(self) -> list[list[str]]:
        return [
            ["nodes", f"{self.nodes_before:,}", f"{self.nodes_after:,}", f"{self.node_change:+,d}"],
            ["serialized size", human_bytes(self.bytes_before), human_bytes(self.bytes_after),
             f"{self.byte_change:+,d} B"],
            ["constant bytes", human_bytes(self.const_bytes_before), human_bytes(self.const_bytes_after),
             f"{self.const_bytes_after - self.const_bytes_before:+,d} B"],
        ]

    def __repr__(self) -> str:
        removed = ", ".join(f"{op}x{n}" for op, n in self.removed.items()) or "none"
        added = ", ".join(f"{op}x{n}" for op, n in self.added.items()) or "none"
        return (
            f"GraphDiff(nodes {self.nodes_before} -> {self.nodes_after}, "
            f"bytes {self.bytes_before:,} -> {self.bytes_after:,}; removed: {removed}; added: {added})"
        )

    def table(self) -> str:
        return (
            _text_table("Size", ["", "before", "after", "change"], self._overview())
            + "\n\n"
            + _text_table("Op types that changed", ["op", "before", "after", "change"], self._rows())
        )

    def _repr_html_(self) -> str:
        return _html_table("Size", ["", "before", "after", "change"], self._overview()) + _html_table(
            "Op types that changed", ["op", "before", "after", "change"], self._rows()
        )


# --- building the summary ---------------------------------------------------------------


def _as_graph_def(source: Any) -> tuple[Any, Optional[Path]]:
    """A GraphDef from a GraphDef, a path, a FrozenGraph-like (``.graph_def``) or a ConcreteFunction (``.graph``)."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        return graphfile.read_graph_def(path), path
    if hasattr(source, "node") and hasattr(source, "library"):
        return source, None
    if hasattr(source, "graph_def"):
        return source.graph_def, None
    graph = getattr(source, "graph", None)
    if graph is not None and hasattr(graph, "as_graph_def"):
        return graph.as_graph_def(), None
    raise TypeError(f"expected a GraphDef, a path to a .pb or a FrozenGraph; got a {type(source).__name__}")


def _sorted_counts(counter: Counter) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))


def _shape_of(tensor: Any) -> tuple[int, ...]:
    return tuple(int(d.size) for d in tensor.tensor_shape.dim)


def _const_info(node: Any, function: Optional[str]) -> ConstInfo:
    tensor = node.attr["value"].tensor
    dtype = dtype_name(tensor.dtype)
    shape = _shape_of(tensor)
    elements = 1
    for d in shape:
        elements *= max(d, 0)
    itemsize = _DTYPES.get(tensor.dtype, ("", 0))[1]
    if itemsize:
        size = elements * itemsize
    else:  # strings: what the proto holds
        size = sum(len(s) for s in tensor.string_val) if tensor.dtype == 7 else tensor.ByteSize()
    return ConstInfo(node.name, dtype, shape, size, elements, function)


def _output_info(name: str, nodes: dict[str, Any]) -> TensorInfo:
    node_name, _, index = name.rpartition(":")
    node = nodes.get(node_name)
    dtype, shape = "unknown", None
    if node is not None:
        for key in ("T", "dtype", "out_type", "DstT"):
            if key in node.attr and node.attr[key].type:
                dtype = dtype_name(node.attr[key].type)
                break
        shapes = node.attr["_output_shapes"].list.shape if "_output_shapes" in node.attr else []
        i = int(index or 0)
        if i < len(shapes) and not shapes[i].unknown_rank:
            shape = tuple(None if d.size < 0 else int(d.size) for d in shapes[i].dim)
    return TensorInfo(name, dtype, shape)


def summarize(graph_def_or_path: Any, *, largest: int = 5, outputs: Optional[Iterable[str]] = None) -> GraphSummary:
    """Summarize a GraphDef (or a ``.pb`` path, or a ``FrozenGraph``) without importing TensorFlow.

    Outputs come from ``outputs`` if given, else from the sidecar next to a path, else from
    the graph's sinks (nodes whose outputs nothing consumes).
    """
    graph_def, path = _as_graph_def(graph_def_or_path)
    library = {f.signature.name: f for f in graph_def.library.function}
    reachable = set(safety.reachable_functions(graph_def))

    top_ops: Counter = Counter(n.op for n in graph_def.node)
    fn_ops: Counter = Counter()
    consts: list[ConstInfo] = []
    control_flow: list[dict[str, Any]] = []
    variable_ops: list[dict[str, Any]] = []
    function_nodes: dict[str, list[Any]] = {}
    for function, node in safety.walk(graph_def):
        if function is not None:
            fn_ops[node.op] += 1
            function_nodes.setdefault(function, []).append(node)
        if node.op == "Const":
            consts.append(_const_info(node, function))
        if node.op in CONTROL_FLOW_OPS or (node.op in library):
            control_flow.append({"node": node.name, "op": node.op, "function": function,
                                 "calls": safety.called_functions(node) + ([node.op] if node.op in library else [])})
        if node.op in VARIABLE_OPS or (
            node.op == "Placeholder" and node.attr["dtype"].type == graphfile.DT_RESOURCE
        ):
            variable_ops.append({"node": node.name, "op": node.op, "function": function})

    functions = []
    for name, fdef in library.items():
        nodes = function_nodes.get(name, list(fdef.node_def))
        calls: list[str] = []
        for node in nodes:
            for callee in safety.called_functions(node) + ([node.op] if node.op in library else []):
                if callee not in calls:
                    calls.append(callee)
        functions.append(FunctionInfo(name, len(nodes), dict(_sorted_counts(Counter(n.op for n in nodes))),
                                      tuple(calls), name in reachable))

    nodes_by_name = {n.name: n for n in graph_def.node}
    outputs_from = "argument"
    if outputs is not None:
        output_infos = [_output_info(tensor_name(n), nodes_by_name) for n in outputs]
    else:
        signature = graphfile.sidecar_signature(path) if path is not None else None
        if signature is not None:
            output_infos, outputs_from = signature[1], "sidecar"
        else:
            output_infos = [_output_info(n, nodes_by_name) for n in graphfile.sink_outputs(graph_def)]
            outputs_from = "sinks"

    versions = graph_def.versions if graph_def.HasField("versions") else None
    return GraphSummary(
        nodes=len(graph_def.node),
        ops=dict(_sorted_counts(top_ops)),
        inputs=graphfile.placeholder_inputs(graph_def),
        outputs=output_infos,
        outputs_from=outputs_from,
        const_count=len(consts),
        const_bytes=sum(c.bytes for c in consts),
        const_params=sum(c.elements for c in consts if c.dtype in _FLOATING),
        largest_consts=sorted(consts, key=lambda c: (-c.bytes, c.node))[:largest],
        functions=functions,
        function_ops=dict(_sorted_counts(fn_ops)),
        control_flow=control_flow,
        variable_ops=variable_ops,
        unsafe_ops=safety.scan(graph_def),
        producer=None if versions is None else int(versions.producer),
        min_consumer=None if versions is None else int(versions.min_consumer),
        graph_bytes=graph_def.ByteSize(),
        missing_inputs=graphfile.dangling_inputs(graph_def),
        path=None if path is None else str(path),
    )


def diff(before: Any, after: Any) -> GraphDiff:
    """Compare two graphs (GraphDefs, paths, FrozenGraphs or :class:`GraphSummary`): op types, nodes, bytes."""
    a = before if isinstance(before, GraphSummary) else summarize(before)
    b = after if isinstance(after, GraphSummary) else summarize(after)
    return GraphDiff(
        before_ops=a.all_ops,
        after_ops=b.all_ops,
        nodes_before=a.nodes + sum(f.nodes for f in a.functions),
        nodes_after=b.nodes + sum(f.nodes for f in b.functions),
        bytes_before=a.graph_bytes,
        bytes_after=b.graph_bytes,
        const_bytes_before=a.const_bytes,
        const_bytes_after=b.const_bytes,
    )


# --- reading a constant back --------------------------------------------------------------


def _find_node(graph_def: Any, node_name: str) -> tuple[Any, Optional[str]]:
    name = node_name.split(":")[0]
    for function, node in safety.walk(graph_def):
        if node.name == name:
            return node, function
    consts = sorted(n.name for _, n in safety.walk(graph_def) if n.op == "Const")
    import difflib

    close = difflib.get_close_matches(name, consts, n=3)
    hint = f"; did you mean {close}?" if close else f"; it has {len(consts)} Const nodes, e.g. {consts[:3]}"
    raise TensorNameError(f"no node {name!r} in the graph{hint}")


def tensor_to_numpy(tensor: Any) -> Any:
    """Decode a ``TensorProto`` into a NumPy array (``tensor_content`` or the typed ``*_val`` fields)."""
    import numpy as np

    shape = _shape_of(tensor)
    count = 1
    for d in shape:
        count *= d
    dtype_enum = tensor.dtype
    name = dtype_name(dtype_enum)
    if name == "bfloat16":
        try:
            import ml_dtypes

            np_dtype: Any = np.dtype(ml_dtypes.bfloat16)
        except ImportError:  # read as float32 from the upper 16 bits
            np_dtype = None
    elif name == "string":
        np_dtype = np.dtype(object)
    elif name.startswith("q"):  # qint8 -> int8, quint16 -> uint16
        np_dtype = np.dtype(name[1:])
    elif name in ("resource", "variant") or dtype_enum not in _DTYPES:
        raise GraphFormatError(f"cannot read a {name} tensor as a NumPy array")
    else:
        np_dtype = np.dtype(name)

    if name == "string":
        values = list(tensor.string_val)
        array = np.empty(len(values), dtype=object)
        array[:] = values
    elif tensor.tensor_content:
        if np_dtype is None:
            raw = np.frombuffer(tensor.tensor_content, dtype="<u2").astype("<u4") << 16
            return raw.view("<f4").reshape(shape).copy()
        return np.frombuffer(tensor.tensor_content, dtype=np_dtype.newbyteorder("<")).astype(np_dtype).reshape(shape).copy()
    else:
        if name in ("float16", "bfloat16"):
            bits = np.asarray(list(tensor.half_val), dtype=np.uint16)
            if name == "float16":
                array = bits.view(np.float16)
            elif np_dtype is not None:
                array = bits.view(np_dtype)
            else:
                array = (bits.astype(np.uint32) << 16).view(np.float32)
        elif name == "float32":
            array = np.asarray(list(tensor.float_val), dtype=np.float32)
        elif name == "float64":
            array = np.asarray(list(tensor.double_val), dtype=np.float64)
        elif name == "int64":
            array = np.asarray(list(tensor.int64_val), dtype=np.int64)
        elif name == "uint32":
            array = np.asarray(list(tensor.uint32_val), dtype=np.uint32)
        elif name == "uint64":
            array = np.asarray(list(tensor.uint64_val), dtype=np.uint64)
        elif name == "bool":
            array = np.asarray(list(tensor.bool_val), dtype=bool)
        elif name == "complex64":
            flat = np.asarray(list(tensor.scomplex_val), dtype=np.float32)
            array = flat[0::2] + 1j * flat[1::2]
            array = array.astype(np.complex64)
        elif name == "complex128":
            flat = np.asarray(list(tensor.dcomplex_val), dtype=np.float64)
            array = flat[0::2] + 1j * flat[1::2]
        else:  # int32, int16, int8, uint8, uint16 and the quantized types use int_val
            array = np.asarray(list(tensor.int_val)).astype(np_dtype)
    if array.size == count:
        return array.reshape(shape)
    if array.size == 0:  # all zeros (the proto omits default values)
        return np.zeros(shape, dtype=array.dtype if name != "string" else object)
    if array.size > count:
        raise GraphFormatError(f"tensor holds {array.size} values but its shape {shape} has room for {count}")
    # TensorFlow's rule: the last value repeats to fill the shape (a splat constant).
    filled = np.empty(count, dtype=array.dtype)
    filled[: array.size] = array
    filled[array.size :] = array[-1]
    return filled.reshape(shape)


def const_value(graph_def: Any, node_name: str) -> Any:
    """The value of the ``Const`` node ``node_name`` as a NumPy array, read from the proto without TensorFlow."""
    graph_def, _ = _as_graph_def(graph_def)
    node, _ = _find_node(graph_def, node_name)
    if node.op != "Const":
        raise TensorNameError(f"node {node.name!r} is a {node.op}, not a Const; only constants hold values")
    return tensor_to_numpy(node.attr["value"].tensor)


# --- TensorBoard ---------------------------------------------------------------------------


def _masked_crc(data: bytes) -> int:
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c

    return masked_crc32c(data)


def _record(data: bytes) -> bytes:
    header = struct.pack("<Q", len(data))
    return header + struct.pack("<I", _masked_crc(header)) + data + struct.pack("<I", _masked_crc(data))


def export_for_tensorboard(graph_def: Any, logdir: str | Path, *, force: bool = False) -> Path:
    """Write an events file holding ``graph_def`` under ``logdir`` for TensorBoard's graph dashboard.

    This is what ``tf.summary.graph`` / ``FileWriter.add_graph`` write (an ``Event`` with
    ``graph_def`` set), built with TensorBoard's protos, so TensorFlow is not imported. Open
    it with ``tensorboard --logdir LOGDIR`` and the "Graphs" tab. Returns the file's path.
    """
    from tensorboard.compat.proto import event_pb2

    from ._io import write_files_atomically

    graph_def, _ = _as_graph_def(graph_def)
    folder = Path(logdir)
    folder.mkdir(parents=True, exist_ok=True)
    now = time.time()
    events = [
        event_pb2.Event(wall_time=now, step=0, file_version="brain.Event:2"),
        event_pb2.Event(wall_time=now, step=0, graph_def=graph_def.SerializeToString()),
    ]
    # TensorBoard reads every "*tfevents*" file; pid and microseconds keep two exports apart
    target = folder / f"events.out.tfevents.{int(now)}.{socket.gethostname()}.{os.getpid()}.{int(now * 1e6) % 10**6}.graphfreeze"
    write_files_atomically({target: b"".join(_record(e.SerializeToString()) for e in events)}, force=force)
    return target


# --- formatting ----------------------------------------------------------------------------


def human_bytes(n: int) -> str:
    """``28252`` → ``'27.6 KB'``."""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def _tensor_row(t: TensorInfo) -> list[str]:
    shape = "?" if t.shape is None else "(" + ", ".join("None" if d is None else str(d) for d in t.shape) + ")"
    return [t.name, t.dtype, shape]


def _text_table(title: str, header: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return f"{title}\n  (none)"
    shown_header = any(h for h in header)
    widths = [max(len(str(r[i])) for r in rows + ([header] if shown_header else [])) for i in range(len(header))]
    lines = [title]
    if shown_header:
        lines.append("  " + "  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip())
    lines += ["  " + "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)


def _html_table(title: str, header: list[str], rows: list[list[str]]) -> str:
    esc = html.escape
    head = "".join(f"<th style='text-align:left'>{esc(h)}</th>" for h in header) if any(header) else ""
    body = "".join(
        "<tr>" + "".join(f"<td style='text-align:left'>{esc(str(c))}</td>" for c in r) + "</tr>" for r in rows
    ) or f"<tr><td colspan='{len(header)}'><i>none</i></td></tr>"
    return (
        f"<details open><summary><b>{esc(title)}</b></summary>"
        f"<table>{'<tr>' + head + '</tr>' if head else ''}{body}</table></details>"
    )


def read_summary(path: str | Path) -> GraphSummary:
    """:func:`summarize` a ``.pb`` file, refusing one that parses but names nodes it does not hold (truncated).

    Raises :class:`GraphFormatError` with one line saying what the file seems to be.
    """
    path = Path(path)
    summary = summarize(path)
    if summary.missing_inputs:
        raise graphfile.dangling_error(path, summary.missing_inputs)
    return summary
