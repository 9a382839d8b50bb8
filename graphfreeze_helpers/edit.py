"""Graph surgery on a frozen GraphDef, every edit verified: TF2's successor to ``transform_graph``.

TF1 shipped ``transform_graph`` (strip unused nodes, fold constants, set shapes, quantize
weights, remove attributes). TF2's pip package has no such tool, so each edit here is a
small rewrite of the GraphDef followed by the same check ``optimize`` makes: the edited
graph and the input graph run on the same inputs, and their outputs are compared by name
(:func:`~graphfreeze_helpers.optimize.check_against`).

The edits, applied in this order whatever order they are given in:

1. ``repair_training``: TF1 training residue becomes inference (``RefSwitch`` → ``Switch``,
   ``Assign``/``AssignSub`` on frozen constants removed, or made plain arithmetic where their
   value is read);
2. ``strip``: ``devices`` (device pins), ``colocation`` (``_class: loc:@...`` attrs, the
   "colocated with unknown node" error), ``default-attrs`` (attrs at their op's default,
   which older TensorFlow releases do not know);
3. ``set``: a ``Placeholder`` or ``PlaceholderWithDefault`` (``keep_prob``, ``is_training``)
   becomes a constant, then what depends on it is folded: grappler's constant folding and loop
   optimizer (which drops a v1 ``cond``'s dead branch), after a v2 ``If``/``Case`` on a
   constant is replaced by a call of the branch taken;
4. ``inputs`` / ``outputs``: new inputs at any tensors (the graph is cut there), new outputs;
   what no output needs any more is removed, as ``strip_unused`` did;
5. ``shape``: an input's static shape is fixed or relaxed, and TensorFlow's shape inference
   must accept it;
6. ``rename``: an input or output node takes a new name; every edge follows;
7. ``weights="float16"``: float32 constants are stored as float16, with a ``Cast`` back to
   float32 under the constant's old name (the consumers are untouched). Grappler's constant
   folding turns each pair back into a float32 constant, so ``optimize`` comes before, not after.

Where an edit keeps the function (strip, rename, repair, weights), the check is against the
input graph as it is. Where it changes the function on purpose, the check is on the part
that stays, and :attr:`EditStep.verified_on` says which: the input graph fed at the cut, or
fed the bound value. float16 weights are checked against their own tolerance
(``weights_tolerance``), and the size they save is reported.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence

import numpy as np

from . import graphfile, safety
from .errors import GraphFreezeError, InputError, NotFrozenError, ShapeError, TensorNameError, UnsafeGraphError
from .freeze import FrozenGraph, runnable_sample_inputs
from .grappler import drop_unused_functions, run_passes
from .load import LoadedGraph, needed_nodes, prepare_graph_def, resolve_signature
from .ops import ASSIGN_OP_TWINS, REF_OP_TWINS, REF_SOURCE_OPS, VARIABLE_OPS
from .optimize import check_against
from .tensors import TensorArg, TensorInfo, format_shape, node_name, parse_tensor_arg, tensor_name
from .tfimport import import_tensorflow, to_tf_graph_def
from .verify import DEFAULT_RTOL, DEFAULT_TOLERANCE, Verification

STRIP_KINDS = ("devices", "colocation", "default-attrs")
WEIGHT_DTYPES = ("float16",)
DEFAULT_WEIGHTS_TOLERANCE = 1e-2  # float16 keeps ~3 significant digits: absolute and relative part
MIN_WEIGHT_ELEMENTS = 16  # smaller float32 constants stay: a Cast costs more than the bytes saved
FLOAT16_MAX = 65504.0
# Grappler passes that fold what a bound placeholder decided: constants, a v1 cond's dead branch
# (the loop optimizer), the branch call a v2 If became (function inlining), and what is left over.
FOLD_PASSES = ("function", "constfold", "loop", "arithmetic", "dependency", "pruning")
PLACEHOLDER_OPS = ("Placeholder", "PlaceholderWithDefault")
_NODE_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\-/>]*$")
_IF_OPS = ("If", "StatelessIf")
_CASE_OPS = ("Case", "StatelessCase")


# --- the request ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Binding:
    """``--set NAME=VALUE``: a placeholder (tensor ``name``) and the value it is bound to."""

    name: str
    text: str
    value: Any = field(default=None, compare=False)  # NumPy array, filled in by check_request

    def __str__(self) -> str:
        return f"{node_name(self.name)}={self.text}"


def parse_assignment(text: str, option: str) -> tuple[str, str]:
    """``"NAME=VALUE"`` → ``("NAME", "VALUE")``; one line (:class:`InputError`) on anything else."""
    name, sep, value = str(text).partition("=")
    if not sep or not name.strip() or not value.strip():
        raise InputError(f"{option} wants NAME=VALUE, got {text!r}")
    return name.strip(), value.strip()


def parse_binding(text: str) -> Binding:
    """``"keep_prob=1.0"`` as a :class:`Binding` (the value is read against the dtype later)."""
    name, value = parse_assignment(text, "--set")
    return Binding(parse_tensor_arg(name).name, value)


def parse_shape(text: str) -> TensorArg:
    """``"image=[1,224,224,3]"`` (or ``"image[1,224,224,3]"``) as a :class:`TensorArg` with a shape."""
    raw = str(text).strip()
    name, sep, shape = raw.partition("=")
    arg = parse_tensor_arg(f"{name.strip()}{shape.strip()}" if sep else raw)
    if arg.shape is None:
        raise InputError(f"--shape wants NAME=[D1,D2,...] like image=[1,224,224,3] (? for any size), got {text!r}")
    return arg


def parse_rename(text: str) -> tuple[str, str]:
    """``"OLD=NEW"``: node names, NEW a valid TensorFlow node name."""
    old, new = parse_assignment(text, "--rename")
    old, new = node_name(old), node_name(new)
    if not _NODE_NAME.match(new):
        raise InputError(f"--rename {text!r}: {new!r} is not a valid node name (letters, digits, _ . - / >)")
    return old, new


def parse_strip(text: str | Sequence[str]) -> tuple[str, ...]:
    """``"devices,colocation"`` → ``("devices", "colocation")``, each one of :data:`STRIP_KINDS`."""
    parts = text.split(",") if isinstance(text, str) else list(text)
    kinds = tuple(dict.fromkeys(part.strip() for part in parts if part.strip()))
    unknown = [kind for kind in kinds if kind not in STRIP_KINDS]
    if unknown or not kinds:
        raise InputError(f"--strip takes a comma-separated list of {', '.join(STRIP_KINDS)}; got {text!r}")
    return kinds


def read_value(binding: Binding, dtype: str, shape: Optional[tuple[Optional[int], ...]]) -> np.ndarray:
    """The value of ``binding`` as an array of the placeholder's ``dtype`` and ``shape``.

    A scalar fills a fully known shape; a JSON list (``[0.5, 0.5]``) must have the shape.
    A value the dtype cannot hold (``0.5`` for a bool, ``x`` for a float) is an :class:`InputError`.
    """
    text, where = binding.text, f"--set {binding}"
    raw: Any = text
    if text.startswith("["):
        try:
            raw = json.loads(text.replace("True", "true").replace("False", "false"))
        except json.JSONDecodeError:
            raise InputError(f"{where}: cannot read {text!r} as a list of values") from None
    try:
        array = np.vectorize(lambda item: _scalar(item, dtype), otypes=[object])(np.asarray(raw, dtype=object))
        array = np.asarray(array.tolist(), dtype=object if dtype == "string" else np.dtype(dtype))
    except (ValueError, TypeError):
        raise InputError(f"{where}: {node_name(binding.name)} holds {dtype}; {_dtype_hint(dtype)}, "
                         f"got {text!r}") from None
    if shape is not None and array.shape != tuple(shape):
        if array.ndim == 0 and all(d is not None for d in shape):
            array = np.full(tuple(int(d) for d in shape), array[()], dtype=array.dtype)
        elif array.ndim or any(d is None for d in shape):
            raise InputError(
                f"{where}: {node_name(binding.name)} has shape {format_shape(shape)}; give a value of that shape"
                + (" (a scalar fills only a fully known shape)" if any(d is None for d in shape) else "")
            )
    return array


def _scalar(item: Any, dtype: str) -> Any:
    text = str(item).strip()
    if dtype == "bool":
        if isinstance(item, bool):
            return item
        lowered = text.lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
        raise ValueError(text)
    if dtype.startswith(("int", "uint")):
        if isinstance(item, bool) or not re.fullmatch(r"[+-]?\d+", text):
            raise ValueError(text)
        info = np.iinfo(np.dtype(dtype))
        if not info.min <= int(text) <= info.max:
            raise ValueError(text)
        return int(text)
    if dtype.startswith(("float", "bfloat")) or dtype in ("half", "double"):
        if isinstance(item, bool) or text.lower() in ("true", "false"):
            raise ValueError(text)
        return float(text)
    if dtype == "string":
        return text.encode()
    raise TypeError(dtype)


def _dtype_hint(dtype: str) -> str:
    if dtype == "bool":
        return "give true or false"
    if dtype.startswith(("int", "uint")):
        return "give a whole number"
    if dtype.startswith(("float", "bfloat")):
        return "give a number"
    return f"values of dtype {dtype} cannot be bound"


# --- the result -----------------------------------------------------------------------------


@dataclass
class EditStep:
    """One edit: what it changed, the graph's size before and after, and its check."""

    name: str  # repair-training, strip, cut, set, shape, rename, weights
    description: str
    changes: list[str]
    nodes_before: int
    nodes_after: int
    bytes_before: int
    bytes_after: int
    removed_ops: dict[str, int]
    added_ops: dict[str, int]
    verified_on: str = ""  # what the edited graph was compared with, in words
    verification: Optional[Verification] = None

    def to_dict(self) -> dict[str, Any]:
        check = self.verification
        return {
            "edit": self.name,
            "description": self.description,
            "changes": list(self.changes),
            "nodes_before": self.nodes_before,
            "nodes_after": self.nodes_after,
            "bytes_before": self.bytes_before,
            "bytes_after": self.bytes_after,
            "removed_ops": dict(self.removed_ops),
            "added_ops": dict(self.added_ops),
            "verification": None if check is None else {
                "ok": check.ok, "max_abs_diff": check.max_abs_diff, "tolerance": check.tolerance,
                "rtol": check.rtol, "samples": check.samples, "against": self.verified_on,
            },
        }

    def line(self) -> str:
        check = self.verification
        verdict = (f"max |diff| = {check.max_abs_diff:.3g} (tolerance {check.tolerance_text}) against "
                   f"{self.verified_on}") if check is not None else f"not compared: {self.verified_on}"
        return f"{self.description}: nodes {self.nodes_before} -> {self.nodes_after}; {verdict}"


@dataclass
class EditResult:
    """The edited graph (a :class:`FrozenGraph` with its new signature) and one :class:`EditStep` per edit."""

    frozen: FrozenGraph
    steps: list[EditStep]
    nodes_before: int
    bytes_before: int
    before_ops: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def graph_def(self) -> Any:
        return self.frozen.graph_def

    @property
    def nodes_after(self) -> int:
        return self.frozen.nodes

    @property
    def bytes_after(self) -> int:
        return self.frozen.bytes

    @property
    def after_ops(self) -> dict[str, int]:
        return op_counts(self.frozen.graph_def)

    @property
    def verification(self) -> Optional[Verification]:
        return self.frozen.verification

    @property
    def max_abs_diff(self) -> Optional[float]:
        return None if self.verification is None else self.verification.max_abs_diff

    def step(self, name: str) -> EditStep:
        """The step of the edit ``name`` (``"set"``, ``"weights"``...)."""
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(f"no {name!r} edit; the edits were {[s.name for s in self.steps]}")

    def save(self, path: str | Path, *, force: bool = False) -> Path:
        """Write the edited ``.pb`` and its sidecar (the new signature) atomically."""
        return self.frozen.save(path, force=force)

    def to_dict(self) -> dict[str, Any]:
        removed, added = op_difference(self.before_ops, self.after_ops)
        return {
            "nodes_before": self.nodes_before,
            "nodes_after": self.nodes_after,
            "bytes_before": self.bytes_before,
            "bytes_after": self.bytes_after,
            "inputs": [t.to_dict() for t in self.frozen.inputs],
            "outputs": [t.to_dict() for t in self.frozen.outputs],
            "removed_ops": removed,
            "added_ops": added,
            "max_abs_diff": self.max_abs_diff,
            "edits": [step.to_dict() for step in self.steps],
        }

    def table(self) -> str:
        """The edits, one line each, with what each changed, then the new signature."""
        lines = []
        for step in self.steps:
            lines.append(f"  {step.line()}")
            lines += [f"      {change}" for change in step.changes[:12]]
            if len(step.changes) > 12:
                lines.append(f"      ... and {len(step.changes) - 12} more (--json lists them all)")
        lines += [f"  input   {t}" for t in self.frozen.inputs]
        lines += [f"  output  {t}" for t in self.frozen.outputs]
        lines.append(f"  nodes {self.nodes_before} -> {self.nodes_after}, bytes {self.bytes_before:,} -> "
                     f"{self.bytes_after:,}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        edits = ", ".join(step.name for step in self.steps)
        check = f", {self.verification!r}" if self.verification else ""
        return (f"EditResult(edits=[{edits}], nodes {self.nodes_before} -> {self.nodes_after}, "
                f"bytes {self.bytes_before:,} -> {self.bytes_after:,}{check})")

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td><code>{step.name}</code></td><td>{step.description}</td><td>{step.nodes_before} → "
            f"{step.nodes_after}</td><td>{'' if step.verification is None else f'{step.verification.max_abs_diff:.3g}'}"
            f"</td><td>{step.verified_on}</td></tr>"
            for step in self.steps
        )
        return (f"<p><b>EditResult</b>: {self.nodes_before} → {self.nodes_after} nodes, {self.bytes_before:,} → "
                f"{self.bytes_after:,} bytes</p><table><tr><th>edit</th><th>what</th><th>nodes</th>"
                f"<th>max |diff|</th><th>compared with</th></tr>{rows}</table>")


def op_counts(graph_def: Any) -> dict[str, int]:
    """Node count per op type, most frequent first."""
    return dict(Counter(node.op for node in graph_def.node).most_common())


def op_difference(before: Mapping[str, int], after: Mapping[str, int]) -> tuple[dict[str, int], dict[str, int]]:
    """(op -> how many fewer, op -> how many more) from ``before`` to ``after``."""
    removed = {op: n - after.get(op, 0) for op, n in before.items() if n > after.get(op, 0)}
    added = {op: n - before.get(op, 0) for op, n in after.items() if n > before.get(op, 0)}
    return removed, added


# --- the state an edit works on ----------------------------------------------------------------


@dataclass
class _State:
    """The graph being edited, its signature, and how it maps back to the input graph."""

    graph_def: Any
    inputs: list[TensorInfo]
    outputs: list[TensorInfo]
    origin: dict[str, str]  # current tensor name -> the input graph's tensor name (inputs and outputs)
    bound: dict[str, np.ndarray] = field(default_factory=dict)  # input graph's placeholder -> value
    reference_shapes: dict[str, Optional[tuple]] = field(default_factory=dict)  # origin name -> shape fed there
    input_shapes: dict[str, Optional[tuple]] = field(default_factory=dict)  # origin name -> its shape there

    def original(self, name: str) -> str:
        return self.origin.get(name, name)

    def reference_shape(self, name: str) -> Optional[tuple]:
        """The shape the input graph is fed at (current) input ``name``: the one given, else its own."""
        origin = self.original(name)
        return self.reference_shapes.get(origin, self.input_shapes.get(origin))


def check_request(
    graph_def: Any,
    inputs: Sequence[TensorInfo],
    outputs: Sequence[TensorInfo],
    *,
    bindings: Sequence[Binding] = (),
    new_inputs: Optional[Sequence[TensorArg]] = None,
    new_outputs: Optional[Sequence[TensorArg]] = None,
    shapes: Sequence[TensorArg] = (),
    renames: Sequence[tuple[str, str]] = (),
) -> list[Binding]:
    """Check every name and value against the graph before TensorFlow starts; return the bindings
    with their values read. Raises :class:`TensorNameError` (a name not in the graph, with the
    names that are) or :class:`InputError` (a value of the wrong dtype, a clash)."""
    nodes = {node.name: node for node in graph_def.node}
    placeholders = [n.name for n in graph_def.node if n.op in PLACEHOLDER_OPS]
    read: list[Binding] = []
    for binding in bindings:
        node = nodes.get(node_name(binding.name))
        if node is None or node.op not in PLACEHOLDER_OPS:
            found = f"a {node.op}" if node is not None else "not in the graph"
            raise TensorNameError(f"--set {binding}: {node_name(binding.name)!r} is {found}; --set binds a "
                                  f"placeholder, and the graph's are {placeholders}")
        info = graphfile.placeholder_info(node)
        read.append(Binding(info.name, binding.text, read_value(binding, info.dtype, info.shape)))
    names = [b.name for b in read]
    if len(set(names)) < len(names):
        raise InputError(f"--set names {node_name(names[0])!r} twice")
    listed = {tensor_name(t.name) for t in (new_inputs or [])}
    clash = [b.name for b in read if b.name in listed]
    if clash:
        raise InputError(f"{clash[0]!r} is both bound (--set) and an input (--inputs); choose one")
    in_names = [t.name for t in (new_inputs if new_inputs is not None else inputs) if t.name not in set(names)]
    out_names = [t.name for t in (new_outputs if new_outputs is not None else outputs)]
    for arg in shapes:
        node = nodes.get(arg.op_name)
        if arg.name not in in_names:
            where = "not in the graph" if node is None else "not an input"
            raise TensorNameError(f"--shape {arg}: {arg.name!r} is {where}; the inputs are {in_names}")
        known = graphfile.placeholder_info(node).shape if node.op in PLACEHOLDER_OPS else None
        if known is not None and len(known) != len(arg.shape or ()):
            raise ShapeError(f"--shape {arg}: {arg.name!r} has rank {len(known)}, shape {format_shape(known)}; "
                             f"--shape fixes or frees its sizes, it does not change the rank")
    ends = {node_name(n) for n in in_names + out_names}
    new_names: set[str] = set()
    for old, new in renames:
        if old not in ends:
            raise TensorNameError(f"--rename {old}={new}: {old!r} is not an input or output node; they are "
                                  f"{sorted(ends)}")
        if (new in nodes and new != old) or new in new_names:
            raise InputError(f"--rename {old}={new}: the graph already has a node named {new!r}")
        new_names.add(new)
    return read


def edit(
    graph: str | Path | Any,
    *,
    set_values: Sequence[str | Binding] | Mapping[str, Any] = (),
    inputs: Optional[Sequence[Any]] = None,
    outputs: Optional[Sequence[Any]] = None,
    shapes: Sequence[str | TensorArg] = (),
    renames: Sequence[str | tuple[str, str]] | Mapping[str, str] = (),
    strip: Sequence[str] | str = (),
    weights: Optional[str] = None,
    repair_training: bool = False,
    verify_inputs: Optional[Sequence[Any] | Mapping[str, Any]] = None,
    tolerance: float = DEFAULT_TOLERANCE,
    rtol: float = DEFAULT_RTOL,
    weights_tolerance: float = DEFAULT_WEIGHTS_TOLERANCE,
    min_weight_elements: int = MIN_WEIGHT_ELEMENTS,
    graph_def: Any = None,
    allow_unsafe: bool = False,
) -> EditResult:
    """Edit a frozen graph (a ``.pb`` path, or a GraphDef as ``graph_def``/``graph``) and verify each edit.

    - ``set_values``: ``["keep_prob=1.0", "is_training=false"]`` or ``{"keep_prob": 1.0}``;
    - ``inputs``/``outputs``: new input tensors (``"Mul:0"``, ``"image[1,28,28,1]"``) and outputs;
    - ``shapes``: ``["image=[1,28,28,1]"]``; ``renames``: ``["x=image"]`` or ``{"x": "image"}``;
    - ``strip``: any of :data:`STRIP_KINDS`; ``weights``: ``"float16"``; ``repair_training``.

    ``verify_inputs`` are real inputs of the *edited* graph (a list, or ``{name: array}``);
    without them each check samples inputs. Each step's outputs must match the input graph's
    within ``tolerance + rtol * |reference|`` (the weights step: ``weights_tolerance`` for
    both parts), or :class:`~graphfreeze_helpers.errors.VerificationError` is raised.
    Names and values are checked before TensorFlow starts, and the graph is scanned first
    (:func:`.safety.check`): one with an op outside the allow-list or a deny-list finding is refused
    (:class:`UnsafeGraphError`) unless ``allow_unsafe=True``.
    """
    path: Optional[Path] = None
    if graph_def is None and isinstance(graph, (str, Path)):
        path = Path(graph)
        graph_def = graphfile.read_graph_def(path, check_edges=True)
    elif graph_def is None:
        graph_def = graph.graph_def if hasattr(graph, "graph_def") else graph
    if path is None and isinstance(graph, (str, Path)):
        path = Path(graph)
    # --repair-training rewrites TF1's variable updates (AssignSub, ...) as plain ops before TensorFlow runs them
    refused = [u for u in safety.check(graph_def).refusals() if not (repair_training and u.op in ASSIGN_OP_TWINS)]
    if refused and not allow_unsafe:
        raise UnsafeGraphError(safety.refusal_message(repr(str(path or "the graph")), refused))
    if weights is not None and weights not in WEIGHT_DTYPES:
        raise InputError(f"--weights takes {', '.join(WEIGHT_DTYPES)}, got {weights!r}")
    kinds = parse_strip(strip) if strip else ()
    bindings = _bindings(set_values)
    shape_args = [s if isinstance(s, TensorArg) else parse_shape(s) for s in shapes]
    rename_pairs = _renames(renames)
    new_inputs = None if inputs is None else [parse_tensor_arg(t) for t in inputs]
    new_outputs = None if outputs is None else [parse_tensor_arg(t) for t in outputs]
    if hasattr(graph, "inputs") and hasattr(graph, "outputs") and hasattr(graph, "graph_def"):
        in_infos, out_infos = list(graph.inputs), list(graph.outputs)
    else:
        in_infos, out_infos = resolve_signature(path, graph_def)
    if new_inputs is not None or new_outputs is not None:
        resolve_signature(None, graph_def, inputs=new_inputs or [t.name for t in in_infos],
                          outputs=new_outputs or [t.name for t in out_infos])  # names checked, no TensorFlow
    bindings = check_request(graph_def, in_infos, out_infos, bindings=bindings, new_inputs=new_inputs,
                             new_outputs=new_outputs, shapes=shape_args, renames=rename_pairs)
    if not (repair_training or kinds or new_inputs is not None or new_outputs is not None or bindings
            or shape_args or rename_pairs or weights):
        raise InputError("no edit given: use --set, --inputs/--outputs, --shape, --rename, --strip, --weights "
                         "or --repair-training")

    import_tensorflow()
    original = to_tf_graph_def(graph_def)
    state = _State(_copy(original), list(in_infos), list(out_infos),
                   {t.name: t.name for t in list(in_infos) + list(out_infos)},
                   input_shapes={t.name: t.shape for t in in_infos})
    checker = _Checker(original, verify_inputs, tolerance, rtol)
    steps: list[EditStep] = []

    def run(name: str, description: str, apply: Callable[[_State], list[str]], *, tol: Optional[float] = None) -> None:
        before_nodes, before_bytes, before_ops = len(state.graph_def.node), state.graph_def.ByteSize(), \
            op_counts(state.graph_def)
        changes = apply(state)
        drop_unused_functions(state.graph_def)
        removed, added = op_difference(before_ops, op_counts(state.graph_def))
        step = EditStep(name, description, changes, before_nodes, len(state.graph_def.node), before_bytes,
                        state.graph_def.ByteSize(), removed, added)
        step.verification, step.verified_on = checker.check(state, name, tol)
        steps.append(step)

    if repair_training:
        run("repair-training", "repair TF1 training residue", _repair_training)
    if kinds:
        run("strip", f"strip {','.join(kinds)}", lambda s: strip_attrs(s.graph_def, kinds))
    if bindings:
        keep = [t.op_name for t in (new_inputs or []) + (new_outputs or [])]  # the cut comes next
        run("set", "set " + " ".join(map(str, bindings)), lambda s: _bind(s, bindings, keep))
    if new_inputs is not None or new_outputs is not None:
        what = " ".join(([f"inputs {' '.join(map(str, new_inputs))}"] if new_inputs is not None else [])
                        + ([f"outputs {' '.join(map(str, new_outputs))}"] if new_outputs is not None else []))
        run("cut", what, lambda s: _cut(s, new_inputs, new_outputs))
    if shape_args:
        run("shape", "shape " + " ".join(map(str, shape_args)), lambda s: _reshape(s, shape_args))
    if rename_pairs:
        run("rename", "rename " + " ".join(f"{a}={b}" for a, b in rename_pairs), lambda s: _rename(s, rename_pairs))
    if weights:
        run("weights", f"weights {weights}", lambda s: store_float16(s.graph_def, min_weight_elements),
            tol=weights_tolerance)

    final = steps[-1]
    frozen = FrozenGraph(state.graph_def, list(state.inputs), checker.outputs_of(state),
                         source=f"edit({path or 'graph'}: {', '.join(s.name for s in steps)})",
                         verification=final.verification)
    return EditResult(frozen, steps, len(original.node), original.ByteSize(), op_counts(original))


def _bindings(given: Sequence[str | Binding] | Mapping[str, Any]) -> list[Binding]:
    if isinstance(given, Mapping):
        return [Binding(parse_tensor_arg(k).name, json.dumps(v) if not isinstance(v, str) else v)
                for k, v in given.items()]
    return [b if isinstance(b, Binding) else parse_binding(b) for b in given]


def _renames(given: Sequence[str | tuple[str, str]] | Mapping[str, str]) -> list[tuple[str, str]]:
    if isinstance(given, Mapping):
        return [parse_rename(f"{k}={v}") for k, v in given.items()]
    return [parse_rename(r) if isinstance(r, str) else parse_rename(f"{r[0]}={r[1]}") for r in given]


def _copy(graph_def: Any) -> Any:
    copy = type(graph_def)()
    copy.CopyFrom(graph_def)
    return copy


# --- verification -------------------------------------------------------------------------------


class _Checker:
    """Runs each step's graph against the input graph, fed where the edited graph is fed."""

    def __init__(self, original: Any, given: Any, tolerance: float, rtol: float) -> None:
        self.original = original
        self.given = given
        self.tolerance = tolerance
        self.rtol = rtol
        self._references: dict[Any, Any] = {}
        self.label = "the input graph"

    def outputs_of(self, state: _State) -> list[TensorInfo]:
        loaded = LoadedGraph(state.graph_def, state.inputs, [TensorArg(t.name) for t in state.outputs])
        return list(loaded.outputs)

    def check(self, state: _State, step: str, tol: Optional[float]) -> tuple[Optional[Verification], str]:
        against = _against(state, self.original, self.label)
        candidate = LoadedGraph(state.graph_def, state.inputs, [TensorArg(t.name) for t in state.outputs])
        narrowed = [TensorInfo(t.name, t.dtype, _narrower(t.shape, state.reference_shape(t.name)))
                    for t in candidate.inputs]
        specs = _same_batch(narrowed)
        try:
            reference = self._reference(state)
        except GraphFreezeError:
            raise
        except Exception as exc:  # TensorFlow cannot import the input graph: "expected float_ref"
            if step != "repair-training":
                raise
            runnable_sample_inputs(specs, candidate, graph_def=state.graph_def)  # the repaired graph runs
            self.original, self._references, self.label = _copy(state.graph_def), {}, "the repaired input graph"
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return None, (f"the input graph does not load in TensorFlow ({reason}); the repaired graph runs, "
                          "and later edits are compared with it")
        bound = list(state.bound.values())

        def run_reference(*arrays: Any) -> Any:
            return reference(*arrays, *bound)

        subject = FrozenGraph(state.graph_def, specs, [TensorInfo(state.original(t.name), t.dtype, t.shape)
                                                       for t in state.outputs])
        tolerance, rtol = (tol, tol) if tol is not None else (self.tolerance, self.rtol)
        check = check_against(run_reference, candidate, subject, self.given, tolerance=tolerance, rtol=rtol,
                              what=f"graph after the {step} edit", against=against)  # outputs in the same order
        if step == "shape":
            _check_relaxed(candidate, narrowed, state.graph_def)
        return check, against

    def _reference(self, state: _State) -> Any:
        ins = [TensorArg(state.original(t.name), state.reference_shapes.get(state.original(t.name)))
               for t in state.inputs] + [TensorArg(name) for name in state.bound]
        outs = [TensorArg(state.original(t.name)) for t in state.outputs]
        key = (tuple(map(str, ins)), tuple(map(str, outs)))
        if key not in self._references:
            self._references[key] = LoadedGraph(self.original, ins, outs)
        return self._references[key]


def _against(state: _State, original: Any, label: str = "the input graph") -> str:
    """The reference in words: the input graph as it is, or fed at a cut, a bound value, another shape."""
    placeholders = {f"{n.name}:0" for n in original.node if n.op in PLACEHOLDER_OPS}
    fed = [state.original(t.name) for t in state.inputs]
    parts = []
    moved = [name for name in fed if name not in placeholders]
    if moved:
        parts.append(f"fed at {', '.join(moved)}")
    if state.bound:
        parts.append("with " + ", ".join(f"{node_name(k)}={_short(v)}" for k, v in state.bound.items()))
    shaped = {k: v for k, v in state.reference_shapes.items() if k not in moved}
    if shaped:
        parts.append("fed " + ", ".join(f"{k} of shape {format_shape(v)}" for k, v in shaped.items()))
    return (f"{label} on the part that stays: " + "; ".join(parts)) if parts else f"{label} (the same function)"


def _short(value: np.ndarray) -> str:
    flat = np.asarray(value).ravel()
    if flat.size and (flat == flat[0]).all():
        item = flat[0]
        return str(item.decode() if isinstance(item, bytes) else item).lower() if flat.dtype.kind == "b" else str(item)
    return f"array{tuple(np.shape(value))}"


def _narrower(shape: Optional[tuple], other: Optional[tuple]) -> Optional[tuple]:
    """Each dimension fixed where either shape fixes it (the inputs both graphs take)."""
    if shape is None:
        return other
    if other is None or len(other) != len(shape):
        return shape
    return tuple(a if a is not None else b for a, b in zip(shape, other))


def _same_batch(specs: list[TensorInfo]) -> list[TensorInfo]:
    """Inputs sampled together share a batch: one input's fixed first size fixes the others' free one."""
    fixed = [t.shape[0] for t in specs if t.shape and t.shape[0] is not None]
    if not fixed or len(specs) < 2:
        return specs
    return [TensorInfo(t.name, t.dtype, (fixed[0], *t.shape[1:])) if t.shape and t.shape[0] is None and len(t.shape) > 1
            else t for t in specs]


def _check_relaxed(candidate: LoadedGraph, specs: Sequence[TensorInfo], graph_def: Any) -> None:
    """A dimension made free must really take other sizes: run the edited graph on them."""
    relaxed = [t for t, s in zip(candidate.inputs, specs) if t.shape != s.shape]
    if not relaxed:
        return
    free = _same_batch([TensorInfo(t.name, t.dtype, t.shape) for t in candidate.inputs])
    try:
        runnable_sample_inputs(free, candidate, graph_def=graph_def, batch=3)
    except InputError as exc:
        names = ", ".join(f"{t.name}{format_shape(t.shape)}" for t in relaxed)
        raise ShapeError(f"the graph cannot take shape {names}: {str(exc).split(': ', 1)[-1]}") from None


# --- the edits ------------------------------------------------------------------------------------


def _prune(state: _State) -> list[str]:
    """Keep what the outputs need (inputs stop the walk); drop the inputs nothing needs any more."""
    keep = [t.op_name for t in state.outputs]
    needed = needed_nodes(state.graph_def, keep, stop={t.op_name for t in state.inputs})
    unused = [t for t in state.inputs if t.op_name not in needed]
    state.inputs = [t for t in state.inputs if t.op_name in needed]
    before = len(state.graph_def.node)
    kept = [_copy(node) for node in state.graph_def.node if node.name in needed]
    del state.graph_def.node[:]
    state.graph_def.node.extend(kept)
    changes = [f"input {t.name} removed: no output needs it" for t in unused]
    if before > len(kept):
        changes.append(f"removed {before - len(kept)} nodes no output needs")
    return changes


def _cut(state: _State, new_inputs: Optional[Sequence[TensorArg]], new_outputs: Optional[Sequence[TensorArg]]) -> \
        list[str]:
    changes: list[str] = []
    if new_outputs is not None:
        state.outputs = [TensorInfo(t.name, "", None) for t in new_outputs]
        changes.append("outputs now " + ", ".join(t.name for t in new_outputs))
    if new_inputs is not None:
        placeholders = {n.name: n for n in state.graph_def.node if n.op == "Placeholder"}
        needed = needed_nodes(state.graph_def, [t.op_name for t in state.outputs],
                              stop={t.op_name for t in new_inputs})
        unfed = sorted(name for name in needed if name in placeholders and name not in {t.op_name for t in new_inputs}
                       and placeholders[name].attr["dtype"].type != graphfile.DT_RESOURCE)
        if unfed:
            raise InputError(f"the outputs still need input {unfed[0]!r}, which --inputs does not list; "
                             "list it too, or cut past it")
        pins = graphfile.device_pins(state.graph_def)
        shaped = [arg if arg.shape is not None or arg.op_name in placeholders
                  else TensorArg(arg.name, static_shape(state.graph_def, arg.name)) for arg in new_inputs]
        prepared, infos = prepare_graph_def(state.graph_def, shaped, state.outputs)
        state.graph_def = _copy(prepared)
        for info, arg in zip(infos, new_inputs):
            if node_name(info.name) not in placeholders:
                changes.append(f"cut at {info.name}: now a Placeholder {info.dtype}{format_shape(info.shape)}")
            state.origin[info.name] = info.name
            state.input_shapes.setdefault(info.name, info.shape)
            if arg.shape is not None:
                state.reference_shapes[info.name] = arg.shape
        if pins and not graphfile.device_pins(state.graph_def):
            changes.append("device pins cleared, as the loader does for a cut graph")
        state.inputs = list(infos)
        changes.append("inputs now " + ", ".join(str(t) for t in infos))
    return changes + _prune(state)


def static_shape(graph_def: Any, tensor: str) -> Optional[tuple[Optional[int], ...]]:
    """The static shape TensorFlow's shape inference gives ``tensor`` in ``graph_def`` (``None`` if unknown)."""
    tf = import_tensorflow()
    prepared = _copy(graph_def)
    graphfile.clear_placement(prepared)
    try:
        with tf.Graph().as_default() as graph:
            tf.compat.v1.import_graph_def(prepared, name="")
            shape = graph.get_tensor_by_name(tensor_name(tensor)).shape
    except (ValueError, KeyError):  # a graph TensorFlow cannot import: the cut keeps no shape
        return None
    return None if shape.rank is None else tuple(shape.as_list())


def _bind(state: _State, bindings: Sequence[Binding], keep: Sequence[str] = ()) -> list[str]:
    tf = import_tensorflow()
    by_name = {node.name: node for node in state.graph_def.node}
    changes = []
    for binding in bindings:
        node = by_name[node_name(binding.name)]
        value = binding.value
        was = node.op
        for key in list(node.attr):
            if key != "dtype":
                del node.attr[key]
        del node.input[:]
        node.op = "Const"
        node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(value, dtype=tf.as_dtype(node.attr["dtype"].type)))
        state.bound[binding.name] = value
        state.inputs = [t for t in state.inputs if t.name != binding.name]
        changes.append(f"{was} {node.name} is now a Const {_short(value)}")
    fetch = [t.op_name for t in state.outputs] + [t.op_name for t in state.inputs] + list(keep)
    for _ in range(3):  # folding may decide another branch: take it, fold again
        taken = take_constant_branches(state.graph_def)
        changes += taken
        state.graph_def = run_passes(state.graph_def, fetch, FOLD_PASSES)
        if not take_constant_branches(_copy(state.graph_def)):
            break
    _restore_inputs(state)
    return changes + _prune(state)


def take_constant_branches(graph_def: Any) -> list[str]:
    """In place: each v2 ``If``/``Case`` whose predicate (branch index) is a ``Const`` becomes a
    ``PartitionedCall`` of the branch it takes, which grappler's function pass then inlines."""
    from tensorflow.python.framework import tensor_util

    consts = {n.name: n for n in graph_def.node if n.op == "Const"}
    changes = []
    for node in graph_def.node:
        if node.op not in _IF_OPS + _CASE_OPS or not node.input or node.input[0].startswith("^"):
            continue
        pred = consts.get(node_name(node.input[0]))
        if pred is None or ":" in node.input[0] and not node.input[0].endswith(":0"):
            continue
        value = tensor_util.MakeNdarray(pred.attr["value"].tensor)
        if node.op in _IF_OPS:
            chosen = node.attr["then_branch" if bool(np.asarray(value).any()) else "else_branch"].func
        else:
            branches = node.attr["branches"].list.func
            index = int(value)
            chosen = branches[index if 0 <= index < len(branches) else len(branches) - 1]
        was = node.op
        kept = {key: _attr_copy(node.attr[key]) for key in ("Tin", "Tout") if key in node.attr}
        for key in list(node.attr):
            del node.attr[key]
        for key, attr in kept.items():
            node.attr[key].CopyFrom(attr)
        node.attr["f"].func.CopyFrom(chosen)
        node.op = "PartitionedCall"
        del node.input[0]
        changes.append(f"{was} {node.name} takes branch {chosen.name} (its predicate is a constant)")
    return changes


def _attr_copy(attr: Any) -> Any:
    copy = type(attr)()
    copy.CopyFrom(attr)
    return copy


def _restore_inputs(state: _State) -> None:
    """Grappler may drop an input that nothing reads any more; the signature keeps it."""
    present = {node.name for node in state.graph_def.node}
    for info in state.inputs:
        if info.op_name not in present:
            tf = import_tensorflow()
            node = state.graph_def.node.add()
            node.name, node.op = info.op_name, "Placeholder"
            node.attr["dtype"].type = tf.as_dtype(info.dtype).as_datatype_enum
            if info.shape is not None:
                node.attr["shape"].shape.CopyFrom(tf.TensorShape(info.shape).as_proto())


def _reshape(state: _State, shapes: Sequence[TensorArg]) -> list[str]:
    tf = import_tensorflow()
    by_name = {node.name: node for node in state.graph_def.node}
    changes = []
    for arg in shapes:
        node = by_name[arg.op_name]
        old = graphfile.placeholder_info(node).shape
        node.attr["shape"].shape.CopyFrom(tf.TensorShape(arg.shape).as_proto())
        if "_output_shapes" in node.attr:
            del node.attr["_output_shapes"]
        state.inputs = [TensorInfo(t.name, t.dtype, arg.shape) if t.name == arg.name else t for t in state.inputs]
        origin = state.original(arg.name)
        if _narrower(old, arg.shape) != _narrower(arg.shape, old) or _conflicts(old, arg.shape):
            state.reference_shapes[origin] = arg.shape
        changes.append(f"{arg.name}: {format_shape(old)} -> {format_shape(arg.shape)}")
    check_shapes(state.graph_def, [a.name for a in shapes])
    return changes


def _conflicts(a: Optional[tuple], b: Optional[tuple]) -> bool:
    if a is None or b is None:
        return False
    return len(a) != len(b) or any(x is not None and y is not None and x != y for x, y in zip(a, b))


def check_shapes(graph_def: Any, names: Sequence[str]) -> None:
    """TensorFlow's shape inference over the whole graph; a shape it rejects is a :class:`ShapeError`."""
    tf = import_tensorflow()
    prepared = _copy(graph_def)
    graphfile.clear_placement(prepared)
    try:
        with tf.Graph().as_default():
            tf.compat.v1.import_graph_def(prepared, name="")  # v1 import: shape inference, no run
    except ValueError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ShapeError(f"the graph cannot take the shape given for {', '.join(names)}: {reason}") from None


def _rename(state: _State, pairs: Sequence[tuple[str, str]]) -> list[str]:
    mapping = dict(pairs)
    rename_nodes(state.graph_def, mapping)

    def renamed(info: TensorInfo) -> TensorInfo:
        node, _, port = info.name.partition(":")
        if node not in mapping:
            return info
        new = TensorInfo(f"{mapping[node]}:{port or '0'}", info.dtype, info.shape)
        state.origin[new.name] = state.original(info.name)
        return new

    state.inputs = [renamed(t) for t in state.inputs]
    state.outputs = [renamed(t) for t in state.outputs]
    return [f"{old} -> {new}" for old, new in pairs]


def rename_nodes(graph_def: Any, mapping: Mapping[str, str]) -> None:
    """In place: rename top-level nodes (``{old: new}``); data, control and colocation edges follow."""
    for node in graph_def.node:
        if node.name in mapping:
            node.name = mapping[node.name]
        for i, edge in enumerate(node.input):
            control = edge.startswith("^")
            name, sep, port = edge.lstrip("^").partition(":")
            if name in mapping:
                node.input[i] = ("^" if control else "") + mapping[name] + (sep + port if sep else "")
        if "_class" in node.attr:
            values = [raw.decode("utf-8", "replace") for raw in node.attr["_class"].list.s]
            new = [f"loc:@{mapping.get(v[5:], v[5:])}" if v.startswith("loc:@") else v for v in values]
            if new != values:
                del node.attr["_class"].list.s[:]
                node.attr["_class"].list.s.extend(v.encode() for v in new)


def strip_attrs(graph_def: Any, kinds: Sequence[str]) -> list[str]:
    """In place: clear device pins, ``_class`` colocation attrs and/or attrs at their op's default
    (library functions included); one line per kind saying how many."""
    nodes = list(graph_def.node) + [n for f in graph_def.library.function for n in f.node_def]
    changes = []
    if "devices" in kinds:
        pinned = [n for n in nodes if n.device]
        for node in pinned:
            node.device = ""
        changes.append(f"devices: cleared the pins of {len(pinned)} nodes")
    if "colocation" in kinds:
        colocated = [n for n in nodes if "_class" in n.attr]
        for node in colocated:
            del node.attr["_class"]
        changes.append(f"colocation: removed _class from {len(colocated)} nodes")
    if "default-attrs" in kinds:
        removed = strip_default_attrs(nodes)
        changes.append(f"default-attrs: removed {sum(removed.values())} attrs at their default"
                       + (f" ({', '.join(f'{k} {v}' for k, v in removed.most_common(8))})" if removed else ""))
    return changes


def strip_default_attrs(nodes: Sequence[Any]) -> Counter:
    """In place: remove attrs equal to their op's default (TensorFlow's op registry); count them by name."""
    import_tensorflow()
    from tensorflow.python.framework import op_def_registry

    removed: Counter = Counter()
    for node in nodes:
        op_def = op_def_registry.get(node.op)
        if op_def is None:
            continue
        for attr_def in op_def.attr:
            if attr_def.HasField("default_value") and attr_def.name in node.attr \
                    and node.attr[attr_def.name] == attr_def.default_value:
                del node.attr[attr_def.name]
                removed[attr_def.name] += 1
    return removed


def store_float16(graph_def: Any, min_elements: int = MIN_WEIGHT_ELEMENTS) -> list[str]:
    """In place: each float32 ``Const`` of at least ``min_elements`` values is stored as float16
    (``NAME/float16``) and cast back by a ``Cast`` named ``NAME``, so its consumers are untouched.

    Constants whose values float16 cannot hold (beyond ±65504) stay float32. Top-level nodes only.
    """
    tf = import_tensorflow()
    from tensorflow.python.framework import tensor_util

    names = {node.name for node in graph_def.node}
    converted, skipped, saved = 0, 0, 0
    added = []
    for node in graph_def.node:
        if node.op != "Const" or node.attr["dtype"].type != tf.float32.as_datatype_enum:
            continue
        value = tensor_util.MakeNdarray(node.attr["value"].tensor)
        if value.size < min_elements:
            continue
        if not np.isfinite(value).all() or np.abs(value).max() > FLOAT16_MAX:
            skipped += 1
            continue
        stored = f"{node.name}/float16"
        while stored in names:
            stored += "_"
        names.add(stored)
        half = _copy(node)
        half.name = stored
        half.attr["dtype"].type = tf.float16.as_datatype_enum
        half.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(value.astype(np.float16)))
        saved += node.attr["value"].tensor.ByteSize() - half.attr["value"].tensor.ByteSize()
        control = [edge for edge in node.input if edge.startswith("^")]
        for key in list(node.attr):
            del node.attr[key]
        del node.input[:]
        node.op = "Cast"
        node.input.append(stored)
        node.input.extend(control)
        node.attr["SrcT"].type = tf.float16.as_datatype_enum
        node.attr["DstT"].type = tf.float32.as_datatype_enum
        node.attr["Truncate"].b = False
        added.append(half)
        converted += 1
    graph_def.node.extend(added)
    changes = [f"stored {converted} float32 constants as float16 ({saved:,} bytes fewer), each cast back to float32"]
    if skipped:
        changes.append(f"kept {skipped} constants float32: values beyond float16's range (±65504) or not finite")
    return changes


def _repair_training(state: _State) -> list[str]:
    changes = repair_training_residue(state.graph_def)
    present = {node.name for node in state.graph_def.node}
    gone = [t for t in state.outputs if t.op_name not in present]
    if gone:
        changes += [f"output {t.name} dropped: it was a variable update" for t in gone]
        state.outputs = [t for t in state.outputs if t.op_name in present]
        if not state.outputs:
            raise InputError("every output was a variable update; name the model's outputs (--outputs NAME ...)")
    return changes + _prune(state)


def repair_training_residue(graph_def: Any) -> list[str]:
    """In place: a frozen TF1 training graph made an inference graph; one line per change.

    - ``RefSwitch``, ``RefMerge``... become ``Switch``, ``Merge``... (their ref inputs are constants now:
      the "expected float_ref" error);
    - an ``Assign``/``AssignAdd``/``AssignSub`` on a frozen constant (BatchNorm's moving averages)
      is removed with the control edges on it; where its value is read, it becomes ``Identity``,
      ``AddV2`` or ``Sub`` of its inputs, the value it would have written.

    A graph that still holds variables is not frozen: :class:`NotFrozenError`.
    """
    variables = sorted({n.op for n in graph_def.node if n.op in REF_SOURCE_OPS or n.op in VARIABLE_OPS
                        and n.op not in ASSIGN_OP_TWINS})
    if variables:
        raise NotFrozenError(f"the graph still holds variables ({', '.join(variables)}); freeze it first "
                             "(graphfreeze freeze CHECKPOINT -o OUT.pb)")
    changes = []
    for node in graph_def.node:
        if node.op in REF_OP_TWINS:
            changes.append(f"{node.op} {node.name} -> {REF_OP_TWINS[node.op]}")
            node.op = REF_OP_TWINS[node.op]
    read = {node_name(edge) for node in graph_def.node for edge in node.input if not edge.startswith("^")}
    removed = set()
    for node in graph_def.node:
        if node.op not in ASSIGN_OP_TWINS:
            continue
        target = node_name(node.input[0]) if node.input else "?"
        if node.name in read:
            was, node.op = node.op, ASSIGN_OP_TWINS[node.op]
            for key in ("use_locking", "validate_shape"):
                if key in node.attr:
                    del node.attr[key]
            if was == "Assign":
                data = [edge for edge in node.input if not edge.startswith("^")]
                control = [edge for edge in node.input if edge.startswith("^")]
                del node.input[:]
                node.input.extend(data[1:2] + control)
            changes.append(f"{was} {node.name} -> {node.op}: its value is read, the update on {target} is not kept")
        else:
            removed.add(node.name)
            changes.append(f"removed {node.op} {node.name} (an update of the frozen constant {target})")
    if removed:
        kept = [node for node in graph_def.node if node.name not in removed]
        for node in kept:
            edges = [edge for edge in node.input if not (edge.startswith("^") and edge[1:] in removed)]
            if len(edges) != len(node.input):
                del node.input[:]
                node.input.extend(edges)
        del graph_def.node[:]
        graph_def.node.extend(kept)
    if not changes:
        changes.append("no training residue found")
    return changes


__all__ = [
    "Binding",
    "DEFAULT_WEIGHTS_TOLERANCE",
    "EditResult",
    "EditStep",
    "FOLD_PASSES",
    "STRIP_KINDS",
    "WEIGHT_DTYPES",
    "check_request",
    "check_shapes",
    "edit",
    "op_counts",
    "op_difference",
    "parse_binding",
    "parse_rename",
    "parse_shape",
    "parse_strip",
    "read_value",
    "rename_nodes",
    "repair_training_residue",
    "store_float16",
    "strip_attrs",
    "strip_default_attrs",
    "static_shape",
    "take_constant_branches",
]
