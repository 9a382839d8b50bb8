"""Export a frozen graph to formats that run without TensorFlow: LiteRT ``.tflite`` and ONNX.

- **LiteRT**: ``tf.lite.TFLiteConverter.from_concrete_functions`` on the *frozen* function
  (the GraphDef imported into a ``tf.function``). The pitfall (:func:`tflite_from_unfrozen`):
  converting the model's own, unfrozen concrete function also "works", but the variables
  become ``VAR_HANDLE``/``READ_VARIABLE`` ops whose values are never initialized, and on
  TF 2.21 the interpreter returns NaN.
- **ONNX**: ``tf2onnx.convert.from_graph_def`` on the frozen GraphDef.

Every artifact is run (with :mod:`graphfreeze_helpers.runner`, the same code a TF-free
deployment uses) and compared with the frozen graph, or with ``reference`` if given, output
by output **by name** (LiteRT may return the outputs in another order than the graph lists
them): a value beyond ``tolerance + rtol * |reference|`` raises :class:`VerificationError`.

Graphs with TF1 control flow (``Switch``/``Merge``/``Enter``/``Exit``, a v1 ``cond`` or
``while_loop``) export too. tf2onnx reads them from the GraphDef and writes ONNX ``If``/``Loop``.
The frames cannot be imported into a ``tf.function``, so LiteRT's converter reads such a graph
from a v1 ``Session`` (``tf.compat.v1.lite.TFLiteConverter.from_session``, the only TF2 way),
and turns the frames into its own ``WHILE``/``IF`` subgraphs.

Graphs optimized with ``target="tensorflow"`` hold ``_FusedConv2D``/``_FusedMatMul``, which
neither converter reads; export the ``"portable"`` optimization (or the plain frozen graph).
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence

from . import files, graphfile
from .errors import GraphFormatError, InputError
from .freeze import FrozenGraph, as_frozen_graph, consumer_shape, trace_keras
from .load import LoadedGraph, import_as_function
from .opencv import OpenCVExport, export_opencv
from .ops import TF_ONLY_OPS
from .optimize import check_against
from .runner import LiteRTRunner, Runner, load_runner
from .tensors import TensorArg, TensorInfo, tensor_name
from .tfimport import captured_stderr, import_tensorflow, to_tf_graph_def
from .verify import DEFAULT_RTOL, DEFAULT_TOLERANCE, Verification, input_list

FORMATS = {"tflite": ".tflite", "onnx": ".onnx", "opencv": ".pb"}  # opencv: see graphfreeze_helpers.opencv
ONNX_OPSET = 17  # read by every ONNX Runtime since 1.11; tf2onnx 1.17 writes up to 18


@dataclass
class Exported:
    """An exported model (its bytes), what ops it holds, and its check against the original."""

    format: str
    data: bytes = field(repr=False)
    ops: dict[str, int]
    verification: Optional[Verification] = None
    path: Optional[Path] = None

    @property
    def bytes(self) -> int:
        return len(self.data)

    @property
    def max_abs_diff(self) -> Optional[float]:
        return None if self.verification is None else self.verification.max_abs_diff

    @property
    def sha256(self) -> str:
        return files.sha256_bytes(self.data)

    def save(self, path: str | Path, *, force: bool = False) -> Path:
        """Write the artifact atomically; never overwrite without ``force``."""
        path = Path(path)
        files.write_files_atomically({path: self.data}, force=force)
        self.path = path
        return path

    def __repr__(self) -> str:
        ops = ", ".join(f"{op}:{n}" for op, n in self.ops.items())
        check = f", {self.verification!r}" if self.verification else ""
        where = f", path={str(self.path)!r}" if self.path else ""
        return f"Exported({self.format}, bytes={self.bytes:,}, ops={{{ops}}}{where}{check})"


@contextlib.contextmanager
def _quiet_loggers(*names: str) -> Iterator[None]:
    """Turn the converters' Python loggers down to errors while they run, then restore them."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def _check_portable(frozen: FrozenGraph, to: str) -> None:
    found = sorted({node.op for node in frozen.graph_def.node} & TF_ONLY_OPS)
    if found:
        raise GraphFormatError(
            f"the graph holds TensorFlow-only fused ops {found} (from optimize target 'tensorflow'), which "
            f"{to} cannot convert; export the frozen graph or its optimize --target portable version"
        )


def concrete_function(frozen: FrozenGraph) -> Any:
    """The frozen graph as a variable-free ConcreteFunction.

    That is the one :func:`~graphfreeze_helpers.freeze.freeze` made, if there is one; otherwise
    the GraphDef imported inside a ``tf.function`` whose arguments carry the graph's input
    names, so the LiteRT signature says ``image`` rather than ``args_0``.
    """
    if frozen.concrete_function is not None:
        return frozen.concrete_function
    return import_as_function(frozen.graph_def, frozen.inputs, frozen.outputs)


def to_tflite(frozen: FrozenGraph) -> bytes:
    """Convert the frozen function to a LiteRT flatbuffer (float32, builtin ops only).

    A GraphDef with v1 control flow is converted from a v1 ``Session`` instead (see the module doc).
    """
    tf = import_tensorflow()
    _check_portable(frozen, "the LiteRT converter")
    with contextlib.ExitStack() as stack:
        if frozen.concrete_function is None and graphfile.has_v1_control_flow(frozen.graph_def):
            converter = _session_converter(tf, frozen, stack)
        else:
            converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete_function(frozen)], tf.Module())
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        with _quiet_loggers("absl", "tensorflow"), captured_stderr():  # the converter's C++ side is loud
            try:
                return converter.convert()
            except Exception as exc:  # ConverterError and friends
                raise GraphFormatError(litert_failure(str(exc))) from None


def litert_failure(message: str) -> str:
    """One line for a failed LiteRT conversion: the ops it has no kernel for, if that is why."""
    missing = sorted(set(re.findall(r"'tf\.(\w+)' op is neither a custom op nor a flex op", message)))
    if not missing:
        first = message.strip().splitlines()[0] if message.strip() else "no message"
        return f"LiteRT conversion failed: {first}"
    why = " (TF1 TensorArray ops, as a v1 dynamic_rnn or while_loop over a TensorArray makes)" if any(
        op.startswith("TensorArray") for op in missing) else ""
    return (f"LiteRT conversion failed: LiteRT has no builtin kernel for {', '.join(missing)}{why}; "
            "export this graph with --to onnx, or rebuild the model with TF2 control flow")


def _session_converter(tf: Any, frozen: FrozenGraph, stack: contextlib.ExitStack) -> Any:
    """LiteRT's v1 converter on the GraphDef imported into a Session (kept open by ``stack``)."""
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(to_tf_graph_def(frozen.graph_def), name="")
    session = stack.enter_context(tf.compat.v1.Session(graph=graph))
    return tf.compat.v1.lite.TFLiteConverter.from_session(
        session,
        [graph.get_tensor_by_name(t.name) for t in frozen.inputs],
        [graph.get_tensor_by_name(t.name) for t in frozen.outputs],
    )


def _arg_name(name: str) -> str:
    """A tensor name as :func:`~graphfreeze_helpers.load.import_as_function` names its argument."""
    return re.sub(r"[^A-Za-z0-9_]", "_", tensor_name(name).rpartition(":")[0])


def _signature_order(key: str) -> tuple[int, str]:
    """``output_2`` sorts as 2 (a list's outputs); other keys sort by name (a dict's, as ``tf.nest`` flattens it)."""
    match = re.fullmatch(r"output_(\d+)", key)
    return (int(match[1]), "") if match else (-1, key)


def io_names(
    runner: Runner, inputs: Sequence[TensorInfo], outputs: Sequence[TensorInfo]
) -> tuple[list[int], list[str]]:
    """Which of ``inputs`` each runner input is (positions), and which of ``outputs`` each runner output is (names).

    ONNX keeps the tensor names (``image:0``); LiteRT converted from a Session keeps the node
    names (``image``); LiteRT converted from a function names its tensors after the call
    (``PartitionedCall:1``) in an order of its own, and its signature tells which function
    output each is. Anything not told keeps its position.
    """
    in_names = list(runner.input_names)
    out_names = list(runner.output_names)
    interpreter = getattr(runner, "interpreter", None)
    signatures = interpreter.get_signature_list() if interpreter is not None else {}
    if signatures:
        signature = interpreter.get_signature_runner(next(iter(signatures)))
        by_index = {d["index"]: i for i, d in enumerate(interpreter.get_input_details())}
        for key, detail in signature.get_input_details().items():
            if detail["index"] in by_index:
                in_names[by_index[detail["index"]]] = key
        by_index = {d["index"]: i for i, d in enumerate(interpreter.get_output_details())}
        keyed = signature.get_output_details()
        if len(keyed) == len(outputs):
            for k, key in enumerate(sorted(keyed, key=_signature_order)):
                if keyed[key]["index"] in by_index:
                    out_names[by_index[keyed[key]["index"]]] = outputs[k].name
    positions = []
    for i, name in enumerate(in_names):
        match = [j for j, t in enumerate(inputs) if tensor_name(name) == t.name or name == _arg_name(t.name)]
        positions.append(match[0] if len(match) == 1 else i)
    if sorted(positions) != list(range(len(inputs))):
        positions = list(range(len(in_names)))
    return positions, out_names


def tflite_from_unfrozen(model: Any) -> bytes:
    """THE PITFALL, kept to show it: convert a Keras model's own (unfrozen) concrete function.

    Conversion succeeds, but the flatbuffer keeps ``VAR_HANDLE``/``READ_VARIABLE`` ops for
    the weights, which nothing initializes: run it and you get NaN (or an error).
    """
    tf = import_tensorflow()
    converter = tf.lite.TFLiteConverter.from_concrete_functions([trace_keras(model)], model)
    with _quiet_loggers("absl", "tensorflow"):
        return converter.convert()


def to_onnx(frozen: FrozenGraph, *, opset: int = ONNX_OPSET) -> bytes:
    """Convert the frozen GraphDef to ONNX with tf2onnx (input and output names kept, e.g. ``image:0``)."""
    import_tensorflow()
    _check_portable(frozen, "tf2onnx")
    with _quiet_loggers("tensorflow", "tf2onnx", "absl"):
        import tf2onnx

        try:
            model_proto, _ = tf2onnx.convert.from_graph_def(
                to_tf_graph_def(frozen.graph_def),
                input_names=[t.name for t in frozen.inputs],
                output_names=[t.name for t in frozen.outputs],
                opset=opset,
            )
        except Exception as exc:  # tf2onnx raises ValueError, TypeError, RuntimeError...
            raise GraphFormatError(f"tf2onnx conversion failed: {str(exc).strip().splitlines()[0]}") from None
    return model_proto.SerializeToString()


def artifact_ops(data: bytes, to: str) -> dict[str, int]:
    """Op histogram of a ``.tflite`` or ``.onnx`` model, most frequent first."""
    if to == "onnx":
        import onnx

        ops = [node.op_type for node in onnx.load_from_string(data).graph.node]
    else:
        ops = [op for op in LiteRTRunner(data).ops() if op != "DELEGATE"]  # XNNPACK's own nodes
    return dict(Counter(ops).most_common())


def export(
    graph: FrozenGraph | str | Path,
    to: str,
    *,
    inputs: Optional[Sequence[Any] | Mapping[str, Any]] = None,
    reference: Optional[Callable[..., Any]] = None,
    tolerance: float = DEFAULT_TOLERANCE,
    rtol: float = DEFAULT_RTOL,
    check: bool = True,
    input_names: Optional[Sequence[Any]] = None,
    output_names: Optional[Sequence[Any]] = None,
) -> Exported | OpenCVExport:
    """Convert a frozen graph (a :class:`FrozenGraph` or a ``.pb`` path) to ``"tflite"``, ``"onnx"`` or ``"opencv"``.

    ``"opencv"`` returns an :class:`~graphfreeze_helpers.opencv.OpenCVExport` (see
    :func:`~graphfreeze_helpers.opencv.export_opencv`). ``input_names``/``output_names``
    choose the tensors, as for :func:`~graphfreeze_helpers.load.load_frozen`.

    With ``check`` the artifact is run by :mod:`graphfreeze_helpers.runner` on ``inputs``
    (real arrays, a list or ``{name: array}``; sample inputs if not given) and compared,
    output by output by name, with ``reference`` (default: the frozen graph): a value beyond
    ``tolerance + rtol * |reference|`` raises :class:`VerificationError`
    (:func:`~graphfreeze_helpers.optimize.check_against`).
    """
    if to not in FORMATS:
        raise InputError(f"unknown export format {to!r}; choose one of {sorted(FORMATS)}")
    frozen = with_known_ranks(as_frozen_graph(graph, inputs=input_names, outputs=output_names))
    if to == "opencv":  # a GraphDef again, checked by OpenCV in a subprocess (it can crash the process)
        arrays = None if inputs is None else input_list(frozen.inputs, inputs)
        return export_opencv(frozen, inputs=arrays, reference=reference, tolerance=tolerance, check=check)
    data = to_tflite(frozen) if to == "tflite" else to_onnx(frozen)
    exported = Exported(to, data, artifact_ops(data, to))
    if check:
        if reference is None:
            reference = LoadedGraph(frozen.graph_def, frozen.inputs, frozen.outputs)
        runner = load_runner(data, kind="litert" if to == "tflite" else "onnxruntime")
        positions, names = io_names(runner, frozen.inputs, frozen.outputs)

        def candidate(*arrays: Any) -> Any:
            return runner(*[arrays[p] for p in positions])

        exported.verification = check_against(
            reference, candidate, frozen, inputs, tolerance=tolerance, rtol=rtol,
            what=f"the {to} export", against="the frozen graph", candidate_names=names,
        )
    return exported


def with_known_ranks(frozen: FrozenGraph) -> FrozenGraph:
    """``frozen`` with a static shape on every input of unknown rank, from what its consumers tell.

    Both converters take an input of unknown rank for a scalar (tf2onnx says so in a warning),
    which makes a model that cannot take the real input. :func:`~graphfreeze_helpers.freeze.consumer_shape`
    reads the rank backwards from the graph; when it cannot, :class:`InputError` asks for the shape.
    """
    unknown = [t for t in frozen.inputs if t.shape is None]
    if not unknown:
        return frozen
    args: list[Any] = []
    for t in frozen.inputs:
        shape = t.shape if t.shape is not None else consumer_shape(frozen.graph_def, t.name)
        if shape is None:
            raise InputError(
                f"input {t.name!r} has an unknown shape (not even its rank) and the graph does not tell it; "
                f"give it, e.g. --inputs '{t.op_name}[?,224,224,3]'"
            )
        args.append(TensorArg(t.name, tuple(shape)))
    return as_frozen_graph(frozen, inputs=args)


def default_output(graph_path: str | Path, to: str) -> Path:
    """``model.pb`` → ``model.tflite`` / ``model.onnx`` / ``model_opencv.pb``."""
    if to == "opencv":
        return Path(graph_path).with_name(Path(graph_path).stem + "_opencv.pb")
    return Path(graph_path).with_suffix(FORMATS[to])
