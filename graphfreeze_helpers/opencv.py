"""The frozen ``.pb`` in OpenCV's DNN module: check it safely, then export one OpenCV reads.

OpenCV reads a frozen GraphDef directly (``cv2.dnn.readNetFromTensorflow``), with no
conversion step, but its TensorFlow importer is picky, and on a graph it does not
understand it may not raise an error: it may crash the whole process. Measured on
OpenCV 5.0.0 (opencv-python-headless 5.0.0.93) with TensorFlow 2.21 and Keras 3.15:

- a Keras ``Conv2D`` with a bias freezes to ``BiasAdd(conv, Squeeze(Reshape(Const)))``: the
  bias is *computed* from a constant. The importer fuses a ``BiasAdd`` into the convolution
  by reading its second input as a ``Const``, and on this one it dies with SIGSEGV inside
  ``readNetFromTensorflow``;
- the tutorial CNN (``Conv2D(use_bias=False)`` and BatchNorm) loads and runs unoptimized:
  the importer pattern-matches Keras' decomposed BatchNorm (``Rsqrt``/``Mul``/``Sub``/``AddV2``);
- after ``optimize`` (target ``portable``) BatchNorm becomes a filter folded into the
  convolution plus ``AddV2(conv, Const)``. OpenCV turns that ``AddV2`` into a separate
  ``Shift`` layer, which OpenCV 5's default engine rejects ("expected 'end <= dims'").
  grappler's arithmetic pass also rewrites a residual ``a + (conv + b)`` into
  ``AddN(a, conv) + b``, a shift after a sum, which neither OpenCV engine runs.

So :func:`export_opencv` makes the OpenCV-ready graph in three steps:

1. :func:`~graphfreeze_helpers.optimize.optimize` with :data:`OPENCV_PASSES`: the
   ``portable`` passes without ``arithmetic`` (constant folding alone already folds
   BatchNorm's scale into the convolution filters, and computes every bias to a ``Const``);
2. :func:`rewrite_for_opencv`, without TensorFlow: a per-channel ``AddV2`` of a constant
   right after a convolution or ``MatMul`` becomes ``BiasAdd`` (which OpenCV fuses into the
   layer), and a per-channel ``Mul`` after a depthwise convolution is folded into its filter;
3. :func:`diagnose_opencv`: the result is loaded and run by OpenCV in a subprocess where
   TensorFlow cannot be imported, and compared with the reference (the frozen graph, or
   your Keras model) within ``tolerance``.

A crash is reported by its signal with the likely cause from :func:`suspicious_ops`,
which reads the GraphDef without TensorFlow.
"""

from __future__ import annotations

import html
import json
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence

import numpy as np

from . import graphfile
from .errors import InputError, UnsupportedGraphError
from .files import sha256_bytes
from .freeze import FrozenGraph, as_frozen_graph, runnable_sample_inputs, sample_inputs
from .load import LoadedGraph, check_arrays
from .ops import OPENCV_TF_OPS
from .optimize import op_histogram, optimize, tidy
from .runner import tf_free_command
from .tensorproto import tensor_to_numpy
from .tensors import TensorInfo, node_name
from .verify import DEFAULT_RTOL, DEFAULT_TOLERANCE, Verification, as_output_list, input_list

# grappler passes for OpenCV: the "portable" ones without "arithmetic" (see the module docstring).
OPENCV_PASSES = ("pruning", "function", "debug_stripper", "dependency", "constfold")

CONV_OPS = frozenset({"Conv2D", "DepthwiseConv2dNative", "MatMul"})
ADD_OPS = frozenset({"Add", "AddV2"})
# Where a layer's weights must be a Const for the importer: op -> index of the weight input.
WEIGHT_INPUTS = {"Conv2D": 1, "DepthwiseConv2dNative": 1, "MatMul": 1, "BiasAdd": 1}
DEFAULT_TIMEOUT_S = 120.0


# --- reading the graph (no TensorFlow) --------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One node OpenCV's importer is likely to stumble on, and why."""

    kind: str  # "computed-weight" | "unsupported-op" | "unfolded-batchnorm" | "shift-layer" | "scale-layer"
    node: str
    op: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "node": self.node, "op": self.op, "detail": self.detail}

    def __str__(self) -> str:
        return f"{self.node} ({self.op}): {self.detail}"


# The order in which findings explain a failure: the first kind present is the likely cause.
CAUSES = {
    "computed-weight": "a layer's weights are computed from constants (e.g. Keras' conv bias as "
                       "Squeeze(Reshape(Const))) where OpenCV's importer reads a Const",
    "unsupported-op": "ops OpenCV's TensorFlow importer does not support",
    "shift-layer": "a per-channel Add of a constant that is not a BiasAdd after a convolution "
                   "(OpenCV makes it a Shift layer, which its 5.x engine rejects)",
    "scale-layer": "a per-channel Mul of a constant that is neither folded into a convolution filter "
                   "nor followed by a per-channel Add (OpenCV fuses that pair into one Scale layer)",
    "unfolded-batchnorm": "BatchNorm left unfolded as Rsqrt/Mul/Sub/AddV2 on constants",
}


def _graph_def(source: Any) -> Any:
    if isinstance(source, (str, Path)):
        return graphfile.read_graph_def(source)
    if isinstance(source, (bytes, bytearray)):
        return graphfile.parse_graph_def(bytes(source))
    graph_def = getattr(source, "graph_def", source)
    if not hasattr(graph_def, "node"):
        raise InputError(f"expected a GraphDef, its bytes or a .pb path, got a {type(source).__name__}")
    return graph_def


def _is_const(name: str, nodes: dict[str, Any]) -> bool:
    """A Const, or an Identity chain ending in one (the importer looks through Identity)."""
    for _ in range(len(nodes) + 1):
        node = nodes.get(node_name(name))
        if node is None:
            return False
        if node.op == "Const":
            return True
        if node.op != "Identity" or not node.input:
            return False
        name = node.input[0]
    return False


def _const_rank(name: str, nodes: dict[str, Any]) -> int:
    node = nodes.get(node_name(name))
    if node is None or node.op != "Const":
        return -1
    return len(node.attr["value"].tensor.tensor_shape.dim)


def _producer(name: str, nodes: dict[str, Any]) -> Any:
    return nodes.get(node_name(name))


def suspicious_ops(source: Any) -> list[Finding]:
    """The nodes OpenCV's TensorFlow importer is likely to fail (or crash) on, worst first.

    ``source`` is a GraphDef, its bytes, a :class:`FrozenGraph` or a ``.pb`` path. TensorFlow
    is not imported. These are heuristics from OpenCV 5.0.0's importer; only running the
    graph (:func:`diagnose_opencv`) says for sure.
    """
    graph_def = _graph_def(source)
    nodes = {node.name: node for node in graph_def.node}
    found = [
        finding
        for node in graph_def.node
        for finding in (_op_finding(node), _weight_finding(node, nodes), _shift_finding(node, nodes),
                        _scale_finding(node, nodes, graph_def))
        if finding is not None
    ]
    order = list(CAUSES)
    return sorted(found, key=lambda f: order.index(f.kind) if f.kind in order else len(order))


def _data_inputs(node: Any) -> list[str]:
    return [edge for edge in node.input if not edge.startswith("^")]


def _op_finding(node: Any) -> Optional[Finding]:
    """BatchNorm left unfolded (its ``Rsqrt``), or an op the importer does not know."""
    if node.op == "Rsqrt":
        return Finding("unfolded-batchnorm", node.name, node.op,
                       "BatchNorm's 1/sqrt(variance + epsilon) is still computed in the graph")
    if node.op not in OPENCV_TF_OPS:
        return Finding("unsupported-op", node.name, node.op, f"OpenCV's TensorFlow importer has no {node.op}")
    return None


def _weight_finding(node: Any, nodes: dict[str, Any]) -> Optional[Finding]:
    """A layer whose weights are computed from constants where the importer reads a ``Const``."""
    index, data = WEIGHT_INPUTS.get(node.op), _data_inputs(node)
    if index is None or len(data) <= index:
        return None
    if _is_const(data[index], nodes) or not _constant_subgraph(data[index], nodes):
        return None
    source = _producer(data[index], nodes)
    what = f"{source.op} {source.name!r}" if source is not None else repr(data[index])
    return Finding("computed-weight", node.name, node.op,
                   f"its weights come from {what}, computed from constants, not a Const")


def _shift_finding(node: Any, nodes: dict[str, Any]) -> Optional[Finding]:
    """A per-channel ``Add`` of a constant that OpenCV would make a separate ``Shift`` layer."""
    data = _data_inputs(node)
    if node.op not in ADD_OPS or len(data) != 2:
        return None
    consts = [edge for edge in data if _const_rank(edge, nodes) == 1]
    others = [edge for edge in data if edge not in consts]
    before = _producer(others[0], nodes) if others else None
    scaled = before is not None and before.op == "Mul" and any(
        _const_rank(edge, nodes) == 1 for edge in before.input)  # Mul + Add fuse into one Scale layer
    if len(consts) != 1 or not others or scaled:
        return None
    after = before.op if before is not None else "?"
    return Finding("shift-layer", node.name, node.op,
                   f"adds a per-channel constant after {after}; OpenCV fuses only a BiasAdd "
                   "that follows a convolution or MatMul")


def _scale_finding(node: Any, nodes: dict[str, Any], graph_def: Any) -> Optional[Finding]:
    """A per-channel ``Mul`` by a constant that is neither folded nor followed by a per-channel ``Add``."""
    data = _data_inputs(node)
    if node.op != "Mul" or len(data) != 2:
        return None
    consts = [edge for edge in data if _const_rank(edge, nodes) == 1]
    others = [edge for edge in data if edge not in consts]
    users = _consumers(graph_def, node.name)
    shifted = bool(users) and all(
        u.op in ADD_OPS and any(_const_rank(edge, nodes) == 1 for edge in u.input) for u in users)
    if len(consts) != 1 or not others or shifted:
        return None
    before = _producer(others[0], nodes)
    after = before.op if before is not None else "?"
    return Finding("scale-layer", node.name, node.op, f"multiplies by a per-channel constant after {after}")


def _constant_subgraph(name: str, nodes: dict[str, Any]) -> bool:
    """True if ``name`` is computed from Const nodes only (no Placeholder upstream)."""
    stack, seen = [name], set()
    while stack:
        node = _producer(stack.pop(), nodes)
        if node is None or node.name in seen:
            continue
        seen.add(node.name)
        if node.op == "Placeholder":
            return False
        stack.extend(edge for edge in node.input if not edge.startswith("^"))
    return True


def likely_cause(findings: Sequence[Finding]) -> str:
    """One phrase naming the most likely reason OpenCV fails, from :func:`suspicious_ops`."""
    for kind, text in CAUSES.items():
        hits = [f for f in findings if f.kind == kind]
        if hits:
            ops = sorted({f.op for f in hits})
            return f"{text} ({len(hits)} node(s), {', '.join(ops)}, e.g. {hits[0].node!r})"
    return "none of the known patterns; the graph may use an op or attribute OpenCV reads differently"


# --- rewriting the graph for OpenCV (no TensorFlow) -------------------------------------------


def _tensor_array(node: Any) -> np.ndarray:
    return np.asarray(tensor_to_numpy(node.attr["value"].tensor))


def _set_tensor(node: Any, array: np.ndarray) -> None:
    tensor = node.attr["value"].tensor
    tensor.ClearField("float_val")
    tensor.tensor_content = np.ascontiguousarray(array, dtype="<f4").tobytes()
    del tensor.tensor_shape.dim[:]
    for size in array.shape:
        tensor.tensor_shape.dim.add().size = int(size)


def rewrite_for_opencv(graph_def: Any, keep: Sequence[str] = ()) -> list[str]:
    """Rewrite an optimized GraphDef in place into the forms OpenCV's importer reads; return what changed.

    - ``AddV2(Const, x)`` → ``AddV2(x, Const)`` (the constant second);
    - ``Mul(DepthwiseConv2dNative, Const[c])`` → the depthwise filter scaled by ``c``;
    - ``AddV2(conv, Const[c])`` after ``Conv2D``/``DepthwiseConv2dNative``/``MatMul`` → ``BiasAdd``.

    Each rewrite is exact algebra (the filter scaling rounds once more in float32). Nodes
    named in ``keep`` (inputs, outputs) keep their names and ops. TensorFlow is not needed.
    """
    keep_set = set(keep)
    changes = move_constants_second(graph_def)
    changes += fold_depthwise_scales(graph_def, keep_set)
    changes += adds_to_bias_adds(graph_def, keep_set)
    tidy(graph_def, keep)
    return changes


def _consumers(graph_def: Any, name: str) -> list[Any]:
    return [n for n in graph_def.node if any(node_name(e) == name for e in n.input)]


def move_constants_second(graph_def: Any) -> list[str]:
    """``AddV2(Const[c], x)`` → ``AddV2(x, Const[c])``, in place: OpenCV reads a per-channel constant second."""
    nodes = {node.name: node for node in graph_def.node}
    changes = []
    for node in graph_def.node:
        if node.op in ADD_OPS and len(node.input) == 2 and _const_rank(node.input[0], nodes) == 1 \
                and _const_rank(node.input[1], nodes) != 1:
            first, second = node.input
            del node.input[:]
            node.input.extend([second, first])
            changes.append(f"{node.name}: constant moved to the second input")
    return changes


def fold_depthwise_scales(graph_def: Any, keep: Sequence[str] = ()) -> list[str]:
    """Fold ``Mul(DepthwiseConv2dNative, Const[c])`` into the depthwise filter, in place.

    The ``Mul`` becomes an unreachable ``NoOp`` (:func:`~.optimize.tidy` drops it); nodes in
    ``keep`` are left alone.
    """
    nodes = {node.name: node for node in graph_def.node}
    changes = []
    for node in list(graph_def.node):
        if node.op != "Mul" or node.name in keep or len(node.input) != 2:
            continue
        data, const = node.input
        if _const_rank(const, nodes) != 1:
            data, const = const, data
        conv = _producer(data, nodes)
        if conv is None or conv.op != "DepthwiseConv2dNative" or _const_rank(const, nodes) != 1 or ":" in data:
            continue
        filt = _producer(conv.input[1], nodes)
        if (filt is None or filt.op != "Const" or len(_consumers(graph_def, conv.name)) != 1
                or len(_consumers(graph_def, filt.name)) != 1):
            continue
        weights, scale = _tensor_array(filt), _tensor_array(nodes[node_name(const)])
        kh, kw, cin, mult = weights.shape
        if scale.shape != (cin * mult,):
            continue
        _set_tensor(filt, weights * scale.reshape(1, 1, cin, mult))
        for consumer in _consumers(graph_def, node.name):
            edges = [conv.name if e == node.name else (f"^{conv.name}" if e == f"^{node.name}" else e)
                     for e in consumer.input]
            del consumer.input[:]
            consumer.input.extend(edges)
        node.op = "NoOp"  # unreachable now; tidy drops it
        del node.input[:]
        node.attr.clear()
        changes.append(f"{conv.name}: per-channel Mul {node.name!r} folded into the depthwise filter")
    return changes


def adds_to_bias_adds(graph_def: Any, keep: Sequence[str] = ()) -> list[str]:
    """``AddV2(conv, Const[c])`` right after a convolution or ``MatMul`` → ``BiasAdd``, in place.

    OpenCV fuses a ``BiasAdd`` into the layer before it; a plain ``AddV2`` would become a
    separate ``Shift`` layer. Nodes in ``keep`` are left alone.
    """
    nodes = {node.name: node for node in graph_def.node}
    changes = []
    for node in graph_def.node:
        if node.op not in ADD_OPS or node.name in keep or len(node.input) != 2:
            continue
        data, const = node.input
        before = _producer(data, nodes)
        if _const_rank(const, nodes) != 1 or before is None or before.op not in CONV_OPS or ":" in data:
            continue
        if len(_consumers(graph_def, before.name)) != 1:
            continue
        node.op = "BiasAdd"
        node.attr["data_format"].s = b"NHWC"
        changes.append(f"{node.name}: AddV2 of a per-channel constant after {before.op} made a BiasAdd")
    return changes


# --- running it in a subprocess ---------------------------------------------------------------


@dataclass
class OpenCVDiagnosis:
    """What happened when OpenCV loaded and ran a graph in a subprocess."""

    status: str  # "ok" | "crashed" | "error" | "timeout" | "mismatch"
    graph: str
    returncode: Optional[int] = None
    signal: Optional[str] = None  # "SIGSEGV" when the process was killed by a signal
    stage: str = ""  # "load" (readNetFromTensorflow) or "run" (setInput + forward): where it stopped
    message: str = ""  # the error's first line, when OpenCV raised one
    findings: list[Finding] = field(default_factory=list)
    nodes: int = 0
    ops: dict[str, int] = field(default_factory=dict, repr=False)
    outputs: list[np.ndarray] = field(default_factory=list, repr=False)
    verification: Optional[Verification] = None
    seconds: float = 0.0
    inputs: list[np.ndarray] = field(default_factory=list, repr=False)  # what OpenCV was given
    output_names: list[str] = field(default_factory=list, repr=False)  # the graph's, in the order of outputs

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def max_abs_diff(self) -> Optional[float]:
        return None if self.verification is None else self.verification.max_abs_diff

    @property
    def cause(self) -> str:
        return likely_cause(self.findings)

    def reason(self) -> str:
        """One line: what OpenCV did with the graph, the likely cause and what to do."""
        where = {"load": "in readNetFromTensorflow", "run": "in setInput/forward"}.get(self.stage, "")
        fix = "run `graphfreeze export GRAPH.pb --to opencv` (optimize, then rewrite for OpenCV)"
        if self.status == "ok":
            diff = f"; max |diff| = {self.max_abs_diff:.3g}" if self.verification else ""
            return f"OpenCV reads and runs {self.graph}{diff}"
        if self.status == "crashed":
            return (f"OpenCV cannot read {self.graph}: the reader process died with {self.signal} {where}; "
                    f"likely cause: {self.cause}; {fix}")
        if self.status == "timeout":
            return f"OpenCV did not finish reading {self.graph} {where} in time; likely cause: {self.cause}; {fix}"
        if self.status == "mismatch":
            return (f"OpenCV runs {self.graph} but its outputs differ from the reference: {self.verification!r}; "
                    f"likely cause: {self.cause}; {fix}")
        message = self.message
        for prefix in ("OpenCV cannot run the graph: ", "OpenCV cannot read the graph: "):
            message = message.removeprefix(prefix)
        what = "read" if self.stage == "load" else "run"
        return f"OpenCV cannot {what} {self.graph}: {message}; likely cause: {self.cause}; {fix}"

    def raise_if_failed(self) -> "OpenCVDiagnosis":
        if not self.ok:
            raise UnsupportedGraphError(self.reason())
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "graph": self.graph,
            "ok": self.ok,
            "status": self.status,
            "returncode": self.returncode,
            "signal": self.signal,
            "stage": self.stage,
            "message": self.message,
            "likely_cause": None if self.ok and not self.findings else self.cause,
            "suspicious_ops": [f.to_dict() for f in self.findings],
            "nodes": self.nodes,
            "max_abs_diff": self.max_abs_diff,
            "seconds": round(self.seconds, 3),
        }

    def __repr__(self) -> str:
        extra = f", signal={self.signal}" if self.signal else ""
        extra += f", stage={self.stage!r}" if self.stage and not self.ok else ""
        extra += f", {self.verification!r}" if self.verification else ""
        return (f"OpenCVDiagnosis({self.status}, {self.graph}, nodes={self.nodes}, "
                f"suspicious={len(self.findings)}{extra})")

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td><code>{html.escape(f.node)}</code></td><td>{f.op}</td><td>{f.kind}</td>"
                       f"<td>{html.escape(f.detail)}</td></tr>" for f in self.findings[:20])
        table = (f"<table><tr><th>node</th><th>op</th><th>kind</th><th>why</th></tr>{rows}</table>"
                 if rows else "<p>No suspicious ops.</p>")
        color = "green" if self.ok else "firebrick"
        return f"<p style='color:{color}'><b>{html.escape(self.reason())}</b></p>{table}"


def _signal_name(returncode: int) -> str:
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def input_specs(graph_def: Any, path: Optional[Path] = None) -> list[TensorInfo]:
    """The graph's inputs: from the sidecar next to ``path`` if there is one, else its Placeholders."""
    return graph_signature(graph_def, path)[0]


def graph_signature(graph: Any, path: Optional[Path] = None) -> tuple[list[TensorInfo], list[str]]:
    """The graph's inputs and output names, as the TF-free runner reads them: a :class:`FrozenGraph`'s
    own, else the sidecar's next to ``path``, else its Placeholders and the nodes nothing consumes."""
    if hasattr(graph, "inputs") and hasattr(graph, "outputs"):
        return list(graph.inputs), [t.name for t in graph.outputs]
    signature = graphfile.sidecar_signature(path) if path is not None else None
    if signature:
        return list(signature[0]), [t.name for t in signature[1]]
    graph_def = _graph_def(graph)
    return graphfile.placeholder_inputs(graph_def), list(graphfile.sink_outputs(graph_def))


def opencv_inputs(
    specs: Sequence[TensorInfo], graph_def: Any, given: Any = None, reference: Optional[Callable[..., Any]] = None
) -> list[np.ndarray]:
    """The arrays to run: ``given`` (a list in input order or ``{name: array}``), checked against ``specs``;
    else seeded samples that fit each input's dtype and what the graph tells of its shape, and that
    ``reference`` (when given) runs on (:func:`~.freeze.runnable_sample_inputs`)."""
    if given is not None:
        return check_arrays(specs, input_list(specs, given))
    if reference is not None:
        return runnable_sample_inputs(specs, reference, graph_def=graph_def)[0]
    return sample_inputs(specs, graph_def=graph_def)


def diagnose_opencv(
    graph: Any,
    *,
    inputs: Optional[Sequence[np.ndarray] | Mapping[str, np.ndarray]] = None,
    reference: Optional[Callable[..., Any]] = None,
    tolerance: float = DEFAULT_TOLERANCE,
    rtol: float = DEFAULT_RTOL,
    timeout: float = DEFAULT_TIMEOUT_S,
    name: Optional[str] = None,
) -> OpenCVDiagnosis:
    """Load and run ``graph`` with OpenCV in a subprocess (TensorFlow blocked there); never crash the caller.

    Returns the report, whatever happened: see its ``status`` and ``reason()``, or call its
    ``raise_if_failed()``.

    ``graph`` is a ``.pb`` path, GraphDef bytes, a GraphDef or a :class:`FrozenGraph`; its
    inputs and outputs are named as :func:`graph_signature` says. ``inputs`` (a list in input
    order, or ``{name: array}``) default to seeded samples (:func:`opencv_inputs`; NHWC, as
    for TensorFlow). With ``reference`` (a callable on the same inputs: the Keras model, or the
    frozen graph) the outputs are compared by name (:func:`compare_outputs`), and a value beyond
    ``tolerance + rtol * |reference|`` makes the status ``"mismatch"``. The subprocess is
    :mod:`graphfreeze_helpers.runner`, the same code a TF-free deployment runs.
    """
    path = Path(graph) if isinstance(graph, (str, Path)) else None
    if path is not None and not path.is_file():
        raise InputError(f"graph {str(graph)!r} does not exist")
    graph_def = _graph_def(graph)
    specs, outputs = graph_signature(graph if path is None else graph_def, path)
    report = OpenCVDiagnosis(
        "ok", name or (str(path) if path is not None else "the graph"), findings=suspicious_ops(graph_def),
        nodes=len(graph_def.node), ops=op_histogram(graph_def),
        inputs=opencv_inputs(specs, graph_def, inputs, reference), output_names=outputs,
    )
    _run_in_subprocess(report, graph_def, path, (specs, outputs), timeout)
    if reference is not None and report.ok:
        compare_outputs(report, reference, tolerance=tolerance, rtol=rtol)
    return report


def _run_in_subprocess(
    report: OpenCVDiagnosis, graph_def: Any, path: Optional[Path], signature: tuple[list[TensorInfo], list[str]],
    timeout: float,
) -> None:
    """Stage the graph and the inputs in a scratch folder, run the TF-free runner on them, fill in ``report``."""
    with tempfile.TemporaryDirectory(prefix="graphfreeze-opencv-") as scratch:
        command, out = _stage(Path(scratch), graph_def, path, signature, report.inputs)
        started = time.perf_counter()
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:
            report.status, report.seconds = "timeout", time.perf_counter() - started
            report.stage = _last_stage(exc.stderr.decode() if isinstance(exc.stderr, bytes) else (exc.stderr or ""))
            return
        report.seconds = time.perf_counter() - started
        _read_process(report, done, out)


def _stage(
    scratch: Path, graph_def: Any, path: Optional[Path], signature: tuple[list[TensorInfo], list[str]],
    arrays: Sequence[np.ndarray],
) -> tuple[list[str], Path]:
    """Write graph, sidecar and inputs into ``scratch``; return the runner's command line and its output file.

    The sidecar names the inputs and outputs (the runner reads them from it), and each input
    goes in as ``NAME=FILE.npy``.
    """
    pb = scratch / "graph.pb"
    pb.write_bytes(path.read_bytes() if path is not None else graph_def.SerializeToString())
    specs, outputs = signature
    record = {"inputs": [t.to_dict() for t in specs],
              "outputs": [{"name": name, "dtype": "", "shape": None} for name in outputs]}
    (scratch / "graph.json").write_text(json.dumps(record))
    feeds: list[str] = []
    for i, (spec, array) in enumerate(zip(specs, arrays)):
        np.save(scratch / f"x{i}.npy", array)
        feeds += ["--input", f"{spec.name}={scratch / f'x{i}.npy'}"]
    out = scratch / "y.npz"
    return tf_free_command(pb, *feeds, "-o", out, "--runtime", "opencv", "--stages"), out


def _read_process(report: OpenCVDiagnosis, done: subprocess.CompletedProcess[str], out: Path) -> None:
    """How the runner ended (crashed, failed, or wrote its outputs), into ``report``."""
    report.returncode = done.returncode
    report.stage = _last_stage(done.stderr)
    if done.returncode < 0:
        report.status, report.signal = "crashed", _signal_name(done.returncode)
    elif done.returncode != 0:
        report.status = "error"
        lines = [line for line in done.stderr.splitlines() if line.strip() and not line.startswith("stage: ")]
        message = lines[-1] if lines else f"exit code {done.returncode}"
        report.message = message.split(": error: ", 1)[-1]
    else:
        saved = np.load(out, allow_pickle=False)  # .npz content for several outputs, .npy for one
        if hasattr(saved, "files"):
            with saved:
                report.outputs = [saved[k] for k in saved.files]  # keyed by output name, in the sidecar's order
        else:
            report.outputs = [saved]


def compare_outputs(
    report: OpenCVDiagnosis, reference: Callable[..., Any], *, tolerance: float = DEFAULT_TOLERANCE,
    rtol: float = DEFAULT_RTOL,
) -> OpenCVDiagnosis:
    """Compare OpenCV's outputs with ``reference`` on the same inputs, by name; status ``"mismatch"``
    where a value is beyond ``tolerance + rtol * |reference|`` (:meth:`~.verify.Verification.from_outputs`).

    ``reference`` is a callable on the report's inputs: the Keras model, or the frozen graph
    run by TensorFlow (a :class:`~.load.LoadedGraph` names its outputs; a model's are taken in
    the graph's output order). Returns ``report``, with its ``verification`` filled in.
    """
    expected = as_output_list(reference(*report.inputs))
    names = report.output_names or None
    reference_names = [t.name for t in reference.outputs] if isinstance(reference, LoadedGraph) else names
    report.verification = Verification.from_outputs(expected, report.outputs, report.inputs, tolerance=tolerance,
                                                    rtol=rtol, names=reference_names, actual_names=names)
    if not report.verification.ok:
        report.status = "mismatch"
    return report


def _last_stage(stderr: str) -> str:
    stages = [line.split(":", 1)[1].strip() for line in stderr.splitlines() if line.startswith("stage: ")]
    return stages[-1] if stages else ""


# --- the OpenCV-ready .pb ---------------------------------------------------------------------


@dataclass
class OpenCVExport:
    """An OpenCV-ready frozen graph: its bytes, ops, the rewrites made and the diagnosis of its subprocess run."""

    frozen: FrozenGraph = field(repr=False)  # its sidecar is written by save
    data: bytes = field(repr=False)
    ops: dict[str, int]
    nodes_before: int
    rewrites: list[str] = field(default_factory=list, repr=False)
    diagnosis: Optional[OpenCVDiagnosis] = field(default=None, repr=False)
    path: Optional[Path] = None
    format: str = "opencv"

    @property
    def bytes(self) -> int:
        return len(self.data)

    @property
    def nodes_after(self) -> int:
        return sum(self.ops.values())

    @property
    def verification(self) -> Optional[Verification]:
        return None if self.diagnosis is None else self.diagnosis.verification

    @property
    def max_abs_diff(self) -> Optional[float]:
        return None if self.verification is None else self.verification.max_abs_diff

    @property
    def sha256(self) -> str:
        return sha256_bytes(self.data)

    def save(self, path: str | Path, *, force: bool = False) -> Path:
        """Write the ``.pb`` and its sidecar ``.json`` atomically; never overwrite without ``force``."""
        self.path = self.frozen.save(path, force=force)
        return self.path

    def __repr__(self) -> str:
        ops = ", ".join(f"{op}:{n}" for op, n in self.ops.items())
        check = f", {self.verification!r}" if self.verification else ""
        where = f", path={str(self.path)!r}" if self.path else ""
        return (f"OpenCVExport(nodes {self.nodes_before} -> {self.nodes_after}, rewrites={len(self.rewrites)}, "
                f"ops={{{ops}}}{where}{check})")


def export_opencv(
    graph: Any,
    *,
    inputs: Optional[Sequence[np.ndarray]] = None,
    reference: Optional[Callable[..., Any]] = None,
    tolerance: float = DEFAULT_TOLERANCE,
    rtol: float = DEFAULT_RTOL,
    check: bool = True,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> OpenCVExport:
    """Make an OpenCV-ready ``.pb`` from a frozen graph (a :class:`FrozenGraph` or a ``.pb`` path).

    Optimize with :data:`OPENCV_PASSES` (verified against the frozen graph), rewrite with
    :func:`rewrite_for_opencv`, then (with ``check``) run the result with OpenCV in a
    subprocess on ``inputs`` (a list or ``{name: array}``; default: samples the frozen graph runs
    on) and compare with ``reference`` (default: the frozen graph, run by TensorFlow) by name.
    Raises :class:`UnsupportedGraphError` (exit 3) if OpenCV crashes, fails, or a value is
    beyond ``tolerance + rtol * |reference|``.
    """
    frozen = as_frozen_graph(graph)
    graph_reference = LoadedGraph(frozen.graph_def, frozen.inputs, frozen.outputs)
    arrays = opencv_inputs(frozen.inputs, frozen.graph_def, inputs, graph_reference)
    result = optimize(frozen, passes=OPENCV_PASSES, inputs=arrays, reference=graph_reference, tolerance=tolerance,
                      rtol=rtol)
    graph_def = result.graph_def
    keep = [t.op_name for t in frozen.inputs] + [t.op_name for t in frozen.outputs]
    rewrites = rewrite_for_opencv(graph_def, keep)
    ready = FrozenGraph(graph_def, list(frozen.inputs), list(result.frozen.outputs),
                        source=f"export_opencv({frozen.source or 'graph'})")
    exported = OpenCVExport(ready, ready.serialize(), op_histogram(graph_def), result.nodes_before, rewrites)
    if check:
        report = diagnose_opencv(ready, inputs=arrays, reference=reference or graph_reference, tolerance=tolerance,
                                 rtol=rtol, timeout=timeout, name="the OpenCV export")
        exported.diagnosis = report.raise_if_failed()
        ready.verification = report.verification
    return exported


__all__ = [
    "OPENCV_PASSES",
    "OPENCV_TF_OPS",
    "Finding",
    "OpenCVDiagnosis",
    "OpenCVExport",
    "adds_to_bias_adds",
    "compare_outputs",
    "diagnose_opencv",
    "export_opencv",
    "fold_depthwise_scales",
    "graph_signature",
    "input_specs",
    "likely_cause",
    "move_constants_second",
    "opencv_inputs",
    "rewrite_for_opencv",
    "suspicious_ops",
]
