"""Freeze a model: turn its variables into constants, in one GraphDef with its signature.

The recipe is TensorFlow's own:

1. trace the model in inference mode to a concrete function with a dynamic batch size;
2. ``convert_variables_to_constants_v2`` (importable only from
   ``tensorflow.python.framework.convert_to_constants``) replaces every variable read with
   a ``Const`` holding the value;
3. the function's graph, serialized, is the frozen ``.pb``.

Then we check the result: no variable op may survive, and its outputs must match the
original model's on the same inputs.

TF1 artifacts take TF1's recipe instead (:mod:`.freeze_tf1`): a checkpoint (``.meta`` and
its variables), and a SavedModel that ``tf.saved_model.load`` cannot revive, are restored
into a v1 ``Session`` and frozen with ``convert_variables_to_constants``; the result is
verified against a Session run of the restored original. ``FrozenGraph.loader`` says which
loader read the model.
"""

from __future__ import annotations

import gc
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence

import numpy as np

from . import bigfreeze, bigload, files, graphfile, safety, tensorproto
from .errors import GraphFreezeError, InputError, ModelLoadError, NotFrozenError, TooLargeError
from .freeze_tf1 import SessionArtifact, is_checkpoint, load_v1_saved_model, restore_checkpoint
from .load import LoadedGraph, check_arrays, load_frozen
from .ops import BROADCAST_OPS, FORWARDING_OPS, IMAGE_DECODE_OPS, SHAPE_KEEPING_OPS, STATEFUL_OPS, STATEFUL_PREFIXES
from .tensors import TensorInfo, node_name, parse_tensor_arg, tensor_name
from .tfimport import import_tensorflow
from .verify import DEFAULT_RTOL, DEFAULT_TOLERANCE, Verification, as_output_list, input_list, verify

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
    loader: str = ""  # which loader read the model, in one line ("" for a model given in memory)

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

    def sidecar(self, data: Optional[bytes] = None, *, written: Optional[tuple[int, str]] = None) -> dict[str, Any]:
        """The JSON record saved next to the ``.pb``: signature, versions and sha256 (of ``data``, or
        ``written = (bytes, sha256)`` as :func:`.bigfreeze.write_graph_def` returns them)."""
        tf = import_tensorflow()
        import keras

        if written is None:
            data = self.serialize() if data is None else data
            written = (len(data), files.sha256_bytes(data))
        record: dict[str, Any] = {
            "format": SIDECAR_FORMAT,
            "inputs": [t.to_dict() for t in self.inputs],
            "outputs": [t.to_dict() for t in self.outputs],
            "nodes": self.nodes,
            "bytes": written[0],
            "sha256": written[1],
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "source": self.source,
        }
        if self.loader:
            record["loader"] = self.loader
        if self.verification is not None:
            record["max_abs_diff"] = self.verification.max_abs_diff
            record["tolerance"] = self.verification.tolerance
            record["rtol"] = self.verification.rtol  # allowed: tolerance + rtol * |original|, value by value
        return record

    def save(self, path: str | Path, *, force: bool = False, progress: Optional[bigfreeze.Progress] = None) -> Path:
        """Write ``path`` and its sidecar (same name, ``.json``) atomically; return ``path``.

        A large graph (:data:`.bigload.LARGE_GRAPH_BYTES`) is written node by node and hashed as
        it is written, never held serialized whole; ``progress(stage, done, total)`` hears of it.
        """
        path = Path(path)
        check_save_path(path, force=force)
        size = check_graph_size(self.graph_def)
        if size >= bigload.LARGE_GRAPH_BYTES:
            return self._save_streamed(path, size, force=force, progress=progress)
        data = self.serialize()
        sidecar = json.dumps(self.sidecar(data), indent=2).encode() + b"\n"
        files.write_files_atomically({path: data, sidecar_path(path): sidecar}, force=force)
        return path

    def _save_streamed(self, path: Path, size: int, *, force: bool, progress: Optional[bigfreeze.Progress]) -> Path:
        written: list[tuple[int, str]] = []

        def write_graph(handle: Any) -> None:
            written.append(bigfreeze.write_graph_def(handle, self.graph_def, progress=progress, total=size))

        def write_sidecar(handle: Any) -> None:
            handle.write(json.dumps(self.sidecar(written=written[0]), indent=2).encode() + b"\n")

        files.write_files_atomically({path: write_graph, sidecar_path(path): write_sidecar}, force=force)
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


def as_frozen_graph(
    graph: FrozenGraph | str | Path, *, inputs: Optional[Sequence[Any]] = None, outputs: Optional[Sequence[Any]] = None,
    allow_unsafe: bool = False,
) -> FrozenGraph:
    """``graph`` itself, or the frozen ``.pb`` at that path loaded (sidecar names, safety scan) as a FrozenGraph.

    ``inputs``/``outputs`` (``"x"``, ``"image[?,224,224,3]"``, as for :func:`load_frozen`)
    choose other tensors: the graph is loaded again with them (cut at the inputs).
    ``allow_unsafe`` loads a path the safety scan refuses (see :func:`load_frozen`).
    """
    if isinstance(graph, FrozenGraph):
        if inputs is None and outputs is None:
            return graph
        ins = graph.inputs if inputs is None else _tensor_args(inputs)
        outs = graph.outputs if outputs is None else _tensor_args(outputs)
        loaded = LoadedGraph(graph.graph_def, ins, outs)
        return FrozenGraph.from_loaded(loaded, source=graph.source)
    if isinstance(graph, (str, Path)):
        loaded = load_frozen(graph, inputs=inputs, outputs=outputs, allow_unsafe=allow_unsafe)
        return FrozenGraph.from_loaded(loaded, source=str(graph))
    raise InputError(f"expected a FrozenGraph or the path of a frozen .pb, got a {type(graph).__name__}")


def _tensor_args(given: Sequence[Any]) -> list[Any]:
    """Names (``"x"``, ``"image[?,224,224,3]"``) as TensorArgs; TensorInfos and TensorArgs as they are."""
    return [t if isinstance(t, TensorInfo) else parse_tensor_arg(t) for t in given]


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
    loader: str = ""


def load_model(path: str | Path, *, allow_unsafe: bool = False) -> Any:
    """Load a ``.keras``/``.h5`` file with Keras, or a SavedModel directory with TensorFlow.

    Keras 3's ``load_model`` no longer reads SavedModel directories; for those we use
    ``tf.saved_model.load`` and freeze a signature instead. A SavedModel is a program: it is
    scanned first (:func:`.safety.check_saved_model`) and refused with :class:`UnsafeGraphError`
    unless ``allow_unsafe=True``, before any of its functions runs.
    """
    path = Path(path)
    if not path.exists():
        raise ModelLoadError(f"model {str(path)!r} does not exist")
    if path.is_dir():
        if not (path / "saved_model.pb").is_file():
            raise ModelLoadError(f"directory {str(path)!r} is not a SavedModel: it has no saved_model.pb")
        safety.refuse_unsafe_saved_model(path, allow_unsafe=allow_unsafe)
        tf = import_tensorflow()
        try:
            return tf.saved_model.load(str(path))
        except Exception as exc:  # TensorFlow raises many types for a damaged SavedModel
            raise ReviveError(f"cannot load SavedModel {str(path)!r}: {_first_line(exc)}", exc) from None
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


class ReviveError(ModelLoadError):
    """TF2's ``tf.saved_model.load`` cannot revive a SavedModel (TF's v1 loader may still read it)."""

    def __init__(self, message: str, cause: BaseException) -> None:
        super().__init__(message)
        self.cause = f"{type(cause).__name__}: {_first_line(cause)}"


TF2_SAVED_MODEL_LOADER = "tf.saved_model.load (TF2)"
KERAS_LOADER = "keras.models.load_model"


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


def _trace(model: Any, signature: str, allow_unsafe: bool = False) -> _Traced:
    tf = import_tensorflow()
    import keras

    loader = ""
    if isinstance(model, (str, Path)):
        source = str(model)
        model = load_model(model, allow_unsafe=allow_unsafe)
        loader = KERAS_LOADER if isinstance(model, keras.Model) else TF2_SAVED_MODEL_LOADER
    else:
        source = getattr(model, "name", type(model).__name__)
    check_estimated_size(model)  # before tracing anything
    if isinstance(model, keras.Model):
        return _Traced(trace_keras(model), keras_call(model), source, loader=loader)
    signatures = getattr(model, "signatures", None)
    if signatures is not None:
        if signature not in signatures:
            raise ModelLoadError(f"SavedModel has no signature {signature!r}; it has {sorted(signatures)}")
        function = signatures[signature]
        _, call = positional_signature(function)

        def reference(*xs: Any) -> Any:
            return call(*[tf.constant(x) for x in xs])

        return _Traced(function, reference, source, keepalive=model, loader=loader)
    raise ModelLoadError(
        f"cannot freeze a {type(model).__name__}: pass a keras.Model, a .keras/.h5 path or a SavedModel"
    )


def sample_inputs(
    specs: Sequence[TensorInfo], *, batch: int = 4, seed: int = 0, graph_def: Any = None, other: int = 5
) -> list[np.ndarray]:
    """Seeded inputs that fit ``specs`` and make sense for their dtype.

    - floats: uniform in [0, 1); booleans: random (a scalar one, like ``is_training``, is False);
      ``uint8``: images, 0..255; other integers: 1..9, never 0 (no division by zero, no empty
      length), below the table size when the input indexes a ``Gather``; strings: a small PNG
      when a ``Decode*`` op reads the input (JPEG decoders read PNG too), else ``b"graphfreeze"``.
    - shapes: an unknown first dimension is ``batch``, another unknown one ``other``. With
      ``graph_def``, an input of unknown rank or size takes the shape its consumers tell
      (:func:`consumer_shape`: a MatMul's weights, a Conv2D's filter, a Reshape's target, a
      BiasAdd's or a broadcast constant's size); without a hint it is a vector of ``batch``.
    """
    rng = np.random.default_rng(seed)
    arrays = []
    for spec in specs:
        hint = consumer_shape(graph_def, spec.name) if graph_def is not None and _has_free_sizes(spec) else None
        dims = sampled_shape(spec.shape, hint)
        shape = tuple((batch if i == 0 else other) if d is None else d for i, d in enumerate(dims))
        arrays.append(_sample_values(rng, spec, shape, graph_def))
    return arrays


def sampled_shape(shape: Optional[Sequence[Optional[int]]], hint: Optional[Sequence[Optional[int]]]) -> tuple:
    """``shape`` with its unknown dimensions (or unknown rank) filled from ``hint`` where they agree."""
    if shape is None:
        return tuple(hint) if hint is not None else (None,)
    if hint is None or len(hint) != len(shape):
        return tuple(shape)
    return tuple(h if d is None else d for d, h in zip(shape, hint))


def _sample_values(rng: np.random.Generator, spec: TensorInfo, shape: tuple, graph_def: Any) -> np.ndarray:
    if spec.dtype == "string":
        value = tiny_png() if graph_def is not None and _decoded(graph_def, spec.name) else b"graphfreeze"
        return np.full(shape, value, dtype=object)
    try:
        dtype = np.dtype(spec.dtype)
    except TypeError:  # bfloat16, variant, resource: NumPy has no such dtype
        raise InputError(
            f"cannot sample input {spec.name!r} of dtype {spec.dtype or 'unknown'}; "
            "give real inputs (--input NAME=FILE.npy)"
        ) from None
    if dtype.kind == "b":
        return np.zeros(shape, bool) if not shape else rng.integers(0, 2, size=shape).astype(bool)
    if dtype == np.uint8:
        return rng.integers(0, 256, size=shape).astype(dtype)
    if dtype.kind in "iu":
        high = _index_bound(graph_def, spec.name) if graph_def is not None else None
        high = 10 if high is None else min(10, high)
        return rng.integers(1 if high > 1 else 0, max(high, 1), size=shape).astype(dtype)
    return rng.random(shape).astype(dtype)


def tiny_png(height: int = 8, width: int = 8) -> bytes:
    """A small RGB PNG (a colour gradient), written with the standard library."""
    import struct
    import zlib

    rows = b"".join(
        b"\x00" + bytes(v for x in range(width) for v in ((x * 32) % 256, (y * 32) % 256, 128))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _consumers(graph_def: Any, tensor: str) -> list[tuple[Any, int]]:
    """(node, input position) of every node that reads ``tensor`` (``x`` and ``x:0`` alike)."""
    wanted = tensor_name(tensor)
    return [(node, i) for node in graph_def.node for i, edge in enumerate(node.input)
            if not edge.startswith("^") and tensor_name(edge) == wanted]


def _reached(graph_def: Any, tensor: str, limit: int = 64) -> list[tuple[Any, int]]:
    """The consumers of ``tensor``, looking through ops that keep its shape (Identity, Cast, Relu...)."""
    found, stack, seen = [], [tensor_name(tensor)], set()
    while stack and len(seen) < limit:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        for node, i in _consumers(graph_def, name):
            if node.op in SHAPE_KEEPING_OPS:
                stack.append(f"{node.name}:0")
            else:
                found.append((node, i))
    return found


def _const_shape(graph_def: Any, edge: str) -> Optional[tuple[int, ...]]:
    """The shape of a constant (through Identity, as a frozen variable's ``read``), else None."""
    nodes = {node.name: node for node in graph_def.node}
    node = nodes.get(node_name(edge))
    for _ in range(8):
        if node is None:
            return None
        if node.op == "Const":
            return tensorproto.tensor_shape(node.attr["value"].tensor)
        if node.op not in FORWARDING_OPS or not node.input:
            return None
        node = nodes.get(node_name(node.input[0]))
    return None


def _const_values(graph_def: Any, edge: str) -> Optional[np.ndarray]:
    node = next((n for n in graph_def.node if n.name == node_name(edge)), None)
    if node is None or node.op != "Const":
        return None
    return np.asarray(tensorproto.tensor_to_numpy(node.attr["value"].tensor))


def consumer_shape(graph_def: Any, tensor: str) -> Optional[tuple[Optional[int], ...]]:
    """The shape ``tensor``'s consumers tell, with ``None`` for a free size (the batch), or None.

    TensorFlow infers shapes forwards only; this reads them backwards from the first
    consumer that fixes them: ``MatMul`` (the weights' rows), ``Conv2D``/``DepthwiseConv2dNative``
    (the filter's channels, NHWC or NCHW), ``BiasAdd`` (the bias size), ``Reshape`` to a
    constant shape, and an elementwise op with a constant of rank >= 1. No TensorFlow.
    """
    for node, i in _reached(graph_def, tensor):
        shape = _shape_from_consumer(graph_def, node, i)
        if shape is not None:
            return shape
    return None


def _shape_from_consumer(graph_def: Any, node: Any, i: int) -> Optional[tuple[Optional[int], ...]]:
    other = [edge for edge in node.input if not edge.startswith("^")]
    if node.op in ("MatMul", "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3") and i == 0 and len(other) > 1:
        weights = _const_shape(graph_def, other[1])
        if weights is None or len(weights) < 2:
            return None
        k = weights[-1] if _flag(node, "transpose_b", "adj_y") else weights[-2]
        lead = (None,) * (len(weights) - 2)
        return (*lead, k, None) if _flag(node, "transpose_a", "adj_x") else (*lead, None, k)
    if node.op in ("Conv2D", "DepthwiseConv2dNative") and i == 0 and len(other) > 1:
        kernel = _const_shape(graph_def, other[1])
        if kernel is None or len(kernel) != 4:
            return None
        size = max(32, kernel[0], kernel[1])
        if "data_format" in node.attr and node.attr["data_format"].s == b"NCHW":
            return (None, kernel[2], size, size)
        return (None, size, size, kernel[2])
    if node.op == "BiasAdd" and i == 0 and len(other) > 1:
        bias = _const_shape(graph_def, other[1])
        return (None, bias[0]) if bias is not None and len(bias) == 1 else None
    if node.op == "Reshape" and i == 0 and len(other) > 1:
        target = _const_values(graph_def, other[1])
        if target is None or target.ndim != 1:
            return None
        dims = [int(d) for d in target]
        if -1 in dims:
            rest = int(np.prod([d for d in dims if d != -1]))
            return (None, rest)
        return tuple(dims)
    if node.op in BROADCAST_OPS and len(other) == 2:
        constant = _const_shape(graph_def, other[1 - i])
        if constant:  # rank >= 1: a batch in front of it broadcasts
            return (None, *constant)
    return None


def _flag(node: Any, *names: str) -> bool:
    """A boolean attr of ``node`` (False when absent; reading ``node.attr[name]`` would add it)."""
    return any(name in node.attr and node.attr[name].b for name in names)


def _decoded(graph_def: Any, tensor: str) -> bool:
    return any(node.op in IMAGE_DECODE_OPS for node, _ in _reached(graph_def, tensor))


def _index_bound(graph_def: Any, tensor: str) -> Optional[int]:
    """The size of the table an integer input indexes (a Gather's params, OneHot's depth), if known."""
    for node, i in _reached(graph_def, tensor):
        other = [edge for edge in node.input if not edge.startswith("^")]
        if node.op in ("Gather", "GatherV2", "ResourceGather") and i == 1:
            params = _const_shape(graph_def, other[0])
            if params:
                return params[0]
    return None


def runnable_sample_inputs(
    specs: Sequence[TensorInfo], run: Callable[..., Any], *, graph_def: Any = None, batch: int = 4, seed: int = 0
) -> tuple[list[np.ndarray], Any]:
    """Sample inputs (:func:`sample_inputs`) that ``run`` accepts, and what it returned on them.

    Unknown sizes other than the batch are tried at 5, 32 and 224. If ``run`` (the
    reference, run by TensorFlow) still fails, :class:`InputError` says so in one line
    and how to give the shapes (``--inputs NAME[SHAPE]``) or real inputs instead.
    """
    last: Optional[BaseException] = None
    sizes = (5, 32, 224) if any(_has_free_sizes(spec) for spec in specs) else (5,)
    for other in sizes:
        arrays = sample_inputs(specs, batch=batch, seed=seed, graph_def=graph_def, other=other)
        try:
            return arrays, run(*arrays)
        except GraphFreezeError:
            raise
        except Exception as exc:  # TensorFlow's InvalidArgumentError, ValueError from shape checks...
            last = exc
    fed = ", ".join(f"{spec.name} {tuple(a.shape)}" for spec, a in zip(specs, arrays))
    example = " ".join(f"'{spec.op_name}[{_shape_example(spec)}]'" for spec in specs)
    reason = str(last).strip().splitlines()[0] if last is not None and str(last).strip() else type(last).__name__
    raise InputError(
        f"the graph fails on sampled inputs ({fed}): {reason}; give the input shapes (--inputs {example}) "
        "or real inputs (--input NAME=FILE.npy)"
    )


def verification_inputs(
    specs: Sequence[TensorInfo], given: Optional[Sequence[Any] | Mapping[str, Any]], reference: Callable[..., Any],
    *, graph_def: Any = None,
) -> tuple[list[np.ndarray], Any]:
    """The inputs a check runs on, and ``reference``'s outputs on them: ``given`` (a list in input order
    or ``{name: array}``) checked against ``specs`` (a wrong shape or dtype is a :class:`ShapeError`
    naming both), else sample inputs the reference runs on (:func:`runnable_sample_inputs`)."""
    if given is not None:
        arrays = check_arrays(specs, input_list(specs, given))
        return arrays, reference(*arrays)
    return runnable_sample_inputs(specs, reference, graph_def=graph_def)


def _has_free_sizes(spec: TensorInfo) -> bool:
    return spec.shape is None or any(d is None for d in spec.shape[1:])


def _shape_example(spec: TensorInfo) -> str:
    if spec.shape is None:
        return "?,..."
    return ",".join("?" if d is None else str(d) for d in spec.shape)


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
    """``graph_def.ByteSize()``; raise :class:`TooLargeError` above ``limit`` (before anything is written).

    A graph with large constants gets :func:`.bigload.size_bound` instead while that stays within
    ``limit``: computing the exact size encodes the whole graph.
    """
    limit = MAX_GRAPH_BYTES if limit is None else limit
    bound = bigload.size_bound(graph_def) if bigload.is_large(graph_def) else None
    size = bound if bound is not None and bound <= limit else graph_def.ByteSize()
    if size > limit:
        raise TooLargeError(
            f"the frozen graph takes {size / 2**30:.2f} GiB, above the {limit / 2**30:.2f} GiB a GraphDef can hold "
            "(protobuf's limit); keep it as a SavedModel (tf.saved_model.save) or convert it to TFLite"
        )
    return size


def freeze(
    model: Any,
    *,
    inputs: Optional[Sequence[np.ndarray] | Mapping[str, np.ndarray]] = None,
    tolerance: float = DEFAULT_TOLERANCE,
    signature: str = "serving_default",
    check: bool = True,
    outputs: Optional[Sequence[str]] = None,
    rtol: float = DEFAULT_RTOL,
    input_names: Optional[Sequence[Any]] = None,
    progress: Optional[bigfreeze.Progress] = None,
    allow_unsafe: bool = False,
) -> FrozenGraph:
    """Freeze a ``keras.Model``, a ``.keras``/``.h5`` path, a SavedModel (path or object) or a
    TF1 checkpoint (a ``.meta`` file or a folder with a ``checkpoint`` file).

    A SavedModel directory is scanned before TensorFlow runs any of it and refused with
    :class:`UnsafeGraphError` when an op is not known to be safe, unless ``allow_unsafe=True``
    (see :func:`load_model`); so is the part of a checkpoint's ``.meta`` graph that restoring
    and freezing it runs (:func:`.safety.check_checkpoint_graph`).

    A checkpoint needs ``outputs`` (tensor or node names); without them, :class:`InputError`
    lists the likely ones. ``input_names`` (``"x"``, ``"Reshape[?,192]"``) feed a checkpoint
    at other tensors than its placeholders: the frozen graph is cut there. A SavedModel that
    ``tf.saved_model.load`` cannot revive (Keras 2 optimizer slots) is read by TF's v1 loader
    instead; ``FrozenGraph.loader`` says which.

    With ``check`` (the default) the result is verified: no variable op may remain
    (:class:`NotFrozenError`) and outputs on ``inputs`` (a list in input order or
    ``{name: array}``; seeded random data if not given) must match the original within
    ``tolerance + rtol * |original|``, value by value (:class:`VerificationError`).

    A model whose variables take :data:`.bigload.LARGE_GRAPH_BYTES` or more is frozen without
    copies of its weights (:func:`_freeze_large`); ``progress(stage, done, total)`` hears of
    the stages (``bigfreeze.StageProgress`` shows them on a terminal).
    """
    if isinstance(model, (str, Path)) and is_checkpoint(model):
        artifact = restore_checkpoint(model, outputs, input_names, allow_unsafe=allow_unsafe)
        return freeze_session(artifact, inputs=inputs, tolerance=tolerance, rtol=rtol, check=check)
    if outputs or input_names:
        raise InputError("inputs and outputs are chosen for a TF1 checkpoint only; a model or SavedModel freezes "
                         "its signature")
    if progress is not None:
        progress("load", 0, 0)
    try:
        traced = _trace(model, signature, allow_unsafe)
    except ReviveError as exc:
        try:
            artifact = load_v1_saved_model(model, signature)
        except ModelLoadError as v1_exc:
            raise ModelLoadError(f"{exc}; the v1 loader failed too: {v1_exc}") from None
        loader = f"{artifact.loader}, as TF2's tf.saved_model.load failed ({exc.cause})"
        return freeze_session(artifact, inputs=inputs, tolerance=tolerance, rtol=rtol, check=check, loader=loader)
    if estimate_variable_bytes(traced.function.variables) >= bigload.LARGE_GRAPH_BYTES:
        large = _freeze_large(traced, inputs, check=check, progress=progress)
        if large is not None:
            frozen, arrays, expected = large
            del traced, large  # the model and its variables, unless the caller holds them
            gc.collect()
            if check:
                check_variable_free(frozen.graph_def)
                frozen.verification = _verify_large(frozen, arrays, expected, tolerance, rtol, progress)
            return frozen
    frozen = _constants_for_variables(traced)
    if check:
        check_variable_free(frozen.graph_def)
        frozen.verification = _verify_against(traced, frozen, inputs, tolerance, rtol)
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
        loader=traced.loader,
    )


def _freeze_large(
    traced: _Traced, inputs: Optional[Sequence[np.ndarray] | Mapping[str, np.ndarray]], *, check: bool,
    progress: Optional[bigfreeze.Progress],
) -> Optional[tuple[FrozenGraph, list[np.ndarray], list[np.ndarray]]]:
    """A large model frozen by :func:`.bigfreeze.constants_from_variables`: ``(frozen, inputs, outputs)``,
    the model's outputs on the check's inputs computed first, so that the model can go before the
    check. ``None`` when the graph is not simple enough (TensorFlow's converter then does it)."""
    direct = bigfreeze.constants_from_variables(traced.function, progress=progress)
    if direct is None:
        return None
    check_graph_size(direct.graph_def)
    frozen = FrozenGraph(direct.graph_def, direct.inputs, direct.outputs, source=traced.source, loader=traced.loader)
    arrays: list[np.ndarray] = []
    expected: list[np.ndarray] = []
    if check:
        if progress is not None:
            progress("reference", 0, 0)
        arrays = (check_arrays(frozen.inputs, input_list(frozen.inputs, inputs)) if inputs is not None
                  else sample_inputs(frozen.inputs))
        expected = as_output_list(traced.reference(*arrays))
    return frozen, arrays, expected


def _verify_large(
    frozen: FrozenGraph, arrays: list[np.ndarray], expected: list[np.ndarray], tolerance: float, rtol: float,
    progress: Optional[bigfreeze.Progress],
) -> Verification:
    """Run the frozen GraphDef (fed constants, :mod:`.bigload`) on ``arrays`` and compare with ``expected``."""
    if progress is not None:
        progress("verify", 0, 0)
    candidate = LoadedGraph(frozen.graph_def, frozen.inputs, frozen.outputs)
    return verify(lambda *xs: expected, candidate, arrays, tolerance=tolerance, rtol=rtol).raise_if_failed()


def check_variable_free(graph_def: Any) -> None:
    """Raise :class:`NotFrozenError` naming the cause if a variable, table or Python call is left in ``graph_def``."""
    leftovers = stateful_nodes(graph_def)
    if leftovers:
        raise NotFrozenError(not_frozen_reason(leftovers, graph_def))


def _verify_against(
    traced: _Traced, frozen: FrozenGraph,
    inputs: Optional[Sequence[np.ndarray] | Mapping[str, np.ndarray]],
    tolerance: float,
    rtol: float = DEFAULT_RTOL,
) -> Verification:
    """Run the GraphDef (as it will be saved) and the original on the same inputs;
    raise :class:`VerificationError` beyond ``tolerance + rtol * |original|``."""
    # a wrong shape or dtype is a ShapeError naming both, not an error from inside Keras
    if inputs is not None:
        arrays = check_arrays(frozen.inputs, input_list(frozen.inputs, inputs))
    else:
        arrays = sample_inputs(frozen.inputs)
    candidate = LoadedGraph(frozen.graph_def, frozen.inputs, frozen.outputs)
    return verify(
        lambda *xs: as_output_list(traced.reference(*xs)), candidate, arrays, tolerance=tolerance, rtol=rtol
    ).raise_if_failed()


def freeze_session(
    artifact: SessionArtifact,
    *,
    inputs: Optional[Sequence[np.ndarray] | Mapping[str, np.ndarray]] = None,
    tolerance: float = DEFAULT_TOLERANCE,
    check: bool = True,
    loader: str = "",
    rtol: float = DEFAULT_RTOL,
) -> FrozenGraph:
    """Freeze a TF1 artifact restored in a Session (:mod:`.freeze_tf1`), then close its Session.

    With ``check``, no variable op may remain and the frozen graph's outputs must match a
    Session run of the restored artifact on ``inputs`` (sampled if not given).
    """
    try:
        graph_def = artifact.frozen_graph_def()
        check_graph_size(graph_def)
        frozen = FrozenGraph(
            graph_def, list(artifact.inputs), list(artifact.outputs), source=artifact.source,
            loader=loader or artifact.loader,
        )
        if check:
            check_variable_free(graph_def)
            frozen.verification = _verify_against_session(artifact, frozen, inputs, tolerance, rtol)
    finally:
        artifact.close()
    return frozen


def _verify_against_session(
    artifact: SessionArtifact, frozen: FrozenGraph,
    inputs: Optional[Sequence[np.ndarray] | Mapping[str, np.ndarray]],
    tolerance: float,
    rtol: float = DEFAULT_RTOL,
) -> Verification:
    """Compare the frozen graph (loaded as it will be saved) with the restored artifact, output by output."""
    names = [t.name for t in frozen.outputs]

    def reference(*xs: Any) -> dict[str, np.ndarray]:
        return dict(zip(names, artifact.run(*xs)))

    arrays, expected = verification_inputs(frozen.inputs, inputs, reference, graph_def=frozen.graph_def)
    candidate = LoadedGraph(frozen.graph_def, frozen.inputs, frozen.outputs)
    actual = dict(zip(names, as_output_list(candidate(*arrays))))
    return Verification.from_outputs(expected, actual, arrays, tolerance=tolerance, rtol=rtol).raise_if_failed()
