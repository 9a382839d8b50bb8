"""Freeze a model: turn its variables into constants, in one GraphDef with its signature.

The recipe is TensorFlow's own:

1. trace the model in inference mode to a concrete function with a dynamic batch size;
2. ``convert_variables_to_constants_v2`` (importable only from
   ``tensorflow.python.framework.convert_to_constants``) replaces every variable read with
   a ``Const`` holding the value;
3. the function's graph, serialized, is the frozen ``.pb``.

Then we check the result: no variable op may survive, and its outputs must match the
original model's on the same inputs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import numpy as np

from . import files, graphfile
from .errors import InputError, ModelLoadError, NotFrozenError, TooLargeError
from .load import LoadedGraph, check_arrays, load_frozen
from .ops import STATEFUL_OPS, STATEFUL_PREFIXES
from .tensors import TensorInfo
from .tfimport import import_tensorflow
from .verify import DEFAULT_TOLERANCE, Verification, as_output_list, verify

SIDECAR_FORMAT = "graphfreeze-sidecar/1"
# Protobuf refuses to serialize or parse one message of 2 GiB or more, and a GraphDef is one message.
MAX_GRAPH_BYTES = 2**31 - 1
_OP_NAME = re.compile(r"[^A-Za-z0-9_.\-/]")


@dataclass
class FrozenGraph:
    """A frozen GraphDef with the names, dtypes and shapes of its inputs and outputs."""

    graph_def: Any = field(repr=False)
    inputs: list[TensorInfo]
    outputs: list[TensorInfo]
    source: str = ""
    verification: Optional[Verification] = None
    concrete_function: Any = field(default=None, repr=False, compare=False)  # the variable-free ConcreteFunction

    @property
    def nodes(self) -> int:
        return len(self.graph_def.node)

    @property
    def bytes(self) -> int:
        return self.graph_def.ByteSize()

    @classmethod
    def from_loaded(cls, loaded: LoadedGraph, *, source: str = "") -> "FrozenGraph":
        """A :class:`~graphfreeze_helpers.load.LoadedGraph` back as a FrozenGraph, to optimize, export or save."""
        return cls(loaded.graph_def, list(loaded.inputs), list(loaded.outputs), source=source)

    def serialize(self) -> bytes:
        return self.graph_def.SerializeToString()

    def sidecar(self, data: Optional[bytes] = None) -> dict[str, Any]:
        """The JSON record saved next to the ``.pb``: signature, versions and sha256."""
        tf = import_tensorflow()
        import keras

        data = self.serialize() if data is None else data
        record: dict[str, Any] = {
            "format": SIDECAR_FORMAT,
            "inputs": [t.to_dict() for t in self.inputs],
            "outputs": [t.to_dict() for t in self.outputs],
            "nodes": self.nodes,
            "bytes": len(data),
            "sha256": files.sha256_bytes(data),
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "source": self.source,
        }
        if self.verification is not None:
            record["max_abs_diff"] = self.verification.max_abs_diff
            record["tolerance"] = self.verification.tolerance
        return record

    def save(self, path: str | Path, *, force: bool = False) -> Path:
        """Write ``path`` and its sidecar (same name, ``.json``) atomically; return ``path``."""
        path = Path(path)
        check_save_path(path, force=force)
        check_graph_size(self.graph_def)
        data = self.serialize()
        sidecar = json.dumps(self.sidecar(data), indent=2).encode() + b"\n"
        files.write_files_atomically({path: data, sidecar_path(path): sidecar}, force=force)
        return path

    def __repr__(self) -> str:
        ins = ", ".join(map(str, self.inputs))
        outs = ", ".join(map(str, self.outputs))
        check = f", {self.verification!r}" if self.verification else ""
        return f"FrozenGraph(nodes={self.nodes}, bytes={self.bytes:,}, inputs=[{ins}], outputs=[{outs}]{check})"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{kind}</td><td><code>{t.name}</code></td><td>{t.dtype}</td><td>{t.shape}</td></tr>"
            for kind, group in (("input", self.inputs), ("output", self.outputs))
            for t in group
        )
        check = f"<p>{self.verification!r}</p>" if self.verification else ""
        return (
            f"<p><b>FrozenGraph</b>: {self.nodes} nodes, {self.bytes:,} bytes</p>"
            f"<table><tr><th></th><th>tensor</th><th>dtype</th><th>shape</th></tr>{rows}</table>{check}"
        )


sidecar_path = graphfile.sidecar_path


def as_frozen_graph(graph: FrozenGraph | str | Path) -> FrozenGraph:
    """``graph`` itself, or the frozen ``.pb`` at that path loaded (sidecar names, safety scan) as a FrozenGraph."""
    if isinstance(graph, FrozenGraph):
        return graph
    if isinstance(graph, (str, Path)):
        return FrozenGraph.from_loaded(load_frozen(graph), source=str(graph))
    raise InputError(f"expected a FrozenGraph or the path of a frozen .pb, got a {type(graph).__name__}")


def check_save_path(path: str | Path, *, force: bool = False) -> None:
    """Fail before any work where :meth:`FrozenGraph.save` would: an existing or unwritable
    ``path`` or sidecar, or a ``.json`` name, which the sidecar would overwrite."""
    path = Path(path)
    if sidecar_path(path) == path:
        raise InputError(f"output {str(path)!r} ends in .json, the name of its own sidecar; give the graph a .pb name")
    files.check_writable([path, sidecar_path(path)], force=force)


@dataclass
class _Traced:
    function: Any  # a ConcreteFunction with a dynamic batch dimension
    reference: Callable[..., Any]  # numpy arrays in, outputs out, in the frozen output order
    source: str
    keepalive: Any = None  # a loaded SavedModel owns the variables its signature reads


def load_model(path: str | Path) -> Any:
    """Load a ``.keras``/``.h5`` file with Keras, or a SavedModel directory with TensorFlow.

    Keras 3's ``load_model`` no longer reads SavedModel directories; for those we use
    ``tf.saved_model.load`` and freeze a signature instead.
    """
    path = Path(path)
    if not path.exists():
        raise ModelLoadError(f"model {str(path)!r} does not exist")
    if path.is_dir():
        if not (path / "saved_model.pb").is_file():
            raise ModelLoadError(f"directory {str(path)!r} is not a SavedModel: it has no saved_model.pb")
        tf = import_tensorflow()
        try:
            return tf.saved_model.load(str(path))
        except Exception as exc:  # TensorFlow raises many types for a damaged SavedModel
            raise ModelLoadError(f"cannot load SavedModel {str(path)!r}: {_first_line(exc)}") from None
    if path.suffix not in {".keras", ".h5", ".hdf5"}:
        raise ModelLoadError(
            f"model {str(path)!r} is not a .keras or .h5 file nor a SavedModel directory"
            + ("; a .pb is already a graph: use it directly" if path.suffix == ".pb" else "")
        )
    import_tensorflow()
    import keras

    try:
        return keras.models.load_model(str(path), compile=False)
    except Exception as exc:
        raise ModelLoadError(f"cannot load Keras model {str(path)!r}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def positional_signature(function: Any) -> tuple[list[Any], Callable[..., Any]]:
    """A SavedModel signature takes keyword tensors; return its input specs and a caller that
    takes them positionally, in the sorted-keyword order the frozen graph's inputs follow."""
    _, kwargs = function.structured_input_signature
    keys = sorted(kwargs)
    return [kwargs[key] for key in keys], lambda *xs: function(**dict(zip(keys, xs)))


def keras_input_specs(model: Any) -> list[Any]:
    """A Keras model's inputs as ``tf.TensorSpec``s with a dynamic batch size, named after the inputs."""
    tf = import_tensorflow()
    if not model.inputs:
        raise ModelLoadError("the Keras model has no defined inputs; build it with keras.Input or call it once")
    return [
        tf.TensorSpec((None, *tuple(t.shape)[1:]), t.dtype, name=_OP_NAME.sub("_", t.name) or f"input_{i}")
        for i, t in enumerate(model.inputs)
    ]


def keras_call(model: Any) -> Callable[..., Any]:
    """Call a Keras model in inference mode with its inputs given positionally (one or several)."""
    if len(model.inputs) == 1:
        return lambda *xs: model(xs[0], training=False)
    return lambda *xs: model(list(xs), training=False)


def trace_keras(model: Any) -> Any:
    """Trace a Keras model in inference mode to one ConcreteFunction with a dynamic batch size (not frozen)."""
    tf = import_tensorflow()
    return tf.function(keras_call(model), input_signature=keras_input_specs(model)).get_concrete_function()


def _trace(model: Any, signature: str) -> _Traced:
    tf = import_tensorflow()
    import keras

    if isinstance(model, (str, Path)):
        source = str(model)
        model = load_model(model)
    else:
        source = getattr(model, "name", type(model).__name__)
    check_estimated_size(model)  # before tracing anything
    if isinstance(model, keras.Model):
        return _Traced(trace_keras(model), keras_call(model), source)
    signatures = getattr(model, "signatures", None)
    if signatures is not None:
        if signature not in signatures:
            raise ModelLoadError(f"SavedModel has no signature {signature!r}; it has {sorted(signatures)}")
        function = signatures[signature]
        _, call = positional_signature(function)

        def reference(*xs: Any) -> Any:
            return call(*[tf.constant(x) for x in xs])

        return _Traced(function, reference, source, keepalive=model)
    raise ModelLoadError(
        f"cannot freeze a {type(model).__name__}: pass a keras.Model, a .keras/.h5 path or a SavedModel"
    )


def sample_inputs(specs: Sequence[TensorInfo], *, batch: int = 4, seed: int = 0) -> list[np.ndarray]:
    """Seeded random inputs that fit ``specs``: unknown dimensions become ``batch`` (first) or 5."""
    rng = np.random.default_rng(seed)
    arrays = []
    for spec in specs:
        dims = spec.shape if spec.shape is not None else (None,)
        shape = tuple((batch if i == 0 else 5) if d is None else d for i, d in enumerate(dims))
        dtype = np.dtype(spec.dtype)
        if dtype.kind in "iu":
            arrays.append(rng.integers(0, 10, size=shape).astype(dtype))
        elif dtype.kind == "b":
            arrays.append(rng.integers(0, 2, size=shape).astype(bool))
        else:
            arrays.append(rng.random(shape).astype(dtype))
    return arrays


def is_stateful_op(op: str) -> bool:
    """True for ops that read or write a variable or table, or call Python."""
    return op in STATEFUL_OPS or op.startswith(STATEFUL_PREFIXES)


def stateful_nodes(graph_def: Any) -> list[tuple[str, str]]:
    """``(node, op)`` for every variable read/handle/assign, lookup table or Python call left in a graph."""
    found = [(n.name, n.op) for n in graph_def.node if is_stateful_op(n.op)]
    found += [
        (n.name, "Placeholder(resource)")
        for n in graph_def.node
        if n.op == "Placeholder" and n.attr["dtype"].type == graphfile.DT_RESOURCE
    ]
    for function in graph_def.library.function:
        found += [(f"{function.signature.name}/{n.name}", n.op) for n in function.node_def if is_stateful_op(n.op)]
    return found


def not_frozen_reason(leftovers: Sequence[tuple[str, str]], graph_def: Any = None) -> str:
    """One sentence naming the leftover ops and their likely cause, for :class:`NotFrozenError`."""
    ops = {op for _, op in leftovers}
    listed = ", ".join(f"{node} ({op})" for node, op in leftovers[:5])
    more = f" and {len(leftovers) - 5} more" if len(leftovers) > 5 else ""
    table_ops = {n.op for n in graph_def.node} if graph_def is not None else set()
    causes = []
    if any("Table" in op for op in ops | table_ops):
        causes.append(
            "a lookup table (Keras StringLookup/IntegerLookup/TextVectorization or tf.lookup.StaticHashTable): "
            "its contents live in a resource that a GraphDef cannot hold, so do the lookup before the model "
            "or keep a SavedModel"
        )
    if ops & {"EagerPyFunc", "PyFunc", "PyFuncStateless"}:
        causes.append("tf.py_function/tf.numpy_function: Python code cannot live in a GraphDef; rewrite it in TF ops")
    if any(op.startswith(STATEFUL_PREFIXES) for op in ops):
        causes.append(
            "training-mode ops that update variables (a layer called with training=True, BatchNormalization "
            "moving statistics, a metric or optimizer step): trace the model with training=False"
        )
    if not causes:
        causes.append(
            "usual causes are a lookup table, a layer called in training mode, or tf.py_function; a resource "
            "placeholder means a variable or table the freezer could not turn into a constant"
        )
    return f"freezing left {len(leftovers)} stateful op(s): {listed}{more}; " + "; ".join(causes)


def _conversion_failed(exc: BaseException) -> str:
    message = _first_line(exc)
    if "Assign" in message or "resource" in message:
        cause = not_frozen_reason([("?", "AssignVariableOp")]).split("; ", 1)[1]
    else:
        cause = "usual causes are a lookup table, a layer called in training mode, or tf.py_function"
    return f"TensorFlow could not turn the variables into constants ({message}); {cause}"


def estimate_variable_bytes(variables: Any) -> int:
    """Bytes the variables will take as constants, from their shapes and dtypes alone (nothing is read)."""
    total = 0
    seen: set[int] = set()
    for variable in variables or ():
        if id(variable) in seen:
            continue
        seen.add(id(variable))
        dtype = getattr(variable, "dtype", "float32")
        dtype = getattr(dtype, "as_numpy_dtype", dtype)
        try:
            itemsize = np.dtype(dtype).itemsize
        except TypeError:
            itemsize = 4
        shape = getattr(variable, "shape", ())
        if hasattr(shape, "as_list"):  # a tf.TensorShape
            dims = shape.as_list() if shape.rank is not None else [0]
        else:
            dims = list(shape)
        count = 1
        for dim in dims:
            count *= int(dim or 0)  # an unknown dimension counts as 0: the estimate stays a lower bound
        total += count * itemsize
    return total


def check_estimated_size(model: Any, limit: Optional[int] = None) -> int:
    """Estimate the frozen size from the model's variables; raise :class:`TooLargeError` above ``limit``."""
    limit = MAX_GRAPH_BYTES if limit is None else limit
    estimate = estimate_variable_bytes(getattr(model, "variables", ()))
    if estimate > limit:
        raise TooLargeError(
            f"the model's variables alone take {estimate / 2**30:.2f} GiB, but one GraphDef cannot exceed "
            f"{limit / 2**30:.2f} GiB (protobuf's limit); keep it as a SavedModel (tf.saved_model.save), "
            "convert it to TFLite, or freeze smaller sub-models"
        )
    return estimate


def check_graph_size(graph_def: Any, limit: Optional[int] = None) -> int:
    """``graph_def.ByteSize()``; raise :class:`TooLargeError` above ``limit`` (before anything is written)."""
    limit = MAX_GRAPH_BYTES if limit is None else limit
    size = graph_def.ByteSize()
    if size > limit:
        raise TooLargeError(
            f"the frozen graph takes {size / 2**30:.2f} GiB, above the {limit / 2**30:.2f} GiB a GraphDef can hold "
            "(protobuf's limit); keep it as a SavedModel (tf.saved_model.save) or convert it to TFLite"
        )
    return size


def freeze(
    model: Any,
    *,
    inputs: Optional[Sequence[np.ndarray]] = None,
    tolerance: float = DEFAULT_TOLERANCE,
    signature: str = "serving_default",
    check: bool = True,
) -> FrozenGraph:
    """Freeze a ``keras.Model``, a ``.keras``/``.h5`` path or a SavedModel (path or object).

    With ``check`` (the default) the result is verified: no variable op may remain
    (:class:`NotFrozenError`) and outputs on ``inputs`` (seeded random data if not given)
    must match the original within ``tolerance`` (:class:`VerificationError`).
    """
    traced = _trace(model, signature)
    frozen = _constants_for_variables(traced)
    if check:
        check_variable_free(frozen.graph_def)
        frozen.verification = _verify_against(traced, frozen, inputs, tolerance)
    return frozen


def _constants_for_variables(traced: _Traced) -> FrozenGraph:
    """Step 2 and 3 of the recipe: every variable read becomes a Const, and the graph is serialized."""
    import_tensorflow()
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    # Keep control flow functional (If/While with a function library): lowering it to v1
    # Switch/Merge frames breaks models with several loops (stacked LSTMs) once re-imported.
    try:
        concrete_function = convert_variables_to_constants_v2(traced.function, lower_control_flow=False)
    except (ValueError, TypeError, KeyError) as exc:  # e.g. an assign whose variable just became a Const
        raise NotFrozenError(_conversion_failed(exc)) from None
    graph_def = concrete_function.graph.as_graph_def()
    check_graph_size(graph_def)
    return FrozenGraph(
        graph_def=graph_def,
        inputs=[TensorInfo.from_tensor(t) for t in concrete_function.inputs],
        outputs=[TensorInfo.from_tensor(t) for t in concrete_function.outputs],
        source=traced.source,
        concrete_function=concrete_function,
    )


def check_variable_free(graph_def: Any) -> None:
    """Raise :class:`NotFrozenError` naming the cause if a variable, table or Python call is left in ``graph_def``."""
    leftovers = stateful_nodes(graph_def)
    if leftovers:
        raise NotFrozenError(not_frozen_reason(leftovers, graph_def))


def _verify_against(
    traced: _Traced, frozen: FrozenGraph, inputs: Optional[Sequence[np.ndarray]], tolerance: float
) -> Verification:
    """Run the GraphDef (as it will be saved) and the original on the same inputs;
    raise :class:`VerificationError` beyond ``tolerance``."""
    # a wrong shape or dtype is a ShapeError naming both, not an error from inside Keras
    arrays = check_arrays(frozen.inputs, list(inputs)) if inputs is not None else sample_inputs(frozen.inputs)
    candidate = LoadedGraph(frozen.graph_def, frozen.inputs, frozen.outputs)
    return verify(
        lambda *xs: as_output_list(traced.reference(*xs)), candidate, arrays, tolerance=tolerance
    ).raise_if_failed()
