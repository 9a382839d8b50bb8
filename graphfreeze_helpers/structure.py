"""A frozen graph node by node, and the known problems it carries with their fix, without TensorFlow.

:func:`structure` lists every node with its op, inputs and static shape (what TF1's
``summarize_graph --print_structure`` printed), optionally only the nodes whose name or op
matches a pattern, and counts control edges and device pins.

:func:`known_problems` reports what stops a graph made elsewhere from loading here, each with
the command that fixes it:

- TF1 training residue (``RefSwitch``, ``Assign``/``AssignSub`` on frozen constants: "expected
  float_ref") → ``graphfreeze edit --repair-training``;
- colocation attrs naming absent nodes ("colocated with unknown node") and device pins from
  another machine → ``graphfreeze edit --strip colocation,devices``;
- version skew: ops, or attrs of ops, that the pinned TensorFlow does not know (read from
  ``known_ops.txt`` and ``known_attrs.txt``, written from its registry by ``tools/``);
- ops from add-on packages (tensorflow-addons, tensorflow-text, tensorflow-io...), with the
  package that registers them.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional

from . import graphfile, safety
from .errors import InputError
from .flops import FlopsReport, Shape, count_flops, infer_shapes
from .formatting import printable
from .ops import ADDON_OP_PREFIXES, ADDON_OPS, ASSIGN_OP_TWINS, REF_OP_TWINS, REF_SOURCE_OPS
from .tensors import format_shape

_KNOWN_ATTRS_FILE = Path(__file__).with_name("known_attrs.txt")


@dataclass(frozen=True)
class NodeRow:
    """One node: its name, op, inputs (``^x`` a control edge), first output's shape and device."""

    name: str
    op: str
    inputs: tuple[str, ...]
    shape: Shape
    device: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "op": self.op, "inputs": list(self.inputs),
                "shape": None if self.shape is None else list(self.shape), "device": self.device}

    def __str__(self) -> str:
        shape = format_shape(self.shape) if self.shape is not None else "?"
        device = f"  @{self.device}" if self.device else ""
        return f"{self.name} ({self.op}) {shape} <- {', '.join(self.inputs) or '-'}{device}"


@dataclass
class Structure:
    """The node listing (all, or those matching ``pattern``) and the graph's edge and device counts."""

    rows: list[NodeRow]
    nodes: int
    data_edges: int
    control_edges: int
    devices: dict[str, int]
    pattern: Optional[str] = None

    def to_dict(self) -> dict[str, Any]:
        return {"nodes": self.nodes, "listed": len(self.rows), "pattern": self.pattern,
                "data_edges": self.data_edges, "control_edges": self.control_edges, "devices": dict(self.devices),
                "structure": [row.to_dict() for row in self.rows]}

    def table(self) -> str:
        head = (f"{self.nodes} nodes, {self.data_edges} data edges, {self.control_edges} control edges, "
                + (", ".join(f"{n} on {d}" for d, n in self.devices.items()) if self.devices else "no device pins"))
        listed = f"{len(self.rows)} matching {self.pattern!r}" if self.pattern else "every node"
        # names escaped one by one (formatting.printable): a newline in a name cannot start a line of its own
        return "\n".join([printable(head), printable(f"{listed} (name (op) shape <- inputs):"),
                          *(f"  {printable(row)}" for row in self.rows)])

    def __repr__(self) -> str:
        return (f"Structure(nodes={self.nodes}, listed={len(self.rows)}, control_edges={self.control_edges}, "
                f"devices={self.devices})")


def structure(
    graph_def: Any, *, shapes: Optional[Mapping[str, Shape]] = None, pattern: Optional[str] = None,
    batch: Optional[int] = None,
) -> Structure:
    """Every top-level node (or those whose name or op matches the regular expression ``pattern``,
    case-insensitive) with its op, inputs and static shape (:func:`~.flops.infer_shapes`; a free
    batch stays free unless ``batch`` is given)."""
    matcher = None
    if pattern:
        try:
            matcher = re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            raise InputError(f"--grep {pattern!r} is not a regular expression: {exc}") from None
    inferred = infer_shapes(graph_def, shapes, batch=batch)
    rows, data, control = [], 0, 0
    for node in graph_def.node:
        edges = tuple(node.input)
        control += sum(edge.startswith("^") for edge in edges)
        data += sum(not edge.startswith("^") for edge in edges)
        if matcher is None or matcher.search(node.name) or matcher.search(node.op):
            rows.append(NodeRow(node.name, node.op, edges, inferred.get(node.name), node.device))
    return Structure(rows, len(graph_def.node), data, control, graphfile.device_pins(graph_def), pattern)


# --- known problems ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """A known problem: what (``kind``), where (``nodes``, the first few), why and the fix."""

    kind: str
    message: str
    fix: str
    nodes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, "fix": self.fix, "nodes": list(self.nodes)}

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}; fix: {self.fix}"


def training_residue(graph_def: Any) -> list[tuple[str, str]]:
    """``(node, op)`` of TF1 training residue in a frozen graph: ref-typed control flow and
    variable updates (``Assign``, ``AssignSub``...) while no variable is left to feed them."""
    if any(n.op in REF_SOURCE_OPS for n in graph_def.node):
        return []
    return [(n.name, n.op) for n in graph_def.node if n.op in REF_OP_TWINS or n.op in ASSIGN_OP_TWINS]


def addon_package(op: str) -> Optional[str]:
    """The add-on package that registers ``op`` (``"Addons>ImageProjectiveTransformV3"`` → tensorflow-addons)."""
    if op in ADDON_OPS:
        return ADDON_OPS[op]
    prefix = op.partition(">")[0] + ">" if ">" in op else ""
    return ADDON_OP_PREFIXES.get(prefix)


@functools.lru_cache(maxsize=1)
def shipped_known_attrs() -> dict[str, frozenset[str]]:
    """Op -> its attr names in the pinned TensorFlow, read from ``known_attrs.txt`` (tools/gen_known_attrs.py)."""
    known: dict[str, frozenset[str]] = {}
    for line in _KNOWN_ATTRS_FILE.read_text().splitlines():
        if line and not line.startswith("#"):
            op, *attrs = line.split()
            known[op] = frozenset(attrs)
    return known


def _first(items: list[str], n: int = 5) -> tuple[str, ...]:
    return tuple(items[:n])


def known_problems(graph_def: Any, *, tensorflow: str = "2.21") -> list[Problem]:
    """The problems a graph made elsewhere carries (see the module's docstring), each with its fix."""
    problems: list[Problem] = []
    residue = training_residue(graph_def)
    if residue:
        ops = sorted({op for _, op in residue})
        problems.append(Problem(
            "v1 training residue",
            f"{len(residue)} node(s) ({', '.join(ops)}) left from TF1 training; TensorFlow refuses them on frozen "
            "constants (\"expected float_ref\")",
            "graphfreeze edit GRAPH.pb -o OUT.pb --repair-training", _first([name for name, _ in residue])))
    dangling = graphfile.dangling_colocation(graph_def)
    if dangling:
        problems.append(Problem(
            "dangling colocation",
            f"{len(dangling)} colocation attr(s) name nodes the graph lacks (import_graph_def: \"colocated with "
            "unknown node\"); graphfreeze's loaders drop them, other tools fail",
            "graphfreeze edit GRAPH.pb -o OUT.pb --strip colocation", _first([node for node, _ in dangling])))
    foreign = {device: n for device, n in graphfile.device_pins(graph_def).items() if "/job:" in device
               or "GPU" in device.upper() or "TPU" in device.upper()}
    if foreign:
        problems.append(Problem(
            "device pins", f"{sum(foreign.values())} node(s) pinned to {', '.join(foreign)}",
            "graphfreeze edit GRAPH.pb -o OUT.pb --strip devices"))
    problems += _unknown_ops(graph_def, tensorflow)
    return problems


def _unknown_ops(graph_def: Any, tensorflow: str) -> list[Problem]:
    functions = {f.signature.name for f in graph_def.library.function}
    known_ops = safety.shipped_known_ops()
    known_attrs = shipped_known_attrs()
    addons: dict[str, list[str]] = {}
    unknown: list[str] = []
    attrs: dict[str, set[str]] = {}
    for _, node in safety.walk(graph_def):
        if node.op in functions:
            continue
        package = addon_package(node.op)
        if package is not None:
            addons.setdefault(package, []).append(node.op)
        elif node.op not in known_ops:
            unknown.append(node.op)
        elif node.op in known_attrs:
            extra = {name for name in node.attr if not name.startswith("_") and name not in known_attrs[node.op]}
            if extra:
                attrs.setdefault(node.op, set()).update(extra)
    problems = [Problem(
        f"add-on ops ({package})", f"ops {sorted(set(ops))} come from {package}, not TensorFlow itself",
        f"pip install {package} and import it before loading the graph (the import registers the ops)")
        for package, ops in sorted(addons.items())]
    if unknown:
        problems.append(Problem(
            "version skew (ops)",
            f"ops {sorted(set(unknown))[:8]} are not in TensorFlow {tensorflow}'s registry: a newer or older release, "
            "or a custom op library, made the graph",
            "run it with the TensorFlow that made it (the sidecar's 'tensorflow'), or load the op library first"))
    if attrs:
        shown = ", ".join(f"{op}.{name}" for op, names in sorted(attrs.items()) for name in sorted(names))
        problems.append(Problem(
            "version skew (attrs)",
            f"attrs {shown} are unknown to TensorFlow {tensorflow} (\"NodeDef mentions attr not in Op\"): "
            "a newer release wrote the graph",
            "graphfreeze edit GRAPH.pb -o OUT.pb --strip default-attrs with the newer TensorFlow, or upgrade"))
    return problems


@dataclass
class Examination:
    """What ``inspect`` adds to the summary: known problems always, FLOPs and the node listing on request."""

    problems: list[Problem]
    flops: Optional[FlopsReport] = None
    structure: Optional[Structure] = None

    def to_dict(self) -> dict[str, Any]:
        record: dict[str, Any] = {"problems": [p.to_dict() for p in self.problems]}
        if self.flops is not None:
            record["flops"] = self.flops.to_dict()
        if self.structure is not None:
            record.update(self.structure.to_dict())
        return record

    def lines(self) -> list[str]:
        lines: list[str] = []
        if self.problems:
            lines += ["", "Known problems:"]
            for problem in self.problems:
                lines += [f"  {problem.kind}: {printable(problem.message)}", f"    fix: {printable(problem.fix)}"]
        if self.flops is not None:
            lines += ["", self.flops.table()]
        if self.structure is not None:
            lines += ["", self.structure.table()]
        return lines


def examine(
    graph: Any, *, flops: bool = False, listing: bool = False, pattern: Optional[str] = None,
    shapes: Optional[Mapping[str, Shape]] = None,
) -> Examination:
    """Known problems of ``graph`` (a GraphDef or a ``.pb`` path), with its FLOPs (``flops``) and its
    node listing (``listing``, or the nodes matching ``pattern``) for the inputs' ``shapes``."""
    graph_def, _ = graphfile.as_graph_def(graph)
    return Examination(
        known_problems(graph_def),
        count_flops(graph_def, shapes) if flops else None,
        structure(graph_def, shapes=shapes, pattern=pattern) if listing or pattern else None,
    )


__all__ = [
    "Examination",
    "NodeRow",
    "Problem",
    "Structure",
    "addon_package",
    "examine",
    "known_problems",
    "shipped_known_attrs",
    "structure",
    "training_residue",
]
