"""What is inside a GraphDef, and what freezing changed, without importing TensorFlow.

    summary = summarize("artifacts/digits_cnn.pb")   # or a GraphDef, or a FrozenGraph
    summary.inputs, summary.outputs, summary.ops, summary.const_bytes, summary.unsafe_ops
    diff(unfrozen_graph_def, frozen_graph_def)       # which op types went away or appeared

The protos come from ``tensorboard.compat.proto`` (TensorFlow's own GraphDef works too:
the fields are the same). Op catalogues live in :mod:`.ops`; a constant's value is read by
:mod:`.tensorproto`, and :mod:`.tensorboard_log` writes a graph for TensorBoard.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional

from . import graphfile, safety
from .formatting import html_table, human_bytes, text_table
from .ops import CONTROL_FLOW_OPS, VARIABLE_OPS
from .tensorproto import FLOATING_DTYPES, dtype_itemsize, dtype_name, tensor_shape, tensor_to_numpy
from .tensors import TensorInfo, format_shape, node_name, tensor_name

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
    # PlaceholderWithDefault inputs (is_training, keep_prob): {name, dtype, shape, default}
    optional_inputs: list[dict[str, Any]] = field(default_factory=list)
    device_pins: dict[str, int] = field(default_factory=dict)  # device -> nodes pinned to it (loaders clear them)
    dangling_colocation: list[tuple[str, str]] = field(default_factory=list)  # (node, absent node it names)

    @property
    def all_ops(self) -> dict[str, int]:
        """Op histogram over the top level and every library function together."""
        return dict(_sorted_counts(Counter(self.ops) + Counter(self.function_ops)))

    @property
    def variable_free(self) -> bool:
        """True when no variable op or resource Placeholder is left (what a frozen graph must be)."""
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
            "optional_inputs": [dict(o) for o in self.optional_inputs],
            "device_pins": dict(self.device_pins),
            "dangling_colocation": [list(c) for c in self.dangling_colocation],
        }

    # -- display ------------------------------------------------------------------------

    def _sections(self, top_ops: int = 15) -> list[tuple[str, list[str], list[list[str]]]]:
        """(title, header, rows) for each table; shared by the text and HTML views."""
        fn_list = ", ".join(f.name for f in self.functions[:5]) + (" ..." if len(self.functions) > 5 else "")
        in_functions = f" (+{sum(f.nodes for f in self.functions):,} in functions)" if self.functions else ""
        consts = f"{self.const_count:,} holding {human_bytes(self.const_bytes)}, {self.const_params:,} float parameters"
        overview = [
            ["nodes", f"{self.nodes:,}{in_functions}"],
            ["serialized size", human_bytes(self.graph_bytes)],
            ["constants", consts],
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
        if self.device_pins:
            pinned = sum(self.device_pins.values())
            device, _ = next(iter(self.device_pins.items()))
            more = f" and {len(self.device_pins) - 1} other device(s)" if len(self.device_pins) > 1 else ""
            overview.append(["device pins", f"{pinned:,} node(s) pinned, e.g. to {device}{more}; loaders clear them"])
        if self.dangling_colocation:
            node, target = self.dangling_colocation[0]
            overview.append(["colocation", f"{len(self.dangling_colocation)} attr(s) name absent nodes, e.g. "
                             f"{node} -> {target}; loaders drop them"])
        tensor_header = ["name", "dtype", "shape"]
        sections: list[tuple[str, list[str], list[list[str]]]] = [
            ("Graph" + (f" {self.path}" if self.path else ""), ["", ""], overview),
            ("Inputs", tensor_header, [[t.name, t.dtype, format_shape(t.shape)] for t in self.inputs]),
            (f"Outputs (from {self.outputs_from})", tensor_header,
             [[t.name, t.dtype, format_shape(t.shape)] for t in self.outputs]),
        ]
        if self.optional_inputs:
            sections.insert(2, (
                "Optional inputs (PlaceholderWithDefault: fed when given, else the default)",
                ["name", "dtype", "shape", "default"],
                [[o["name"], o["dtype"], format_shape(o["shape"]), o["default"]] for o in self.optional_inputs],
            ))
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
                [[f.name, str(f.nodes), ", ".join(f.calls) or "-", "yes" if f.reachable else "no"]
                 for f in self.functions],
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
        return "\n\n".join(text_table(title, header, rows) for title, header, rows in self._sections(top_ops))

    def __repr__(self) -> str:
        io = ", ".join(t.name for t in self.inputs) + " -> " + ", ".join(t.name for t in self.outputs)
        return (
            f"GraphSummary({self.nodes} nodes, {len(self.ops)} op types, {io}, "
            f"{self.const_count} consts = {human_bytes(self.const_bytes)}, {len(self.functions)} functions, "
            f"{len(self.variable_ops)} variable ops, {len(self.unsafe_ops)} unsafe ops)"
        )

    def _repr_html_(self) -> str:
        return "".join(html_table(title, header, rows) for title, header, rows in self._sections())


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
            text_table("Size", ["", "before", "after", "change"], self._overview())
            + "\n\n"
            + text_table("Op types that changed", ["op", "before", "after", "change"], self._rows())
        )

    def _repr_html_(self) -> str:
        return html_table("Size", ["", "before", "after", "change"], self._overview()) + html_table(
            "Op types that changed", ["op", "before", "after", "change"], self._rows()
        )


# --- building the summary ---------------------------------------------------------------


def _sorted_counts(counter: Counter) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))


def _const_info(node: Any, function: Optional[str]) -> ConstInfo:
    tensor = node.attr["value"].tensor
    dtype = dtype_name(tensor.dtype)
    shape = tensor_shape(tensor)
    elements = 1
    for d in shape:
        elements *= max(d, 0)
    itemsize = dtype_itemsize(tensor.dtype)
    if itemsize:
        size = elements * itemsize
    else:  # strings: what the proto holds
        size = sum(len(s) for s in tensor.string_val) if tensor.dtype == 7 else tensor.ByteSize()
    return ConstInfo(node.name, dtype, shape, size, elements, function)


def _output_info(name: str, nodes: dict[str, Any]) -> TensorInfo:
    index = tensor_name(name).rpartition(":")[2]
    node = nodes.get(node_name(name))
    dtype, shape = "unknown", None
    if node is not None:
        for key in ("output_type", "out_type", "DstT", "dtype", "T"):
            if key in node.attr and node.attr[key].type:
                dtype = dtype_name(node.attr[key].type)
                break
        shapes = node.attr["_output_shapes"].list.shape if "_output_shapes" in node.attr else []
        i = int(index or 0)
        if i < len(shapes) and not shapes[i].unknown_rank:
            shape = tuple(None if d.size < 0 else int(d.size) for d in shapes[i].dim)
    return TensorInfo(name, dtype, shape)


def summarize(
    graph_def_or_path: Any,
    *,
    largest: int = 5,
    outputs: Optional[Iterable[str]] = None,
    inputs: Optional[Iterable[TensorInfo]] = None,
) -> GraphSummary:
    """Summarize a GraphDef (or a ``.pb`` path, or a ``FrozenGraph``) without importing TensorFlow.

    Outputs come from ``outputs`` if given, else from the sidecar next to a path, else from
    the graph's sinks (nodes whose outputs nothing consumes). Inputs are the placeholders,
    or ``inputs`` if given (tensors a user chose to feed, e.g. from ``--inputs``).
    """
    graph_def, path = graphfile.as_graph_def(graph_def_or_path)
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
        calls: dict[str, None] = {}  # ordered and without repeats, in linear time
        for node in nodes:
            for callee in safety.called_functions(node) + ([node.op] if node.op in library else []):
                calls[callee] = None
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
        inputs=graphfile.placeholder_inputs(graph_def) if inputs is None else list(inputs),
        outputs=output_infos,
        outputs_from=outputs_from,
        const_count=len(consts),
        const_bytes=sum(c.bytes for c in consts),
        const_params=sum(c.elements for c in consts if c.dtype in FLOATING_DTYPES),
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
        optional_inputs=[
            {"name": t.name, "dtype": t.dtype, "shape": None if t.shape is None else list(t.shape),
             "default": _default_text(graph_def, t, nodes_by_name)}
            for t in graphfile.optional_inputs(graph_def)
        ],
        device_pins=graphfile.device_pins(graph_def),
        dangling_colocation=graphfile.dangling_colocation(graph_def),
    )


def _default_text(graph_def: Any, info: TensorInfo, nodes: dict[str, Any]) -> str:
    """A PlaceholderWithDefault's default as short text: the value of a small constant, else where it comes from."""
    node = nodes[info.op_name]
    source = nodes.get(node_name(node.input[0])) if node.input else None
    if source is None or source.op != "Const":
        return f"from {node.input[0]}" if node.input else "?"
    try:
        value = tensor_to_numpy(source.attr["value"].tensor)
    except Exception:  # a damaged or exotic constant: say where it is instead
        return f"from {source.name}"
    if value.size > 6:
        return f"{value.dtype.name}{tuple(value.shape)} constant {source.name}"
    return str(value.tolist())


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


def read_summary(path: str | Path, **options: Any) -> GraphSummary:
    """:func:`summarize` a ``.pb`` file, refusing one that parses but names nodes it does not hold (truncated).

    ``options`` go to :func:`summarize` (``outputs``, ``inputs``, ``largest``). Raises
    :class:`GraphFormatError` with one line saying what the file seems to be.
    """
    path = Path(path)
    summary = summarize(path, **options)
    if summary.missing_inputs:
        raise graphfile.dangling_error(path, summary.missing_inputs)
    return summary
