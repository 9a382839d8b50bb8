"""Load a frozen ``.pb`` back into a fast Python callable.

``tf.saved_model.load`` cannot read a GraphDef (it wants a SavedModel directory), so a
frozen graph is imported with ``import_graph_def``. We do that *inside* a ``tf.function``
whose arguments are mapped onto the graph's placeholders (``input_map``): the result is a
single concrete function, which TensorFlow optimizes like any other, so its constants fold
and a call costs no more than the original model's own ``tf.function``.

The commonly copied loader (``tf.compat.v1.wrap_function`` + ``prune``) is here too, as
``method="prune"``, for comparison: called bare it pays a much larger overhead per call.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from . import graphfile, safety
from .errors import ShapeError, TensorNameError, UnsafeGraphError
from .tensors import TensorInfo, format_shape, tensor_name
from .tfimport import import_tensorflow, to_tf_graph_def

METHODS = ("import", "prune", "prune_tf_function")
_ARG_NAME = re.compile(r"[^A-Za-z0-9_]")


def import_as_function(graph_def: Any, inputs: Sequence[TensorInfo], outputs: Sequence[TensorInfo]) -> Any:
    """A frozen GraphDef as one ConcreteFunction: ``import_graph_def`` inside a ``tf.function``.

    The function's arguments are mapped onto the graph's input tensors (``input_map``) and
    named after them (so a LiteRT signature says ``image`` rather than ``args_0``); it
    returns the ``outputs`` tensors. TensorFlow optimizes it like any other function.
    """
    tf = import_tensorflow()
    graph_def = to_tf_graph_def(graph_def)
    in_names = [t.name for t in inputs]
    out_names = [t.name for t in outputs]
    arg_names: list[str] = []
    for i, t in enumerate(inputs):
        name = _ARG_NAME.sub("_", t.op_name) or f"input_{i}"
        arg_names.append(name if name not in arg_names else f"{name}_{i}")
    specs = [tf.TensorSpec(t.shape, t.dtype, name=name) for t, name in zip(inputs, arg_names)]

    def imported(*args: Any) -> Any:
        return tf.graph_util.import_graph_def(
            graph_def, input_map=dict(zip(in_names, args)), return_elements=out_names, name="frozen"
        )

    return tf.function(imported, input_signature=specs).get_concrete_function()


class LoadedGraph:
    """A frozen GraphDef loaded into TensorFlow as a callable: NumPy arrays in, NumPy array(s) out.

    A :class:`~graphfreeze_helpers.freeze.FrozenGraph` is the graph as data (to save, optimize
    or export); a LoadedGraph runs it. ``function`` is the TensorFlow function it calls.
    """

    def __init__(
        self,
        graph_def: Any,
        inputs: Sequence[TensorInfo],
        outputs: Sequence[TensorInfo],
        *,
        method: str = "import",
    ) -> None:
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        self.tf = tf = import_tensorflow()
        graph_def = to_tf_graph_def(graph_def)
        self.graph_def = graph_def
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        self.method = method
        _check_names(graph_def, self.inputs, self.outputs)
        if method == "import":
            self.function = import_as_function(graph_def, self.inputs, self.outputs)
        else:
            # The recipe people copy; tf.compat.v1 is the only way TF2 offers to wrap a GraphDef.
            in_names = [t.name for t in self.inputs]
            out_names = [t.name for t in self.outputs]
            wrapped = tf.compat.v1.wrap_function(lambda: tf.compat.v1.import_graph_def(graph_def, name=""), [])
            graph = wrapped.graph
            self.function = wrapped.prune(
                [graph.as_graph_element(n) for n in in_names], [graph.as_graph_element(n) for n in out_names]
            )
            if method == "prune_tf_function":
                specs = [tf.TensorSpec(t.shape, t.dtype) for t in self.inputs]
                self.function = tf.function(self.function, input_signature=specs)
        # Fill in dtypes and shapes that a graph without a sidecar did not declare.
        concrete = self.function if method != "prune_tf_function" else self.function.get_concrete_function()
        self.outputs = [
            TensorInfo(t.name, out.dtype.name, tuple(out.shape.as_list()) if out.shape.rank is not None else None)
            for t, out in zip(self.outputs, concrete.outputs)
        ]

    def check_inputs(self, arrays: Sequence[Any]) -> list[np.ndarray]:
        """Return ``arrays`` as NumPy arrays of the graph's dtypes, or raise :class:`ShapeError`."""
        return check_arrays(self.inputs, arrays)

    def __call__(self, *arrays: Any) -> Any:
        """Run the graph; one output comes back as an array, several as a list."""
        checked = self.check_inputs(arrays)
        results = self.function(*[self.tf.constant(a) for a in checked])
        if not isinstance(results, (list, tuple)):
            results = [results]
        out = [np.asarray(r.numpy()) for r in results]  # a scalar string comes back as bytes
        return out[0] if len(out) == 1 else out

    def __repr__(self) -> str:
        ins = ", ".join(map(str, self.inputs))
        outs = ", ".join(map(str, self.outputs))
        return f"LoadedGraph(method={self.method!r}, inputs=[{ins}], outputs=[{outs}])"


def check_arrays(specs: Sequence[TensorInfo], arrays: Sequence[Any]) -> list[np.ndarray]:
    """Return ``arrays`` as NumPy arrays of the ``specs``' dtypes, or raise :class:`ShapeError` (no TensorFlow)."""
    if len(arrays) != len(specs):
        names = [t.name for t in specs]
        raise ShapeError(f"graph takes {len(specs)} input(s) {names}, got {len(arrays)}")
    checked = []
    for spec, raw in zip(specs, arrays):
        array = np.asarray(raw)
        if spec.dtype == "string":  # NumPy has no such dtype: bytes, str or object arrays all feed a tf.string
            if array.dtype.kind not in "SUO":
                raise ShapeError(f"input {spec.name!r} wants strings, got dtype {array.dtype.name}")
            want = array.dtype
        else:
            try:
                want = np.dtype(spec.dtype)
            except TypeError:  # bfloat16, variant, ...: NumPy cannot say; TensorFlow will
                checked.append(array)
                continue
        if array.dtype != want:
            same_kind = array.dtype.kind == want.kind or (array.dtype.kind in "iub" and want.kind in "iu")
            if not same_kind:
                raise ShapeError(f"input {spec.name!r} wants dtype {want.name}, got {array.dtype.name}")
            array = array.astype(want)
        if spec.shape is not None:
            fits = array.ndim == len(spec.shape) and all(
                d is None or d == a for d, a in zip(spec.shape, array.shape)
            )
            if not fits:
                raise ShapeError(
                    f"input {spec.name!r} wants shape {format_shape(spec.shape)} (None = any size), "
                    f"got {tuple(array.shape)}"
                )
        checked.append(array)
    return checked


def _check_names(graph_def: Any, inputs: Sequence[TensorInfo], outputs: Sequence[TensorInfo]) -> None:
    nodes = {node.name for node in graph_def.node}
    for kind, tensors in (("input", inputs), ("output", outputs)):
        for t in tensors:
            if t.op_name not in nodes:
                raise TensorNameError(_unknown_name_message(kind, t.name, graph_def))


def _unknown_name_message(kind: str, name: str, graph_def: Any) -> str:
    if kind == "input":
        known = [t.name for t in graphfile.placeholder_inputs(graph_def)]
    else:
        known = graphfile.sink_outputs(graph_def)
    everything = [f"{n.name}:0" for n in graph_def.node]
    close = difflib.get_close_matches(name, known + everything, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"no {kind} tensor {name!r} in graph; {kind}s are {known}{hint}"


class RegisteredOps:
    """``op in RegisteredOps()``: is the op in the running TensorFlow's registry (custom op libraries included)?"""

    def __init__(self) -> None:
        from tensorflow.python.framework import op_def_registry

        self._get = op_def_registry.get

    def __contains__(self, op: object) -> bool:
        return isinstance(op, str) and self._get(op) is not None


def load_frozen(
    path: str | Path,
    *,
    inputs: Optional[Sequence[str]] = None,
    outputs: Optional[Sequence[str]] = None,
    method: str = "import",
    allow_unsafe: bool = False,
    graph_def: Any = None,
) -> LoadedGraph:
    """Load a frozen ``.pb`` as a :class:`LoadedGraph`.

    Tensor names come from ``inputs``/``outputs`` if given, else from the sidecar
    (``model.json``) if there is one, else the placeholders and the graph's sinks.

    The graph is scanned first (:func:`.safety.scan`, with TensorFlow's own op registry
    deciding which ops are unknown); a graph with flagged ops is refused with
    :class:`UnsafeGraphError` unless ``allow_unsafe=True``.

    Pass ``graph_def`` when ``path`` was already read with
    ``graphfile.read_graph_def(path, check_edges=True)``, so the file is not read twice.
    """
    tf = import_tensorflow()
    if graph_def is None:
        graph_def = graphfile.read_graph_def(path, graph_def=tf.compat.v1.GraphDef(), check_edges=True)
    if not allow_unsafe:
        found = safety.scan(graph_def, known_ops=RegisteredOps())
        if found:
            raise UnsafeGraphError(safety.refusal_message(repr(str(path)), found))
    in_infos, out_infos = resolve_signature(path, graph_def, inputs=inputs, outputs=outputs)
    return LoadedGraph(graph_def, in_infos, out_infos, method=method)


def resolve_signature(
    path: str | Path,
    graph_def: Any,
    *,
    inputs: Optional[Sequence[str]] = None,
    outputs: Optional[Sequence[str]] = None,
) -> tuple[list[TensorInfo], list[TensorInfo]]:
    """The input and output tensors :func:`load_frozen` will use, checked against the graph (no TensorFlow).

    Raises :class:`TensorNameError` listing the real names and the closest match.
    """
    signature = graphfile.sidecar_signature(path)
    placeholders = {t.name: t for t in graphfile.placeholder_inputs(graph_def)}
    if inputs is not None:
        in_infos = []
        for raw in inputs:
            name = tensor_name(raw)
            if name not in placeholders:
                raise TensorNameError(_unknown_name_message("input", name, graph_def))
            in_infos.append(placeholders[name])
    elif signature is not None:
        in_infos = signature[0]
    else:
        in_infos = list(placeholders.values())
    if outputs is not None:
        out_infos = [TensorInfo(tensor_name(n), "", None) for n in outputs]
    elif signature is not None:
        out_infos = signature[1]
    else:
        out_infos = [TensorInfo(n, "", None) for n in graphfile.sink_outputs(graph_def)]
    _check_names(graph_def, in_infos, out_infos)
    return in_infos, out_infos
