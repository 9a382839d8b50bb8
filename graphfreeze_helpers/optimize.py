"""Optimize a frozen graph for inference: grappler, run offline, then a little tidying.

TensorFlow optimizes every graph it runs with *grappler*, but only in memory and only for
itself. Running grappler offline on the frozen GraphDef writes the simplified graph to
disk, where every other runtime (LiteRT, ONNX, OpenCV) benefits too:

1. the GraphDef goes into a ``MetaGraphDef``; the output nodes are listed in its
   ``train_op`` collection, which grappler treats as *fetch* nodes that must survive;
2. ``tf_optimizer.OptimizeGraph`` runs the passes of a ``RewriterConfig``: constant
   folding (BatchNorm's ``Rsqrt``/``Mul``/``Sub`` on constants become one constant, and a
   ``Mul`` after a convolution is folded into its filter), arithmetic simplification,
   dependency optimization (``Identity``/``NoOp`` chains), function inlining, pruning of
   everything the outputs do not need, and the debug stripper (``Assert``, ``CheckNumerics``);
3. we drop what is left that only forwards a tensor (``Identity`` that is neither an input
   nor an output, ``NoOp``, ``StopGradient``...), clear device placements, and put back any
   input or output node that a pass renamed away, so the names in the sidecar still work.

Two targets, chosen on purpose:

- ``"portable"`` (the default) stops there. Every op left is a standard TensorFlow op, so
  LiteRT's converter, tf2onnx and OpenCV's importer read the result.
- ``"tensorflow"`` adds the *remapper*, which fuses ``Conv2D+BiasAdd+Relu`` into
  ``_FusedConv2D`` and ``MatMul+BiasAdd`` into ``_FusedMatMul``. Those are TensorFlow-internal
  kernels: measured on TF 2.21, LiteRT's converter fails ("'tf._FusedConv2D' op is neither a
  custom op nor a flex op") and tf2onnx fails too. Use it only for a graph that TensorFlow
  itself will run. (The remapper only fuses nodes placed on a device, so this target places
  every node on the CPU while grappler runs, then clears the placement.)

The result is verified: its outputs, matched by name, must equal the frozen graph's within
``tolerance + rtol * |frozen|`` (:mod:`.verify`), or
:class:`~graphfreeze_helpers.errors.VerificationError` is raised. Without real inputs the
check runs on sample inputs that fit each input's dtype and shape
(:func:`~graphfreeze_helpers.freeze.runnable_sample_inputs`).

Graphs with TF1 control flow (a v1 ``cond`` or ``while_loop``) keep their frames: grappler
reads them as they are, our clean-up leaves the ``Identity`` nodes that a ``Switch`` feeds
(the branches' pivots), and both graphs run in a v1 ``Session`` (:mod:`.load`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence

import numpy as np

from . import bigload
from .errors import GraphFormatError, InputError
from .freeze import FrozenGraph, as_frozen_graph, verification_inputs
from .grappler import drop_unused_functions, run_passes
from .load import LoadedGraph, needed_nodes
from .ops import CONTROL_FLOW_OPS, FORWARDING_OPS
from .tensors import node_name
from .tfimport import to_tf_graph_def
from .verify import DEFAULT_RTOL, DEFAULT_TOLERANCE, Verification

# Grappler pass names (RewriterConfig.optimizers), in the order the notebook explains them.
PORTABLE_PASSES = ("pruning", "function", "debug_stripper", "dependency", "constfold", "arithmetic")
TARGETS: dict[str, tuple[str, ...]] = {
    "portable": PORTABLE_PASSES,
    "tensorflow": PORTABLE_PASSES + ("remap",),
}
PASS_DESCRIPTIONS = {
    "constfold": "constant folding: computes every subgraph whose inputs are constants (BatchNorm's statistics)",
    "arithmetic": "arithmetic simplification: removes x*1, x+0, folds scalings into convolution filters",
    "dependency": "dependency optimization: removes Identity/NoOp chains and useless control edges",
    "function": "function inlining: replaces calls to library functions with their bodies",
    "pruning": "pruning: drops nodes the outputs do not depend on",
    "debug_stripper": "debug stripper: removes Assert, CheckNumerics and Print",
    "tidy": "our clean-up: bypasses leftover Identity/NoOp, restores input and output names",
    "remap": "remapper: fuses Conv2D+BiasAdd+Relu into TensorFlow-only _FusedConv2D kernels",
}
# Ops that only forward their input at inference; removed unless they are an input or output.
_DEVICE = "/device:CPU:0"


@dataclass
class OptimizeResult:
    """An optimized frozen graph, how much smaller it got, and its check against the original."""

    frozen: FrozenGraph
    nodes_before: int
    nodes_after: int
    removed_ops: dict[str, int]  # op type -> how many fewer nodes of it
    added_ops: dict[str, int]  # op type -> how many new nodes (fused kernels)
    target: str
    passes: tuple[str, ...]
    verification: Optional[Verification] = None
    before_ops: dict[str, int] = field(default_factory=dict, repr=False)
    after_ops: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def max_abs_diff(self) -> Optional[float]:
        return None if self.verification is None else self.verification.max_abs_diff

    @property
    def graph_def(self) -> Any:
        return self.frozen.graph_def

    @property
    def ratio(self) -> float:
        """Nodes after / nodes before (0.25 means a quarter of the nodes are left)."""
        return self.nodes_after / self.nodes_before if self.nodes_before else 1.0

    def save(self, path: str | Path, *, force: bool = False) -> Path:
        """Write the optimized ``.pb`` and its sidecar atomically (see :meth:`FrozenGraph.save`)."""
        return self.frozen.save(path, force=force)

    def to_dict(self) -> dict[str, Any]:
        return {
            "nodes_before": self.nodes_before,
            "nodes_after": self.nodes_after,
            "max_abs_diff": self.max_abs_diff,
            "target": self.target,
            "passes": list(self.passes),
            "removed_ops": dict(self.removed_ops),
            "added_ops": dict(self.added_ops),
        }

    def __repr__(self) -> str:
        removed = ", ".join(f"{op}:{n}" for op, n in sorted(self.removed_ops.items(), key=lambda kv: -kv[1]))
        added = ", ".join(f"{op}:{n}" for op, n in self.added_ops.items())
        check = f", {self.verification!r}" if self.verification else ""
        return (
            f"OptimizeResult(target={self.target!r}, nodes {self.nodes_before} -> {self.nodes_after} "
            f"({self.ratio:.0%}), removed={{{removed}}}" + (f", added={{{added}}}" if added else "") + f"{check})"
        )

    def _repr_html_(self) -> str:
        ops = sorted(set(self.before_ops) | set(self.after_ops), key=lambda op: -self.before_ops.get(op, 0))
        rows = "".join(
            f"<tr><td><code>{op}</code></td><td>{self.before_ops.get(op, 0)}</td>"
            f"<td>{self.after_ops.get(op, 0)}</td></tr>"
            for op in ops
        )
        check = f"<p>{self.verification!r}</p>" if self.verification else ""
        return (
            f"<p><b>OptimizeResult</b> ({self.target}): {self.nodes_before} → {self.nodes_after} nodes "
            f"({self.ratio:.0%})</p><table><tr><th>op</th><th>before</th><th>after</th></tr>{rows}</table>{check}"
        )

    def plot(self, ax: Any = None, top: int = 15) -> Any:
        """Horizontal bars: node count per op type before and after. Returns the axes."""
        import matplotlib.pyplot as plt

        ops = sorted(set(self.before_ops) | set(self.after_ops), key=lambda op: -self.before_ops.get(op, 0))[:top]
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 0.3 * len(ops) + 1.2))
        y = np.arange(len(ops))
        ax.barh(y - 0.2, [self.before_ops.get(op, 0) for op in ops], height=0.4, label=f"frozen ({self.nodes_before})")
        ax.barh(y + 0.2, [self.after_ops.get(op, 0) for op in ops], height=0.4, label=f"optimized ({self.nodes_after})")
        ax.set_yticks(y, ops)
        ax.invert_yaxis()
        ax.set_xlabel("nodes")
        ax.set_title(f"Nodes per op type, target={self.target!r}")
        ax.legend()
        return ax


@dataclass(frozen=True)
class PassStep:
    """One row of :func:`pass_report`: the graph after the passes up to and including ``name``."""

    name: str
    nodes: int
    removed_ops: dict[str, int]
    added_ops: dict[str, int]
    max_abs_diff: Optional[float]

    @property
    def description(self) -> str:
        return PASS_DESCRIPTIONS.get(self.name, self.name)


def op_histogram(graph_def: Any) -> dict[str, int]:
    """Node count per op type, most frequent first."""
    return dict(Counter(node.op for node in graph_def.node).most_common())


def _difference(before: dict[str, int], after: dict[str, int]) -> tuple[dict[str, int], dict[str, int]]:
    removed = Counter(before)
    removed.subtract(after)
    added = Counter(after)
    added.subtract(before)
    return (
        {op: n for op, n in removed.most_common() if n > 0},
        {op: n for op, n in added.most_common() if n > 0},
    )


def run_grappler(graph_def: Any, fetch: Sequence[str], passes: Sequence[str], *, device: str = "") -> Any:
    """Run the grappler ``passes`` over ``graph_def`` keeping the ``fetch`` node names alive.

    The pass names are checked against :data:`PASS_DESCRIPTIONS`; the raw recipe (a
    MetaGraphDef whose ``train_op`` collection names the fetch nodes, a RewriterConfig listing
    the passes, and ``tf_optimizer.OptimizeGraph``) is :func:`~.grappler.run_passes`.
    """
    unknown = [p for p in passes if p not in PASS_DESCRIPTIONS or p == "tidy"]
    if unknown:
        known = sorted(set(PASS_DESCRIPTIONS) - {"tidy"})
        raise InputError(f"unknown grappler pass(es) {unknown}; known passes are {known}")
    return run_passes(graph_def, fetch, passes, device=device)


def tidy(graph_def: Any, keep: Sequence[str]) -> Any:
    """Bypass forwarding ops and NoOps not named in ``keep``; drop nodes the kept nodes do not need.

    Works on any GraphDef proto in place and returns it; TensorFlow is not needed.
    """
    keep_set = set(keep)
    nodes = {node.name: node for node in graph_def.node}
    forward = _forwarders(graph_def, keep_set)
    _bypass(graph_def, forward, nodes)
    needed = needed_nodes(graph_def, keep_set)
    kept = [node for node in graph_def.node if node.name in needed and node.name not in forward]
    del graph_def.node[:]
    graph_def.node.extend(kept)
    return graph_def


def _forwarders(graph_def: Any, keep: set[str]) -> dict[str, str]:
    """Forwarding nodes not in ``keep`` -> the one tensor each forwards.

    A forwarder fed by a control-flow op stays: in a v1 ``cond`` the ``Identity`` after a
    ``Switch`` is the branch's pivot, whose control edges keep the branch's constants dead
    when the branch is not taken (bypassed, both branches would reach the ``Merge``).
    """
    ops = {node.name: node.op for node in graph_def.node}
    forward: dict[str, str] = {}
    for node in graph_def.node:
        data_inputs = [edge for edge in node.input if not edge.startswith("^")]
        if node.name not in keep and node.op in FORWARDING_OPS and len(data_inputs) == 1:
            if ops.get(node_name(data_inputs[0])) not in CONTROL_FLOW_OPS:
                forward[node.name] = data_inputs[0]
    return forward


def _bypass(graph_def: Any, forward: dict[str, str], nodes: dict[str, Any]) -> None:
    """Point every edge past the forwarding nodes; drop control edges on NoOps and repeated ones."""

    def resolve(edge: str) -> str:
        control = edge.startswith("^")
        name, _, port = edge.lstrip("^").partition(":")
        seen = 0
        while name in forward and port in ("", "0") and seen < len(forward) + 1:
            name, _, port = forward[name].partition(":")
            seen += 1
        if control:
            return "^" + name
        return f"{name}:{port}" if port and port != "0" else name

    for node in graph_def.node:
        edges: list[str] = []
        for edge in node.input:
            new = resolve(edge)
            if new.startswith("^") and (nodes.get(new[1:]) is None or nodes[new[1:]].op == "NoOp"):
                continue  # a control edge on a NoOp orders nothing at inference
            if new.startswith("^") and new in edges:
                continue
            edges.append(new)
        del node.input[:]
        node.input.extend(edges)


def _restore_names(optimized: Any, original: Any, frozen: FrozenGraph) -> None:
    """Put back an input placeholder or output node that the passes renamed or removed."""
    present = {node.name for node in optimized.node}
    originals = {node.name: node for node in original.node}
    for info in frozen.inputs:
        if info.op_name not in present:
            optimized.node.add().CopyFrom(originals[info.op_name])
            present.add(info.op_name)
    for info in frozen.outputs:
        if info.op_name in present:
            continue
        source = originals.get(info.op_name)
        data = [edge for edge in source.input if not edge.startswith("^")] if source is not None else []
        if source is None or source.op != "Identity" or len(data) != 1 or node_name(data[0]) not in present:
            raise GraphFormatError(
                f"optimizing removed the output node {info.op_name!r} and it cannot be put back; "
                "name the graph's real outputs (the sidecar's 'outputs') and try again"
            )
        node = optimized.node.add()
        node.CopyFrom(source)
        del node.input[:]
        node.input.append(data[0])
        present.add(info.op_name)


def check_against(
    reference: Callable[..., Any],
    candidate: Callable[..., Any],
    frozen: FrozenGraph,
    inputs: Optional[Sequence[Any] | Mapping[str, Any]] = None,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    rtol: float = DEFAULT_RTOL,
    what: str = "optimized graph",
    against: str = "the frozen graph",
    candidate_names: Optional[Sequence[str]] = None,
) -> Verification:
    """Run ``reference`` and ``candidate`` on the same inputs and compare their outputs by name.

    ``inputs`` are real inputs (one array per input of ``frozen``, or ``{name: array}``);
    without them, sample inputs that the reference accepts
    (:func:`~graphfreeze_helpers.freeze.runnable_sample_inputs`). Both callables take the
    arrays in ``frozen.inputs`` order; the reference's outputs are named by ``frozen.outputs``,
    the candidate's by ``candidate_names`` (default: the same). Raises
    :class:`VerificationError` with what differs, and when every output is NaN.
    """
    names = [t.name for t in frozen.outputs]
    arrays, expected = verification_inputs(frozen.inputs, inputs, reference, graph_def=frozen.graph_def)
    actual = candidate(*arrays)
    return Verification.from_outputs(
        expected, actual, arrays, tolerance=tolerance, rtol=rtol, names=names,
        actual_names=candidate_names if candidate_names is not None else names,
    ).raise_if_failed(what, against)


def optimize(
    graph: FrozenGraph | str | Path,
    *,
    target: str = "portable",
    passes: Optional[Sequence[str]] = None,
    inputs: Optional[Sequence[Any] | Mapping[str, Any]] = None,
    reference: Optional[Callable[..., Any]] = None,
    tolerance: float = DEFAULT_TOLERANCE,
    rtol: float = DEFAULT_RTOL,
    check: bool = True,
    strip: bool = True,
    input_names: Optional[Sequence[Any]] = None,
    output_names: Optional[Sequence[Any]] = None,
) -> OptimizeResult:
    """Optimize a frozen graph (a :class:`FrozenGraph` or a ``.pb`` path) for inference.

    ``target`` picks the grappler passes (:data:`TARGETS`); ``passes`` overrides them.
    ``input_names``/``output_names`` (``"x"``, ``"image[?,224,224,3]"``) choose the
    tensors, as for :func:`~graphfreeze_helpers.load.load_frozen`.
    With ``check`` the optimized graph is run on ``inputs`` (real arrays, a list or
    ``{name: array}``; sample inputs if not given) and compared, output by output, with
    ``reference`` (default: the frozen graph itself): a value beyond
    ``tolerance + rtol * |reference|`` raises :class:`VerificationError` (:func:`check_against`).
    ``strip=False`` skips the last tidying step (:func:`tidy`), to see what grappler alone did.
    """
    if target not in TARGETS:
        raise InputError(f"unknown target {target!r}; choose one of {sorted(TARGETS)}")
    chosen = tuple(passes) if passes is not None else TARGETS[target]
    frozen = as_frozen_graph(graph, inputs=input_names, outputs=output_names)
    original = to_tf_graph_def(frozen.graph_def)
    optimized = _optimized_graph_def(original, frozen, chosen, strip=strip)
    candidate = LoadedGraph(optimized, frozen.inputs, frozen.outputs)
    result_graph = FrozenGraph(
        graph_def=optimized,
        inputs=list(frozen.inputs),
        outputs=list(candidate.outputs),
        source=f"optimize({frozen.source or 'graph'}, target={target})",
    )
    if check:
        ref = reference if reference is not None else LoadedGraph(original, frozen.inputs, frozen.outputs)
        result_graph.verification = check_against(ref, candidate, frozen, inputs, tolerance=tolerance, rtol=rtol)
    before, after = op_histogram(original), op_histogram(optimized)
    removed, added = _difference(before, after)
    return OptimizeResult(
        frozen=result_graph,
        nodes_before=len(original.node),
        nodes_after=len(optimized.node),
        removed_ops=removed,
        added_ops=added,
        target=target,
        passes=chosen,
        verification=result_graph.verification,
        before_ops=before,
        after_ops=after,
    )


def _optimized_graph_def(original: Any, frozen: FrozenGraph, passes: Sequence[str], *, strip: bool) -> Any:
    """Grappler's ``passes`` on ``original``, the input and output names put back, then (``strip``) :func:`tidy`.

    A large graph (:func:`.bigload.is_large`) goes through grappler with its large constants
    cut out as placeholders, put back afterwards: they stay as they are (nothing folds into
    them), and grappler never copies them.
    """
    values: dict[str, Any] = {}
    if bigload.is_large(original):
        original, values = bigload.split_constants(original)
    optimized = run_grappler(original, [t.op_name for t in frozen.outputs], passes,
                             device=_DEVICE if "remap" in passes else "")
    if values:
        bigload.restore_constants(optimized, values)
    _restore_names(optimized, original, frozen)
    if strip:
        tidy(optimized, [t.op_name for t in frozen.inputs] + [t.op_name for t in frozen.outputs])
    drop_unused_functions(optimized)  # the ones the passes inlined
    return optimized


def pass_report(
    graph: FrozenGraph | str | Path,
    *,
    target: str = "portable",
    inputs: Optional[Sequence[Any] | Mapping[str, Any]] = None,
    check: bool = True,
) -> list[PassStep]:
    """Optimize with the first 1, 2, ... passes of ``target``: what each added pass removed.

    The last row, ``tidy``, is our own clean-up after grappler (:func:`tidy`).

    Grappler's passes feed each other (folding creates work for pruning), so each row is
    the *cumulative* effect, and its ``removed_ops`` are relative to the row before.
    """
    frozen = as_frozen_graph(graph)
    passes = TARGETS.get(target)
    if passes is None:
        raise InputError(f"unknown target {target!r}; choose one of {sorted(TARGETS)}")
    previous = op_histogram(frozen.graph_def)
    steps = [PassStep("frozen", frozen.nodes, {}, {}, 0.0)]
    for i in range(1, len(passes) + 2):
        last = i > len(passes)
        result = optimize(frozen, target=target, passes=passes[: min(i, len(passes))], inputs=inputs,
                          check=check, strip=last)
        removed, added = _difference(previous, result.after_ops)
        name = "tidy" if last else passes[i - 1]
        steps.append(PassStep(name, result.nodes_after, removed, added, result.max_abs_diff))
        previous = result.after_ops
    return steps


def plot_pass_report(steps: Sequence[PassStep], ax: Any = None) -> Any:
    """Bars of the node count after each cumulative pass. Returns the axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3))
    names = [step.name for step in steps]
    counts = [step.nodes for step in steps]
    bars = ax.bar(names, counts, color=["tab:gray"] + ["tab:blue"] * (len(steps) - 1))
    ax.bar_label(bars)
    ax.set_ylabel("nodes")
    ax.set_title("Nodes after each grappler pass (cumulative)")
    ax.tick_params(axis="x", rotation=30)
    return ax


__all__ = [
    "OptimizeResult",
    "PassStep",
    "check_against",
    "TARGETS",
    "PORTABLE_PASSES",
    "PASS_DESCRIPTIONS",
    "optimize",
    "pass_report",
    "plot_pass_report",
    "run_grappler",
    "tidy",
    "op_histogram",
]
