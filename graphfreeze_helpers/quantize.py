"""Quantized LiteRT: the converter settings for ``dynamic``, ``float16`` and ``int8``, and how to check the result.

- ``dynamic``: weights stored as int8, activations computed in float (no data needed).
- ``float16``: weights stored as float16, dequantized at load (no data needed).
- ``int8``: full-integer. Weights *and* activations are int8, and so are the model's input
  and output (what a microcontroller or an integer-only accelerator takes). The activation
  ranges come from a **representative dataset**, the calibration inputs: a few hundred
  real inputs, preprocessed exactly as at inference. The TF-free runner
  (:class:`~graphfreeze_helpers.runner.LiteRTRunner`) quantizes float inputs and
  dequantizes the outputs with the scale and zero point stored in the model.

``keep_float`` (int8 only, :func:`convert_keeping_float`) leaves the named ops in float32 and
quantizes the rest; the model then takes and gives float32, like the float export. The reason
to: an op whose int8 kernel is slower than its float one on the CPU at hand. On the tutorial CNN,
XNNPACK's int8 convolution from the 1-channel image took 5-7x the float one's time on a 2-core
Xeon (about 2x on a 2-core AMD EPYC with AVX-512 VNNI), and there the full-integer model was not
reliably faster than float at batch 256; ``benchmarks/deploy.py`` times it with that convolution
kept float (``keep_float=["conv0"]``) beside the full-integer one.

``per_tensor`` (int8 only) gives each weight tensor one scale and zero point instead of one per
output channel: a smaller file (on the tutorial CNN's small layers those per-channel parameters
are 1,784 of int8's 10,016 bytes), which can cost accuracy wherever a layer's channels differ
in range (none on the tutorial CNN; many points on MobileNets trained on ImageNet). It sets the converter's private
``_experimental_disable_per_channel`` flag: there is no public one. TensorFlow is pinned
(2.21) and a test fails if the flag stops having its effect.

A quantized model does not compute what the float one computes, so "max diff <= 1e-5" cannot
hold. It is checked instead (:func:`check_quantized`):

- with labels: its accuracy, and how often its top class agrees with the float model's
  (accuracy may drop at most ``max_accuracy_drop``; agreement must reach ``min_agreement``);
- without labels: the largest output difference from the float model must stay within a
  stated tolerance, :data:`QUANTIZED_TOLERANCE` for the mode unless you give one.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence

import numpy as np

from .errors import InputError, ShapeError, VerificationError
from .load import check_arrays
from .tensors import TensorInfo
from .verify import as_output_list, input_list, max_abs_diff

MODES = ("dynamic", "float16", "int8")
# The largest |quantized - float| output difference allowed when there are no labels, by mode. Measured on the
# tutorial CNN's softmax outputs (digits test split and uniform noise): float16 2e-3, dynamic 1.2e-2, int8 3.7e-2.
QUANTIZED_TOLERANCE = {"float16": 1e-2, "dynamic": 5e-2, "int8": 0.1}
MAX_ACCURACY_DROP = 0.01  # one point of accuracy
MIN_AGREEMENT = 0.95  # the quantized model's top class is the float model's on at least 95% of the inputs


def check_mode(mode: Optional[str], calibration: Optional[Sequence[np.ndarray]],
               keep_float: Optional[Sequence[str]] = None, per_tensor: bool = False) -> None:
    """InputError for an unknown mode, int8 without calibration inputs, or calibration, keep_float or per_tensor
    without int8."""
    if per_tensor and mode != "int8":
        raise InputError("--per-tensor is for --quantize int8: one scale per weight tensor instead of per channel")
    if keep_float and mode != "int8":
        raise InputError("--keep-float is for --quantize int8: the ops it names stay float, the rest become int8")
    if mode is None:
        if calibration is not None:
            raise InputError("calibration inputs are for --quantize int8; give --quantize int8 or leave them out")
        return
    if mode not in MODES:
        raise InputError(f"unknown quantization {mode!r}; choose one of {list(MODES)}")
    if mode == "int8" and calibration is None:
        raise InputError("--quantize int8 needs calibration inputs: --calibration X.npy with a few hundred real "
                         "inputs, preprocessed as at inference (e.g. the training images)")
    if mode != "int8" and calibration is not None:
        raise InputError(f"--quantize {mode} needs no calibration inputs (only int8 does); leave --calibration out")


def check_calibration(specs: Sequence[TensorInfo], calibration: Any) -> list[np.ndarray]:
    """The calibration inputs (one array, a list, or ``{name: array}``) as one array per input of ``specs``, cast
    to its float dtype; InputError for non-numbers, ShapeError naming the input for a shape it cannot take."""
    arrays = input_list(specs, [calibration] if isinstance(calibration, np.ndarray) else calibration)
    cast = [_as_input_dtype(spec, check_numeric(array, "--calibration")) for spec, array in zip(specs, arrays)]
    try:
        return check_arrays(specs, cast)
    except ShapeError as exc:
        raise ShapeError(f"--calibration does not fit the graph: {exc}") from None


def check_numeric(array: Any, what: str) -> np.ndarray:
    """``array`` as a NumPy array of real numbers (bool, int, float); InputError naming ``what`` otherwise."""
    array = np.asarray(array)
    if array.dtype.kind not in "biuf":
        raise InputError(f"{what} must hold numbers, got an array of dtype {array.dtype.name}")
    return array


def _as_input_dtype(spec: TensorInfo, array: np.ndarray) -> np.ndarray:
    """``array`` cast to ``spec``'s dtype when that is a float one (calibration may be integers, e.g. pixels)."""
    try:
        want = np.dtype(spec.dtype)
    except TypeError:  # bfloat16, string...: left to check_arrays
        return array
    return array.astype(want) if want.kind == "f" and array.dtype != want else array


def check_labels(labels: Any, count: Optional[int] = None, classes: Optional[int] = None) -> np.ndarray:
    """``labels`` as a 1-D int64 array of class numbers, one per input (``count``), each in ``[0, classes)``
    (a single column, shape ``(n, 1)``, is taken as 1-D); InputError saying what is wrong (one-hot, other
    shapes, fractional, wrong count, out of range) otherwise."""
    array = check_numeric(labels, "--labels")
    if looks_one_hot(array):
        raise InputError(f"--labels of shape {array.shape} looks one-hot; give the class numbers, one per input: "
                         "y.argmax(-1)")
    if array.ndim == 2 and array.shape[1] == 1:  # a column of class numbers, as scikit-learn often gives
        array = array[:, 0]
    if array.ndim != 1:
        raise InputError(f"--labels must be a 1-D array of class numbers, one per input; got shape {array.shape}")
    if count is not None and len(array) != count:
        raise InputError(f"{len(array)} labels for {count} inputs; give one label per input")
    return check_classes(whole_numbers(array), classes)


def looks_one_hot(array: np.ndarray) -> bool:
    """A 2-D array of 0s and 1s, one 1 a row (more than one column): one-hot labels."""
    return (array.ndim == 2 and array.shape[1] > 1 and array.size > 0 and bool(np.isin(array, (0, 1)).all())
            and bool((array.sum(axis=1) == 1).all()))


def whole_numbers(array: np.ndarray) -> np.ndarray:
    """Integer labels (or floats that are all whole numbers) as int64; InputError for fractions, NaN, bool."""
    if array.dtype.kind in "iu":
        return array.astype(np.int64)
    if array.dtype.kind == "b":
        raise InputError("--labels must be class numbers (integers), got booleans; give 0/1 as integers")
    fractional = array[~np.isfinite(array) | (array != np.round(array))]
    if fractional.size:
        raise InputError(f"--labels must be whole class numbers, and {fractional.size} of {array.size} are not "
                         f"(e.g. {fractional.flat[0]:g}); scores or probabilities are not labels")
    return array.astype(np.int64)


def check_classes(labels: np.ndarray, classes: Optional[int]) -> np.ndarray:
    """``labels`` if each is in ``[0, classes)`` (only ``>= 0`` when ``classes`` is unknown); InputError otherwise,
    and for an output of one score per input, whose top class is always 0."""
    if classes == 1:
        raise InputError("--labels are compared with the top class of an output that scores each class, but the "
                         "model's output has one value per input (a binary score?); check it without --labels, "
                         "by --tolerance")
    outside = labels[(labels < 0) | (labels >= classes)] if classes is not None else labels[labels < 0]
    if outside.size:
        allowed = f"from 0 to {classes - 1} (the model's output has {classes} classes)" if classes is not None else (
            "from 0 up")
        raise InputError(f"--labels must be class numbers {allowed}; {outside.size} of {labels.size} are not "
                         f"(e.g. {outside[0]})")
    return labels


def output_classes(output: TensorInfo) -> Optional[int]:
    """The number of classes an output scores: the size of its last dimension; None when not known, or when the
    output is 1-D (then it is the class itself, as :func:`top_class` reads it)."""
    return output.shape[-1] if output.shape is not None and len(output.shape) > 1 else None


def sample_count(inputs: Any) -> Optional[int]:
    """How many samples the inputs (a list or ``{name: array}``) hold: the first array's first dimension."""
    if inputs is None:
        return None
    arrays = list(inputs.values()) if isinstance(inputs, Mapping) else list(inputs)
    return len(arrays[0]) if arrays and np.ndim(arrays[0]) else None


def representative_dataset(calibration: Sequence[np.ndarray]) -> Callable[[], Iterator[list[np.ndarray]]]:
    """The converter's ``representative_dataset``: one sample at a time, every input in the function's order."""
    arrays = [np.asarray(a, dtype=np.float32) for a in calibration]
    count = min(len(a) for a in arrays)
    if count == 0:
        raise InputError("the calibration inputs are empty; give a few hundred real inputs")

    def samples() -> Iterator[list[np.ndarray]]:
        for i in range(count):
            yield [a[i:i + 1] for a in arrays]

    return samples


def configure(converter: Any, tf: Any, mode: str, calibration: Optional[Sequence[np.ndarray]] = None,
              per_tensor: bool = False) -> None:
    """Set a ``TFLiteConverter`` up for ``mode``, int8 ``per_tensor`` if asked (see the module doc)."""
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "float16":
        converter.target_spec.supported_types = [tf.float16]
    elif mode == "int8":
        converter.representative_dataset = representative_dataset(calibration or [])
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
        converter._experimental_disable_per_channel = per_tensor  # no public flag; TensorFlow pinned, tested


def op_output_names(data: bytes) -> list[str]:
    """The output tensor name of each op in a ``.tflite``, in order (a fused op's names joined by ``;``)."""
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(data))
    names = []
    for subgraph in model.subgraphs:
        for op in subgraph.operators:
            names.extend(subgraph.tensors[i].name.decode() for i in op.outputs if i >= 0)
    return names


def _names(name: str, wanted: str) -> bool:
    """Whether an op output ``name`` is the layer or node ``wanted``: a whole name, its tail after a ``/``, or one
    ``/`` part (TensorFlow's ``_1`` suffix allowed: the layer ``conv0`` is the part ``conv0_1``)."""
    pattern = re.compile(re.escape(wanted) + r"(_\d+)?")
    return any(part == wanted or part.endswith("/" + wanted) or any(pattern.fullmatch(c) for c in part.split("/"))
               for part in name.split(";"))


def ops_named(names: Sequence[str], wanted: Sequence[str]) -> list[str]:
    """The op output names in ``names`` that each of ``wanted`` (layer or node names) picks; InputError for one
    that picks none, listing the layer-like parts there are."""
    picked: list[str] = []
    for want in wanted:
        found = [n for n in names if _names(n, want)]
        if not found:
            parts = sorted({c for n in names for part in n.split(";") for c in part.split("/")[1:-1]})
            raise InputError(f"--keep-float {want!r} names no op of the model; the names in its ops: {parts}")
        picked += [n for n in found if n not in picked]
    return picked


def convert_keeping_float(
    converter: Any, tf: Any, calibration: Sequence[np.ndarray], keep_float: Sequence[str]
) -> bytes:
    """int8 with the ops ``keep_float`` names left in float32 (float32 in and out); see the module doc.

    Through TensorFlow's quantization debugger (``tf.lite.experimental.QuantizationDebugger`` with
    ``QuantizationDebugOptions(denylisted_nodes=...)``): it calibrates once, then quantizes all but
    the denylisted ops. ``converter`` is set up by :func:`configure` for int8 first.
    """
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]  # the float ops beside the int8 ones
    converter.inference_input_type = tf.float32
    converter.inference_output_type = tf.float32
    with warnings.catch_warnings():  # the debugger runs tf.lite.Interpreter, which warns that it is deprecated
        warnings.simplefilter("ignore")
        debugger = tf.lite.experimental.QuantizationDebugger(
            converter=converter, debug_dataset=representative_dataset(calibration))
        denied = ops_named(op_output_names(debugger.calibrated_model), keep_float)
        debugger.options = tf.lite.experimental.QuantizationDebugOptions(denylisted_nodes=denied)
        return debugger.get_nondebug_quantized_model()


@dataclass(frozen=True)
class QuantizedCheck:
    """A quantized model against the float model on the same inputs: agreement, accuracy, largest difference."""

    mode: str
    samples: int
    max_abs_diff: float
    agreement: float  # share of inputs whose top class is the float model's
    tolerance: Optional[float] = None  # the stated bound on max_abs_diff (no labels)
    accuracy: Optional[float] = None  # with labels
    float_accuracy: Optional[float] = None
    max_accuracy_drop: float = MAX_ACCURACY_DROP
    min_agreement: float = MIN_AGREEMENT

    @property
    def accuracy_drop(self) -> Optional[float]:
        return None if self.accuracy is None else self.float_accuracy - self.accuracy

    @property
    def problems(self) -> list[str]:
        found = []
        if self.accuracy is not None:
            if self.accuracy_drop > self.max_accuracy_drop + 1e-12:
                found.append(f"accuracy {self.accuracy:.2%} is {self.accuracy_drop:.2%} below the float model's "
                             f"{self.float_accuracy:.2%} (allowed: {self.max_accuracy_drop:.2%})")
            if self.agreement < self.min_agreement:
                found.append(f"its top class agrees with the float model's on {self.agreement:.2%} of the inputs "
                             f"(needed: {self.min_agreement:.2%})")
        elif self.tolerance is not None and not self.max_abs_diff <= self.tolerance:
            found.append(f"max |{self.mode} - float| = {self.max_abs_diff:.3g} is beyond the stated tolerance "
                         f"{self.tolerance:g}")
        return found

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def tolerance_text(self) -> str:
        """How it was judged, in a few words."""
        if self.accuracy is not None:
            return (f"accuracy drop <= {self.max_accuracy_drop:.2%} and agreement >= {self.min_agreement:.2%} "
                    f"on {self.samples} labelled inputs")
        return f"stated tolerance {self.tolerance:g} for {self.mode}, on {self.samples} inputs"

    def summary(self) -> str:
        """One line: accuracy and agreement (or the difference) and the bound."""
        if self.accuracy is not None:
            return (f"accuracy {self.accuracy:.2%} (float {self.float_accuracy:.2%}, drop {self.accuracy_drop:+.2%}), "
                    f"agreement with float {self.agreement:.2%}, max |diff| {self.max_abs_diff:.3g}")
        return (f"max |{self.mode} - float| = {self.max_abs_diff:.3g} (tolerance {self.tolerance:g}), "
                f"agreement with float {self.agreement:.2%}")

    def raise_if_failed(self, what: str) -> "QuantizedCheck":
        if self.problems:
            raise VerificationError(f"{what} fails its check ({self.tolerance_text}): " + "; ".join(self.problems))
        return self

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "samples": self.samples, "max_abs_diff": self.max_abs_diff,
                "agreement": self.agreement, "tolerance": self.tolerance, "accuracy": self.accuracy,
                "float_accuracy": self.float_accuracy, "max_accuracy_drop": self.max_accuracy_drop,
                "min_agreement": self.min_agreement, "ok": self.ok}

    def __repr__(self) -> str:
        return f"QuantizedCheck({self.mode}, {self.summary()}, {'ok' if self.ok else 'FAILED'})"


def top_class(outputs: Any) -> np.ndarray:
    """The top class of the first output, one per input (argmax over the last axis)."""
    first = as_output_list(outputs)[0]
    return first.reshape(len(first), -1).argmax(-1) if first.ndim > 1 else first


def compare_quantized(
    expected: Any, actual: Any, mode: str, *, labels: Optional[np.ndarray] = None,
    tolerance: Optional[float] = None, max_accuracy_drop: float = MAX_ACCURACY_DROP,
    min_agreement: float = MIN_AGREEMENT,
) -> QuantizedCheck:
    """Judge the quantized outputs ``actual`` against the float outputs ``expected`` (same inputs, same order).

    With ``labels`` (one class per input): accuracy and agreement. Without: the largest difference
    against ``tolerance`` (default :data:`QUANTIZED_TOLERANCE` for ``mode``).
    """
    float_top, quant_top = top_class(expected), top_class(actual)
    if labels is not None:
        first = as_output_list(expected)[0]
        labels = check_labels(labels, len(float_top), first.shape[-1] if first.ndim > 1 else None)
    return QuantizedCheck(
        mode=mode, samples=len(float_top), max_abs_diff=max_abs_diff(expected, actual),
        agreement=float(np.mean(float_top == quant_top)) if len(float_top) else 1.0,
        tolerance=QUANTIZED_TOLERANCE[mode] if tolerance is None else tolerance,
        accuracy=None if labels is None else float(np.mean(quant_top == labels)),
        float_accuracy=None if labels is None else float(np.mean(float_top == labels)),
        max_accuracy_drop=max_accuracy_drop, min_agreement=min_agreement,
    )


__all__ = ["MAX_ACCURACY_DROP", "MIN_AGREEMENT", "MODES", "QUANTIZED_TOLERANCE", "QuantizedCheck", "check_calibration",
           "check_classes", "check_labels", "check_mode", "check_numeric", "compare_quantized", "configure",
           "convert_keeping_float", "looks_one_hot", "op_output_names", "ops_named", "output_classes",
           "representative_dataset", "sample_count", "top_class", "whole_numbers"]
