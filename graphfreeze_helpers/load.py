"""Load a frozen ``.pb`` back into a fast Python callable.

``tf.saved_model.load`` cannot read a GraphDef (it wants a SavedModel directory), so a
frozen graph is imported with ``import_graph_def``. We do that *inside* a ``tf.function``
whose arguments are mapped onto the graph's placeholders (``input_map``): the result is a
single concrete function, which TensorFlow optimizes like any other, so its constants fold
and a call costs no more than the original model's own ``tf.function``.

A graph with TF1 control flow (``Switch``/``Merge``/``Enter``/``Exit``: a v1 ``cond`` or
``while_loop``) cannot be imported that way: its loop frames break inside a ``tf.function``
("has inputs from different frames"). ``method="auto"`` (the default) runs such a graph in a
v1 ``Session`` through ``make_callable``, which keeps the frames and is the fastest way to
call it, and keeps the ``tf.function`` import for every other graph.

Graphs made elsewhere are prepared on a copy first (:func:`prepare_graph_def`): device pins
from another machine and colocation attrs naming absent nodes are cleared, and an input that
is not a placeholder (inception graphs are fed at ``Mul:0``) becomes one, cutting the graph
there. A ``PlaceholderWithDefault`` (``is_training``) is an optional input: fed when given.

The commonly copied loader (``tf.compat.v1.wrap_function`` + ``prune``) is here too, as
``method="prune"``, for comparison: called bare it pays a much larger overhead per call.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence

import numpy as np

from . import bigload, graphfile, safety
from .errors import InputError, ShapeError, TensorNameError
from .tensorproto import dtype_name
from .tensors import TensorArg, TensorInfo, format_shape, node_name, parse_tensor_args, tensor_name
from .tfimport import import_tensorflow, to_tf_graph_def

METHODS = ("auto", "import", "session", "prune", "prune_tf_function", "fed")
NUMPY_METHODS = ("session", "fed")  # methods whose ``function`` takes and returns NumPy arrays
_ARG_NAME = re.compile(r"[^A-Za-z0-9_]")


def import_as_function(graph_def: Any, inputs: Sequence[TensorInfo], outputs: Sequence[TensorInfo]) -> Any:
    """A frozen GraphDef as one ConcreteFunction: ``import_graph_def`` inside a ``tf.function``.

    The function's arguments are mapped onto the graph's input tensors (``input_map``) and
    named after them (so a LiteRT signature says ``image`` rather than ``args_0``); it
    returns the ``outputs`` tensors. TensorFlow optimizes it like any other function.

    A graph with v1 control flow is wrapped with ``wrap_function`` + ``prune`` instead
    (:func:`pruned_function`), which keeps its loop frames.
    """
    if graphfile.has_v1_control_flow(graph_def):
        return pruned_function(graph_def, inputs, outputs)
    return _imported_function(graph_def, inputs, outputs)


def _imported_function(graph_def: Any, inputs: Sequence[TensorInfo], outputs: Sequence[TensorInfo]) -> Any:
    """``import_graph_def`` inside a ``tf.function``, whatever the graph holds (v1 loops fail at call time)."""
    tf = import_tensorflow()
    graph_def = to_tf_graph_def(graph_def)
    in_names = [t.name for t in inputs]
    out_names = [t.name for t in outputs]
    arg_names: list[str] = []
    for i, t in enumerate(inputs):
        name = _ARG_NAME.sub("_", t.op_name) or f"input_{i}"
        arg_names.append(name if name not in arg_names else f"{name}_{i}")
    specs = [tf.TensorSpec(t.shape, t.dtype or None, name=name) for t, name in zip(inputs, arg_names)]

    def imported(*args: Any) -> Any:
        return tf.graph_util.import_graph_def(
            graph_def, input_map=dict(zip(in_names, args)), return_elements=out_names, name="frozen"
        )

    return tf.function(imported, input_signature=specs).get_concrete_function()


def pruned_function(graph_def: Any, inputs: Sequence[TensorInfo], outputs: Sequence[TensorInfo]) -> Any:
    """The recipe people copy: ``wrap_function`` around ``import_graph_def``, then ``prune`` to the tensors.

    ``tf.compat.v1`` is the only way TF2 offers to wrap a GraphDef; it keeps v1 loop frames.
    """
    tf = import_tensorflow()
    graph_def = to_tf_graph_def(graph_def)
    wrapped = tf.compat.v1.wrap_function(lambda: tf.compat.v1.import_graph_def(graph_def, name=""), [])
    graph = wrapped.graph
    return wrapped.prune(
        [graph.as_graph_element(t.name) for t in inputs], [graph.as_graph_element(t.name) for t in outputs]
    )


def choose_method(graph_def: Any) -> str:
    """What ``method="auto"`` picks: ``"session"`` for a graph with v1 control flow, ``"fed"`` for a graph
    whose large constants take :data:`.bigload.LARGE_GRAPH_BYTES` or more, else ``"import"``."""
    if graphfile.has_v1_control_flow(graph_def):
        return "session"
    return "fed" if bigload.is_large(graph_def) else "import"


def prepare_graph_def(
    graph_def: Any, inputs: Sequence[TensorInfo | TensorArg], outputs: Sequence[TensorInfo | TensorArg]
) -> tuple[Any, list[TensorInfo]]:
    """A graph made elsewhere made loadable, on a copy (the argument is never changed): ``(graph_def, inputs)``.

    - device pins are cleared, and colocation attrs naming absent nodes dropped
      (:func:`.graphfile.clear_placement`);
    - an input that is not a placeholder becomes a ``Placeholder`` of its dtype, and the
      nodes that only fed it are pruned: the graph is cut there;
    - an input given with a shape gets it as its placeholder's static shape;
    - a ``RefSwitch`` (or another ref-typed v1 op) left in a graph without variables
      becomes its plain twin (:func:`.graphfile.replace_ref_ops`).

    Returns the graph unchanged (not copied) when there is nothing to do, and the inputs as
    :class:`TensorInfo` with their dtypes and shapes. Needs TensorFlow (its op registry
    tells the dtype of a tensor that is cut).
    """
    tf = import_tensorflow()
    nodes = {node.name: node for node in graph_def.node}
    infos: list[TensorInfo] = []
    cuts: list[TensorInfo] = []
    shaped: list[TensorInfo] = []
    for raw in inputs:
        node = nodes.get(node_name(raw.name))
        if node is None:
            raise TensorNameError(_unknown_name_message("input", raw.name, graph_def))
        given = raw.shape
        if node.op in ("Placeholder", "PlaceholderWithDefault"):
            info = graphfile.placeholder_info(node)
            if given is not None and given != info.shape:
                info = TensorInfo(info.name, info.dtype, given)
                shaped.append(info)
        else:
            index = int(tensor_name(raw.name).rpartition(":")[2])
            if index != 0:
                raise InputError(
                    f"cannot cut the graph at {raw.name!r}: only a node's first output (:0) can become an input"
                )
            needed = needed_nodes(graph_def, [node_name(t.name) for t in outputs], stop={t.op_name for t in inputs})
            others = sorted({edge for n in graph_def.node if n.name in needed for edge in n.input
                             if node_name(edge) == node.name and not edge.startswith("^")
                             and tensor_name(edge) != tensor_name(raw.name)})
            if others:
                raise InputError(
                    f"cannot cut the graph at {raw.name!r}: the graph also uses {others[0]!r}, another output of "
                    f"{node.name!r}; cut at the tensors that feed {node.name!r} instead"
                )
            info = TensorInfo(tensor_name(raw.name), _output_dtype(tf, node, index), given)
            cuts.append(info)
        infos.append(info)
    if not (cuts or shaped or graphfile.needs_placement_cleared(graph_def) or graphfile.stale_ref_ops(graph_def)):
        return graph_def, infos
    prepared = type(graph_def)()
    prepared.CopyFrom(graph_def)
    by_name = {node.name: node for node in prepared.node}
    for info in cuts + shaped:
        node = by_name[info.op_name]
        if node.op != "Placeholder" and node.op != "PlaceholderWithDefault":
            for key in list(node.attr):
                del node.attr[key]
            del node.input[:]
            node.op = "Placeholder"
            node.attr["dtype"].type = tf.as_dtype(info.dtype).as_datatype_enum
        if info.shape is not None:
            node.attr["shape"].shape.CopyFrom(tf.TensorShape(info.shape).as_proto())
    if cuts:
        _prune(prepared, [t.op_name for t in infos] + [node_name(t.name) for t in outputs])
    graphfile.clear_placement(prepared)
    graphfile.replace_ref_ops(prepared)
    return prepared, infos


def _output_dtype(tf: Any, node: Any, index: int) -> str:
    """The dtype of output ``index`` of ``node``, from TensorFlow's op registry and the node's attrs."""
    from tensorflow.python.framework import op_def_registry

    op_def = op_def_registry.get(node.op)
    if op_def is not None and index < len(op_def.output_arg):
        arg = op_def.output_arg[index]
        if arg.type:
            return tf.as_dtype(arg.type).name
        if arg.type_attr and arg.type_attr in node.attr:
            return tf.as_dtype(node.attr[arg.type_attr].type).name
    for key in ("output_type", "out_type", "DstT", "dtype", "T"):
        if key in node.attr and node.attr[key].type:
            return tf.as_dtype(node.attr[key].type).name
    raise InputError(f"cannot tell the dtype of {node.name}:{index} (a {node.op}); feed the graph elsewhere")


def needed_nodes(graph_def: Any, keep: Sequence[str], stop: frozenset[str] | set[str] = frozenset()) -> set[str]:
    """The nodes ``keep`` needs through data and control edges, not looking past the nodes in ``stop``."""
    nodes = {node.name: node for node in graph_def.node}
    needed: set[str] = set()
    stack = [name for name in keep if name in nodes]
    while stack:
        name = stack.pop()
        if name in needed:
            continue
        needed.add(name)
        if name not in stop:
            stack.extend(node_name(edge) for edge in nodes[name].input if node_name(edge) in nodes)
    return needed


def _prune(graph_def: Any, keep: Sequence[str]) -> None:
    """In place: keep only the nodes ``keep`` needs (data and control edges), in their order."""
    needed = needed_nodes(graph_def, keep)
    kept = [node for node in graph_def.node if node.name in needed]
    if len(kept) < len(graph_def.node):
        copies = [type(node)() for node in kept]
        for copy, node in zip(copies, kept):
            copy.CopyFrom(node)
        del graph_def.node[:]
        graph_def.node.extend(copies)


class LoadedGraph:
    """A frozen GraphDef loaded into TensorFlow as a callable: NumPy arrays in, NumPy array(s) out.

    A :class:`~graphfreeze_helpers.freeze.FrozenGraph` is the graph as data (to save, optimize
    or export); a LoadedGraph runs it. ``graph_def`` is the graph as prepared for loading
    (:func:`prepare_graph_def`). ``function`` is what a call runs: a TensorFlow function
    (tensors in and out) for ``"import"`` and ``"prune"``, a ``Session`` callable (NumPy in
    and out) for ``"session"``. ``optional_inputs`` are the ``PlaceholderWithDefault``
    tensors not listed as inputs: pass them by node name, ``loaded(x, is_training=True)``.
    """

    def __init__(
        self,
        graph_def: Any,
        inputs: Sequence[TensorInfo | TensorArg],
        outputs: Sequence[TensorInfo | TensorArg],
        *,
        method: str = "auto",
    ) -> None:
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        self.tf = tf = import_tensorflow()
        graph_def, in_infos = prepare_graph_def(to_tf_graph_def(graph_def), inputs, outputs)
        self.graph_def = graph_def
        self.inputs = in_infos
        self.outputs = [t if isinstance(t, TensorInfo) else TensorInfo(t.name, "", None) for t in outputs]
        self.method = choose_method(graph_def) if method == "auto" else method
        _check_names(graph_def, self.inputs, self.outputs)
        listed = {t.name for t in self.inputs}
        self.optional_inputs = [t for t in graphfile.optional_inputs(graph_def) if t.name not in listed]
        self._functions: dict[tuple[str, ...], Callable[..., Any]] = {}
        if self.method == "fed":  # constants held once, in NumPy, fed on every call (see bigload)
            self._fed = bigload.FedSession(graph_def)
            self._graph = self._fed.graph
            self.outputs = [TensorInfo.from_tensor(self._graph.get_tensor_by_name(t.name)) for t in self.outputs]
        elif self.method == "session":
            self._graph = tf.Graph()
            with self._graph.as_default():
                # tf.compat.v1: a Session is what keeps TF1 loop frames intact; TF2 has no other way.
                tf.compat.v1.import_graph_def(graph_def, name="")
            self._session = tf.compat.v1.Session(graph=self._graph)
            fetched = [self._graph.get_tensor_by_name(t.name) for t in self.outputs]
            self.outputs = [TensorInfo.from_tensor(t) for t in fetched]  # imported with name="": names unchanged
        self.function = self._function(())
        if self.method not in NUMPY_METHODS:
            # Fill in dtypes and shapes that a graph without a sidecar did not declare.
            concrete = self.function if self.method != "prune_tf_function" else self.function.get_concrete_function()
            self.outputs = [
                TensorInfo(t.name, out.dtype.name, tuple(out.shape.as_list()) if out.shape.rank is not None else None)
                for t, out in zip(self.outputs, concrete.outputs)
            ]

    def _function(self, optional: tuple[str, ...]) -> Callable[..., Any]:
        """What a call runs when the ``optional`` inputs (names) are fed too; built once per set."""
        if optional in self._functions:
            return self._functions[optional]
        tf = self.tf
        fed = self.inputs + [t for t in self.optional_inputs if t.name in optional]
        if self.method == "fed":
            function = self._fed.callable(self.outputs, fed)
        elif self.method == "session":
            graph = self._graph
            function = self._session.make_callable(
                [graph.get_tensor_by_name(t.name) for t in self.outputs],
                [graph.get_tensor_by_name(t.name) for t in fed],
            )
        elif self.method == "import":
            function = _imported_function(self.graph_def, fed, self.outputs)
        else:
            function = pruned_function(self.graph_def, fed, self.outputs)
            if self.method == "prune_tf_function":
                specs = [tf.TensorSpec(t.shape, t.dtype or None) for t in fed]
                function = tf.function(function, input_signature=specs)
        self._functions[optional] = function
        return function

    def check_inputs(self, arrays: Sequence[Any]) -> list[np.ndarray]:
        """Return ``arrays`` as NumPy arrays of the graph's dtypes, or raise :class:`ShapeError`."""
        return check_arrays(self.inputs, arrays)

    def __call__(self, *arrays: Any, **optional: Any) -> Any:
        """Run the graph; one output comes back as an array, several as a list.

        ``optional``: values for optional inputs (``PlaceholderWithDefault``), by node name.
        """
        checked = check_arrays(self.inputs, arrays)
        names: list[str] = []
        for key, value in optional.items():
            spec = self._optional_spec(key)
            checked += check_arrays([spec], [value])
            names.append(spec.name)
        out = self._run(checked, tuple(names))
        return out[0] if len(out) == 1 else out

    def _optional_spec(self, key: str) -> TensorInfo:
        for spec in self.optional_inputs:
            if spec.name == tensor_name(key):
                return spec
        known = [t.op_name for t in self.optional_inputs]
        raise TensorNameError(f"no optional input {key!r} in graph; optional inputs are {known}")

    def _run(self, arrays: Sequence[np.ndarray], optional: tuple[str, ...]) -> list[np.ndarray]:
        function = self._functions.get(optional) or self._function(optional)
        if self.method in NUMPY_METHODS:
            return list(function(*arrays))  # NumPy already
        results = function(*[self.tf.constant(a) for a in arrays])
        if not isinstance(results, (list, tuple)):
            results = [results]
        return [np.asarray(r.numpy() if hasattr(r, "numpy") else r) for r in results]  # scalar strings: bytes

    def run(self, feeds: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Run on named arrays, ``{"image": x, "is_training": True}``; the outputs by tensor name.

        Every input needs an array (by ``node`` or ``node:0``); an optional input is fed only
        when given. Raises :class:`TensorNameError` on a name the graph does not take.
        """
        by_name = {tensor_name(key): value for key, value in feeds.items()}
        missing = [t.name for t in self.inputs if t.name not in by_name]
        if missing:
            raise TensorNameError(
                f"no array for input(s) {missing}; the graph takes {[t.name for t in self.inputs]}"
                + (f" and optionally {[t.name for t in self.optional_inputs]}" if self.optional_inputs else "")
            )
        known = {t.name for t in self.inputs} | {t.name for t in self.optional_inputs}
        unknown = [name for name in by_name if name not in known]
        if unknown:
            raise TensorNameError(
                f"the graph takes no input {unknown[0]!r}; inputs are {sorted(known)}"
            )
        checked = self.check_inputs([by_name[t.name] for t in self.inputs])
        fed = [t for t in self.optional_inputs if t.name in by_name]
        checked += check_arrays(fed, [by_name[t.name] for t in fed])
        results = self._run(checked, tuple(t.name for t in fed))
        return dict(zip([t.name for t in self.outputs], results))

    def __repr__(self) -> str:
        ins = ", ".join(map(str, self.inputs))
        outs = ", ".join(map(str, self.outputs))
        optional = ", optional=[" + ", ".join(map(str, self.optional_inputs)) + "]" if self.optional_inputs else ""
        return f"LoadedGraph(method={self.method!r}, inputs=[{ins}]{optional}, outputs=[{outs}])"


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
        known = [t.name for t in graphfile.placeholder_inputs(graph_def) + graphfile.optional_inputs(graph_def)]
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
    inputs: Optional[Sequence[str | TensorArg]] = None,
    outputs: Optional[Sequence[str | TensorArg]] = None,
    method: str = "auto",
    allow_unsafe: bool = False,
    graph_def: Any = None,
) -> LoadedGraph:
    """Load a frozen ``.pb`` as a :class:`LoadedGraph`.

    Tensor names come from ``inputs``/``outputs`` if given, else from the sidecar
    (``model.json``) if there is one, else the placeholders and the graph's sinks. A name
    is ``node`` or ``node:0``; an input may be any tensor (the graph is cut there) and may
    carry a shape, ``"image[?,224,224,3]"`` (see :func:`.tensors.parse_tensor_arg`).

    ``method``: ``"auto"`` (a v1 ``Session`` for graphs with v1 control flow, else
    ``"import"``), or one of :data:`METHODS` to choose.

    The graph is scanned first (:func:`.safety.check`): an op outside the shipped allow-list
    (whatever the running TensorFlow has registered) or a deny-list finding is refused with
    :class:`UnsafeGraphError`, one line per op, unless ``allow_unsafe=True``.

    Pass ``graph_def`` when ``path`` was already read with
    ``graphfile.read_graph_def(path, check_edges=True)``, so the file is not read twice.
    """
    tf = import_tensorflow()
    if graph_def is None:
        graph_def = graphfile.read_graph_def(path, graph_def=tf.compat.v1.GraphDef(), check_edges=True)
    safety.refuse_unless_safe(graph_def, repr(str(path)), allow_unsafe=allow_unsafe)
    in_infos, out_infos = resolve_signature(path, graph_def, inputs=inputs, outputs=outputs)
    return LoadedGraph(graph_def, in_infos, out_infos, method=method)


def resolve_signature(
    path: Optional[str | Path],
    graph_def: Any,
    *,
    inputs: Optional[Sequence[str | TensorArg]] = None,
    outputs: Optional[Sequence[str | TensorArg]] = None,
) -> tuple[list[TensorInfo], list[TensorInfo]]:
    """The input and output tensors :func:`load_frozen` will use, checked against the graph (no TensorFlow).

    An input that is not a placeholder keeps the dtype its node's attrs tell (``""`` when
    they do not) and the shape given with it. Raises :class:`TensorNameError` listing the
    real names and the closest match.
    """
    signature = graphfile.sidecar_signature(path) if path is not None else None
    nodes = {node.name: node for node in graph_def.node}
    if inputs is not None:
        in_infos = []
        for arg in parse_tensor_args(inputs):
            node = nodes.get(arg.op_name)
            if node is None:
                raise TensorNameError(_unknown_name_message("input", arg.name, graph_def))
            if node.op in ("Placeholder", "PlaceholderWithDefault"):
                info = graphfile.placeholder_info(node)
                dtype, shape = info.dtype, info.shape
            else:
                dtype, shape = _attr_dtype(node), None
            in_infos.append(TensorInfo(arg.name, dtype, arg.shape if arg.shape is not None else shape))
    elif signature is not None:
        in_infos = signature[0]
    else:
        in_infos = graphfile.placeholder_inputs(graph_def)
    if outputs is not None:
        out_infos = [TensorInfo(arg.name, "", None) for arg in parse_tensor_args(outputs)]
    elif signature is not None:
        out_infos = signature[1]
    else:
        out_infos = [TensorInfo(n, "", None) for n in graphfile.sink_outputs(graph_def)]
    _check_names(graph_def, in_infos, out_infos)
    return in_infos, out_infos


def _attr_dtype(node: Any) -> str:
    """The dtype a node's attrs suggest for its output (``T``, ``dtype``, ...), or ``""`` (no TensorFlow)."""
    for key in ("output_type", "out_type", "DstT", "dtype", "T"):
        if key in node.attr and node.attr[key].type:
            return dtype_name(node.attr[key].type)
    return ""
