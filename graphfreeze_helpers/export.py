"""Export a frozen graph to formats that run without TensorFlow: LiteRT ``.tflite`` and ONNX.

- **LiteRT**: ``tf.lite.TFLiteConverter.from_concrete_functions`` on the *frozen* function
  (the GraphDef imported into a ``tf.function``). The pitfall (:func:`tflite_from_unfrozen`):
  converting the model's own, unfrozen concrete function also "works", but the variables
  become ``VAR_HANDLE``/``READ_VARIABLE`` ops whose values are never initialized, and on
  TF 2.21 the interpreter returns NaN.
- **ONNX**: ``tf2onnx.convert.from_graph_def`` on the frozen GraphDef.

Every artifact is run (with :mod:`graphfreeze_helpers.runner`, the same code a TF-free
deployment uses) and compared with the frozen graph, or with ``reference`` if given:
a difference above ``tolerance`` raises :class:`VerificationError`.

Graphs optimized with ``target="tensorflow"`` hold ``_FusedConv2D``/``_FusedMatMul``, which
neither converter reads; export the ``"portable"`` optimization (or the plain frozen graph).
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Sequence

import numpy as np

from . import files
from .errors import GraphFormatError, InputError
from .freeze import FrozenGraph, as_frozen_graph, sample_inputs, trace_keras
from .load import LoadedGraph, import_as_function
from .opencv import OpenCVExport, export_opencv
from .ops import TF_ONLY_OPS
from .runner import LiteRTRunner, load_runner
from .tfimport import import_tensorflow, to_tf_graph_def
from .verify import DEFAULT_TOLERANCE, Verification, as_output_list, verify

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
    """Convert the frozen function to a LiteRT flatbuffer (float32, builtin ops only)."""
    tf = import_tensorflow()
    _check_portable(frozen, "the LiteRT converter")
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete_function(frozen)], tf.Module())
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    with _quiet_loggers("absl", "tensorflow"):
        try:
            return converter.convert()
        except Exception as exc:  # ConverterError and friends
            raise GraphFormatError(f"LiteRT conversion failed: {str(exc).strip().splitlines()[0]}") from None


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
    inputs: Optional[Sequence[np.ndarray]] = None,
    reference: Optional[Callable[..., Any]] = None,
    tolerance: float = DEFAULT_TOLERANCE,
    check: bool = True,
) -> Exported | OpenCVExport:
    """Convert a frozen graph (a :class:`FrozenGraph` or a ``.pb`` path) to ``"tflite"``, ``"onnx"`` or ``"opencv"``.

    ``"opencv"`` returns an :class:`~graphfreeze_helpers.opencv.OpenCVExport` (see
    :func:`~graphfreeze_helpers.opencv.export_opencv`).

    With ``check`` the artifact is run by :mod:`graphfreeze_helpers.runner` on ``inputs``
    (seeded random data if not given) and compared with ``reference`` (default: the frozen
    graph); a difference above ``tolerance`` raises :class:`VerificationError`.
    """
    if to not in FORMATS:
        raise InputError(f"unknown export format {to!r}; choose one of {sorted(FORMATS)}")
    if to == "opencv":  # a GraphDef again, checked by OpenCV in a subprocess (it can crash the process)
        return export_opencv(graph, inputs=inputs, reference=reference, tolerance=tolerance, check=check)
    frozen = as_frozen_graph(graph)
    data = to_tflite(frozen) if to == "tflite" else to_onnx(frozen)
    exported = Exported(to, data, artifact_ops(data, to))
    if check:
        arrays = list(inputs) if inputs is not None else sample_inputs(frozen.inputs)
        if reference is None:
            reference = LoadedGraph(frozen.graph_def, frozen.inputs, frozen.outputs)
        runner = load_runner(data, kind="litert" if to == "tflite" else "onnxruntime")
        ref = reference
        exported.verification = verify(
            lambda *xs: as_output_list(ref(*xs)), lambda *xs: as_output_list(runner(*xs)), arrays,
            tolerance=tolerance,
        ).raise_if_failed(f"the {to} export")
    return exported


def default_output(graph_path: str | Path, to: str) -> Path:
    """``model.pb`` → ``model.tflite`` / ``model.onnx`` / ``model_opencv.pb``."""
    if to == "opencv":
        return Path(graph_path).with_name(Path(graph_path).stem + "_opencv.pb")
    return Path(graph_path).with_suffix(FORMATS[to])
