"""Run an exported model without TensorFlow: ``.tflite`` with LiteRT, ``.onnx`` with ONNX Runtime,
a frozen ``.pb`` with OpenCV's DNN module, and OpenVINO IR (``.xml``, its weights in the ``.bin`` beside it)
with OpenVINO, which also reads a frozen ``.pb`` (``--runtime openvino``).

This module (and everything it imports) must never import TensorFlow: it is what you ship
to a machine that has only ``ai-edge-litert``, ``onnxruntime``, ``opencv-python-headless`` or
``openvino``, and NumPy. A test runs it in a process where ``import tensorflow`` raises.

OpenCV can crash the whole process (SIGSEGV) on a graph its importer does not understand;
run an unchecked ``.pb`` through :func:`graphfreeze_helpers.opencv.diagnose_opencv` (a
subprocess) before you load it here, in your own process.

Command line::

    python -m graphfreeze_helpers.runner MODEL.tflite --input X.npy -o Y.npy [--force]
    python -m graphfreeze_helpers.runner MODEL.pb --input X.npy -o Y.npy      # OpenCV DNN
    python -m graphfreeze_helpers.runner MODEL.onnx --input a=A.npy --input b=B.npy -o OUT.npz
    python -m graphfreeze_helpers.runner MODEL.onnx --input INPUTS.npz -o OUT.npz   # keys: input names
    python -m graphfreeze_helpers.runner MODEL.xml --input X.npy -o Y.npy     # OpenVINO IR, float32
    python -m graphfreeze_helpers.runner MODEL.pb --runtime openvino --input X.npy -o Y.npy

Several outputs go to an ``.npz`` keyed by output name (``probs`` for ``probs:0``). A full-integer
(int8) ``.tflite`` takes the same float inputs: the runner quantizes them, and dequantizes the
outputs, with the scale and zero point stored in the model.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from . import graphfile
from .errors import GraphFormatError, GraphFreezeError, InputError, ShapeError
from .files import check_writable, write_files_atomically
from .ops import TF_ONLY_ADVICE, TF_ONLY_OPS
from .tensors import match_tensor_name, node_name, output_key
from .tfimport import captured_stderr  # stdlib only: tfimport imports TensorFlow inside functions

KINDS = ("litert", "onnxruntime", "opencv", "openvino")
# OpenVINO's CPU plugin picks its own inference precision: bfloat16 on a CPU with AMX or AVX-512 BF16, which
# changes the tutorial CNN's outputs by about 5e-3. The runner asks for float32 unless told otherwise.
OPENVINO_PRECISIONS = ("f32", "bf16", "f16", "default")


def detect_kind(path: Optional[str | Path] = None, data: Optional[bytes] = None) -> str:
    """``"litert"`` for a TFLite flatbuffer, ``"onnxruntime"`` for an ONNX model, from content then suffix."""
    head = data[:64] if data is not None else (Path(path).read_bytes()[:64] if path is not None else b"")
    if head[4:8] == b"TFL3":
        return "litert"
    suffix = Path(path).suffix.lower() if path is not None else ""
    if suffix == ".onnx" or (head[:1] == b"\x08" and b"onnx" in head.lower()):
        return "onnxruntime"
    if suffix == ".tflite":
        return "litert"
    if suffix == ".xml":
        return "openvino"  # OpenVINO IR: model.xml, with its weights in model.bin beside it
    if suffix in (".pb", ".pbtxt"):
        return "opencv"  # without TensorFlow, OpenCV's DNN module is what reads a frozen GraphDef
    name = str(path) if path is not None else "the model bytes"
    raise GraphFormatError(
        f"cannot tell what runs {name!r}: it is neither a .tflite flatbuffer, an .onnx model, a frozen .pb "
        "nor OpenVINO IR (.xml)"
    )


class Runner:
    """A loaded model: NumPy arrays in, NumPy array(s) out, positionally."""

    kind = ""
    input_names: list[str]
    output_names: list[str]
    input_dtypes: list[np.dtype]

    def run(self, arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
        raise NotImplementedError

    def check_inputs(self, arrays: Sequence[Any]) -> list[np.ndarray]:
        """``arrays`` as contiguous arrays of the model's input dtypes; ShapeError if they cannot be."""
        if len(arrays) != len(self.input_names):
            raise ShapeError(f"model takes {len(self.input_names)} input(s) {self.input_names}, got {len(arrays)}")
        out = []
        for name, dtype, raw in zip(self.input_names, self.input_dtypes, arrays):
            array = np.asarray(raw)
            if array.dtype != dtype:
                if array.dtype.kind != dtype.kind and not (array.dtype.kind in "iub" and dtype.kind in "iu"):
                    raise ShapeError(f"input {name!r} wants dtype {dtype.name}, got {array.dtype.name}")
                array = array.astype(dtype)
            out.append(np.require(array, requirements="C"))  # ascontiguousarray makes a scalar 1-d
        return out

    def __call__(self, *arrays: Any) -> Any:
        """Run once; one output comes back as an array, several as a list."""
        outputs = self.run(self.check_inputs(arrays))
        return outputs[0] if len(outputs) == 1 else outputs

    def __repr__(self) -> str:
        return f"{type(self).__name__}(inputs={self.input_names}, outputs={self.output_names})"


class LiteRTRunner(Runner):
    """A ``.tflite`` model in LiteRT's interpreter (``ai_edge_litert``).

    The batch size can change between calls: the input is resized, and the tensors
    re-allocated, only when the shape differs from the last call's.
    """

    kind = "litert"

    def __init__(self, model: str | Path | bytes, *, num_threads: Optional[int] = None) -> None:
        from ai_edge_litert.interpreter import Interpreter

        # LiteRT's C++ side announces its CPU delegate on stderr ("INFO: Created TensorFlow Lite
        # XNNPACK delegate for CPU."); catch that line, pass anything else through.
        with captured_stderr() as lines:
            try:
                if isinstance(model, (bytes, bytearray)):
                    self.interpreter = Interpreter(model_content=bytes(model), num_threads=num_threads)
                else:
                    self.interpreter = Interpreter(model_path=str(model), num_threads=num_threads)
                self.interpreter.allocate_tensors()
            except (ValueError, RuntimeError) as exc:
                error = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            else:
                error = ""
        kept = [line for line in lines if line.strip() and not line.startswith("INFO: Created TensorFlow Lite")]
        if kept:
            sys.stderr.write("\n".join(kept) + "\n")
        if error:
            raise GraphFormatError(f"LiteRT cannot load the model: {error}")
        self._inputs = self.interpreter.get_input_details()
        self._outputs = self.interpreter.get_output_details()
        self.input_names = [d["name"] for d in self._inputs]
        self.output_names = [d["name"] for d in self._outputs]
        if "" in self.input_names + self.output_names:  # a stripped model: its signature still names them
            self._names_from_signature()
        self.input_dtypes = [np.dtype(d["dtype"]) for d in self._inputs]
        self._shapes = [tuple(d["shape"]) for d in self._inputs]
        # A full-integer (int8) model takes and gives integers; its scale and zero point turn floats into them.
        self.input_quantization = [_scale_and_zero_point(d) for d in self._inputs]
        self.output_quantization = [_scale_and_zero_point(d) for d in self._outputs]

    def _names_from_signature(self) -> None:
        """Name unnamed inputs and outputs by their keys in the first signature (``image``, ``output_0``)."""
        signatures = self.interpreter.get_signature_list()
        if not signatures:
            return
        runner = self.interpreter.get_signature_runner(next(iter(signatures)))
        for names, keyed in ((self.input_names, runner.get_input_details()),
                             (self.output_names, runner.get_output_details())):
            by_index = {detail["index"]: key for key, detail in keyed.items()}
            details = self._inputs if names is self.input_names else self._outputs
            for i, detail in enumerate(details):
                if not names[i]:
                    names[i] = by_index.get(detail["index"], "")

    @property
    def quantized_io(self) -> bool:
        """True for a full-integer model: integer inputs or outputs with a scale (``--quantize int8``)."""
        return any(q is not None for q in self.input_quantization + self.output_quantization)

    def check_inputs(self, arrays: Sequence[Any]) -> list[np.ndarray]:
        """As :meth:`Runner.check_inputs`; a float array for an int8 input is quantized with the input's scale."""
        if len(arrays) == len(self.input_quantization):
            arrays = [quantize_array(np.asarray(a), q, dtype)
                      if q is not None and np.asarray(a).dtype.kind == "f" else a
                      for a, q, dtype in zip(arrays, self.input_quantization, self.input_dtypes)]
        return super().check_inputs(arrays)

    def ops(self) -> list[str]:
        """The op of every node in the model, e.g. ``['CONV_2D', 'MEAN', ...]``."""
        return [d["op_name"] for d in self.interpreter._get_ops_details()]  # no public API for this yet

    def run(self, arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
        interpreter = self.interpreter
        changed = False
        for i, (detail, array) in enumerate(zip(self._inputs, arrays)):
            if array.shape != self._shapes[i]:
                wanted = detail.get("shape_signature", detail["shape"])
                if len(wanted) != array.ndim or any(w not in (-1, a) for w, a in zip(wanted, array.shape)):
                    shape = tuple(None if w == -1 else int(w) for w in wanted)
                    raise ShapeError(f"input {detail['name']!r} wants shape {shape} (None = any), got {array.shape}")
                interpreter.resize_tensor_input(detail["index"], array.shape)
                self._shapes[i] = array.shape
                changed = True
        if changed:
            interpreter.allocate_tensors()
            self._outputs = interpreter.get_output_details()
        for detail, array in zip(self._inputs, arrays):
            interpreter.set_tensor(detail["index"], array)
        interpreter.invoke()
        return [interpreter.get_tensor(d["index"]) if q is None else
                (interpreter.get_tensor(d["index"]).astype(np.float32) - q[1]) * np.float32(q[0])
                for d, q in zip(self._outputs, self.output_quantization)]


def _scale_and_zero_point(detail: dict[str, Any]) -> Optional[tuple[float, int]]:
    """An integer tensor's ``(scale, zero_point)``, or None for a float (or unquantized) one."""
    scale, zero_point = detail.get("quantization", (0.0, 0))
    if np.dtype(detail["dtype"]).kind not in "iu" or not scale:
        return None
    return float(scale), int(zero_point)


def quantize_array(array: np.ndarray, quantization: tuple[float, int], dtype: np.dtype) -> np.ndarray:
    """``round(x / scale + zero_point)``, clipped to ``dtype``'s range: how an int8 model reads a float input."""
    scale, zero_point = quantization
    info = np.iinfo(dtype)
    return np.clip(np.round(array / scale + zero_point), info.min, info.max).astype(dtype)


class OnnxRunner(Runner):
    """An ``.onnx`` model in ONNX Runtime, on the CPU."""

    kind = "onnxruntime"

    def __init__(self, model: str | Path | bytes, *, num_threads: Optional[int] = None) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 3  # errors only
        if num_threads:
            options.intra_op_num_threads = num_threads
        source = bytes(model) if isinstance(model, (bytes, bytearray)) else str(model)
        try:
            self.session = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph/... types
            raise GraphFormatError(f"ONNX Runtime cannot load the model: {str(exc).strip().splitlines()[0]}") from None
        types = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(int64)": np.int64,
                 "tensor(int32)": np.int32, "tensor(bool)": np.bool_, "tensor(float16)": np.float16,
                 "tensor(uint8)": np.uint8, "tensor(int8)": np.int8}
        inputs = self.session.get_inputs()
        self.input_names = [i.name for i in inputs]
        self.output_names = [o.name for o in self.session.get_outputs()]
        self.input_dtypes = [np.dtype(types.get(i.type, np.float32)) for i in inputs]
        self._input_shapes = [tuple(d if isinstance(d, int) else None for d in i.shape) for i in inputs]

    def run(self, arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
        for name, shape, array in zip(self.input_names, self._input_shapes, arrays):
            if len(shape) != array.ndim or any(s not in (None, a) for s, a in zip(shape, array.shape)):
                raise ShapeError(f"input {name!r} wants shape {shape} (None = any), got {array.shape}")
        return self.session.run(None, dict(zip(self.input_names, arrays)))


class OpenCVRunner(Runner):
    """A frozen GraphDef (``.pb``) in OpenCV's DNN module (``cv2.dnn.readNetFromTensorflow``).

    **Layout.** You pass the same arrays as to TensorFlow: images in NHWC
    ``(batch, height, width, channels)``. OpenCV's TensorFlow importer reads an NHWC graph,
    but its blobs are NCHW (what ``cv2.dnn.blobFromImage`` makes), so a rank-4 input is
    transposed to NCHW before ``setInput``, and a rank-4 output is transposed back to NHWC.
    Other ranks pass through unchanged.

    **Safety.** OpenCV's importer can crash the process (SIGSEGV) on a graph it does not
    understand. Load only a graph that :func:`graphfreeze_helpers.opencv.diagnose_opencv` (which
    tries it in a subprocess) passed, e.g. one written by ``graphfreeze export --to opencv``.

    ``engine`` is OpenCV 5's ``cv2.dnn.ENGINE_*`` (default: ``ENGINE_AUTO``, the new engine).
    """

    kind = "opencv"

    def __init__(
        self,
        model: str | Path | bytes,
        *,
        num_threads: Optional[int] = None,
        inputs: Optional[Sequence[Any]] = None,
        outputs: Optional[Sequence[Any]] = None,
        engine: Optional[int] = None,
    ) -> None:
        import cv2

        if num_threads:
            cv2.setNumThreads(int(num_threads))
        in_memory = isinstance(model, (bytes, bytearray))
        data = bytes(model) if in_memory else Path(model).read_bytes()
        graph_def = graphfile.parse_graph_def(data, name="the model" if in_memory else str(model))
        signature = None if in_memory else graphfile.sidecar_signature(model)
        if inputs is not None:
            in_infos = list(inputs)
        else:
            in_infos = list(signature[0]) if signature else graphfile.placeholder_inputs(graph_def)
        if outputs is not None:
            out_names = [getattr(t, "name", t) for t in outputs]
        elif signature:
            out_names = [t.name for t in signature[1]]
        else:
            out_names = graphfile.sink_outputs(graph_def)
        if graphfile.looks_like_text(data):
            data = graph_def.SerializeToString()  # OpenCV reads the binary form from a buffer
        engine = cv2.dnn.ENGINE_AUTO if engine is None else engine
        try:
            self.net = cv2.dnn.readNetFromTensorflow(np.frombuffer(data, np.uint8), None, engine)
        except cv2.error as exc:
            raise GraphFormatError(f"OpenCV cannot read the graph: {_cv_message(exc)}") from None
        self.input_names = [getattr(t, "name", str(t)) for t in in_infos]
        self.input_dtypes = [np.dtype(getattr(t, "dtype", "float32")) for t in in_infos]
        self._input_shapes = [getattr(t, "shape", None) for t in in_infos]
        self.output_names = out_names
        self._layers = self._output_layers(graph_def, out_names)

    def _output_layers(self, graph_def: Any, out_names: Sequence[str]) -> list[str]:
        """OpenCV's layer name for each output: the node itself, or what an Identity forwards."""
        layers = set(self.net.getLayerNames())
        nodes = {node.name: node for node in graph_def.node}
        found = []
        for name in out_names:
            op_name = node_name(name)
            seen = 0
            while op_name not in layers and op_name in nodes and nodes[op_name].op == "Identity" and seen < 100:
                data_inputs = [edge for edge in nodes[op_name].input if not edge.startswith("^")]
                if not data_inputs:
                    break
                op_name = node_name(data_inputs[0])
                seen += 1
            found.append(op_name if op_name in layers else "")
        return found

    def run(self, arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
        import cv2

        for name, shape, array in zip(self.input_names, self._input_shapes, arrays):
            if shape is not None and (
                len(shape) != array.ndim or any(s not in (None, a) for s, a in zip(shape, array.shape))
            ):
                raise ShapeError(f"input {name!r} wants shape {tuple(shape)} (None = any), got {array.shape}")
        for name, array in zip(self.input_names, arrays):
            blob = np.ascontiguousarray(array.transpose(0, 3, 1, 2)) if array.ndim == 4 else array
            if len(arrays) == 1:
                self.net.setInput(blob)
            else:
                self.net.setInput(blob, node_name(name))
        try:
            if len(self._layers) == 1 or not all(self._layers):
                if len(self._layers) <= 1:
                    outputs = [self.net.forward()]
                else:
                    outputs = list(self.net.forward(self.net.getUnconnectedOutLayersNames()))
            else:
                outputs = list(self.net.forward(self._layers))
        except cv2.error as exc:
            raise GraphFormatError(f"OpenCV cannot run the graph: {_cv_message(exc)}") from None
        return [np.ascontiguousarray(y.transpose(0, 2, 3, 1)) if y.ndim == 4 else y for y in outputs]


class OpenVINORunner(Runner):
    """OpenVINO IR (``model.xml`` + ``model.bin``), or a frozen ``.pb`` read by OpenVINO's TensorFlow frontend.

    ``precision``: the CPU plugin's ``INFERENCE_PRECISION_HINT``, ``"f32"`` by default. Left to
    itself (``"default"``) the plugin computes in bfloat16 on CPUs that have it (AMX,
    AVX-512 BF16), and the outputs move by about 1e-2 relative; ``self.precision`` says what
    it used. ``model`` is a path, or ``(xml_bytes, bin_bytes)``.
    """

    kind = "openvino"

    def __init__(
        self, model: str | Path | tuple[bytes, bytes], *, num_threads: Optional[int] = None, precision: str = "f32",
    ) -> None:
        import openvino as ov

        if precision not in OPENVINO_PRECISIONS:
            raise InputError(f"unknown OpenVINO precision {precision!r}; choose one of {list(OPENVINO_PRECISIONS)}")
        core = ov.Core()
        config: dict[str, Any] = {} if precision == "default" else {"INFERENCE_PRECISION_HINT": precision}
        if num_threads:
            config["INFERENCE_NUM_THREADS"] = int(num_threads)
        # OpenVINO's TensorFlow frontend writes parser complaints on stderr before it raises: the one line
        # below says why it failed; on success, whatever it wrote is passed through.
        with captured_stderr() as lines:
            try:
                if isinstance(model, tuple):
                    read = core.read_model(model=model[0], weights=ov.Tensor(np.frombuffer(model[1], np.uint8)))
                else:
                    read = core.read_model(str(model))
                self.compiled = core.compile_model(read, "CPU", config)
            except Exception as exc:  # RuntimeError, or OpenVINO's own OpConversionFailure, GeneralFailure...
                error = openvino_error_line(exc)
            else:
                error = ""
        if error:
            raise GraphFormatError(f"OpenVINO cannot load the model: {error}")
        if any(line.strip() for line in lines):
            sys.stderr.write("\n".join(lines) + "\n")
        self.precision = self.compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name()  # f32, bf16
        self.request = self.compiled.create_infer_request()
        self.input_names = [port.get_any_name() for port in self.compiled.inputs]
        self.output_names = [port.get_any_name() for port in self.compiled.outputs]
        self.output_name_sets = [set(port.get_names()) for port in self.compiled.outputs]
        self.input_dtypes = [np.dtype(port.get_element_type().to_dtype()) for port in self.compiled.inputs]
        self._input_shapes = [None if port.get_partial_shape().rank.is_dynamic else
                              tuple(d.get_length() if d.is_static else None for d in port.get_partial_shape())
                              for port in self.compiled.inputs]

    def run(self, arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
        for name, shape, array in zip(self.input_names, self._input_shapes, arrays):
            if shape is not None and (len(shape) != array.ndim or
                                      any(s not in (None, a) for s, a in zip(shape, array.shape))):
                raise ShapeError(f"input {name!r} wants shape {shape} (None = any), got {array.shape}")
        try:
            result = self.request.infer(list(arrays))
        except RuntimeError as exc:
            raise GraphFormatError(f"OpenVINO cannot run the model: {openvino_error_line(exc)}") from None
        return [np.asarray(value) for value in result.values()]

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(inputs={self.input_names}, outputs={self.output_names}, "
                f"precision={self.precision})")


# Where in OpenVINO's C++ an error was raised, and the headings over its reason: lines that never say why.
_OPENVINO_LOCATION = re.compile(r"(Exception from|Check '.*' failed at) \S+:\d+:?")
_OPENVINO_HEADING = re.compile(r"[\w ]+:")  # "FrontEnd API failed with OpConversionFailure:", "Summary:"


def openvino_error_line(exc: BaseException) -> str:
    """An OpenVINO exception's reason on one line, e.g. ``No conversion rule found for operations: _FusedConv2D``.

    OpenVINO's message starts with where it was raised (``Exception from src/...cpp:84:``,
    ``Check '...' failed at src/...cpp:151:``); those lines, and headings, are skipped. A
    conversion report's first item (``-- ...``) is its reason; otherwise the first line left is.
    Ops only TensorFlow runs get what to do instead (:func:`tf_only_ops_advice`).
    """
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    reasons = [line for line in lines if not (_OPENVINO_LOCATION.fullmatch(line) or _OPENVINO_HEADING.fullmatch(line))]
    items = [line[2:].strip() for line in reasons if line.startswith("-- ")]
    line = (items or reasons or lines or [type(exc).__name__])[0]
    return line + tf_only_ops_advice(line)


def tf_only_ops_advice(message: str) -> str:
    """What to do when ``message`` names TensorFlow-only fused ops (``_FusedConv2D``...), else ``""``."""
    found = [op for op in sorted(TF_ONLY_OPS) if re.search(rf"\b{op}\b", message)]
    return f" (TensorFlow-only fused ops, from optimize --target tensorflow); {TF_ONLY_ADVICE}" if found else ""


def _cv_message(exc: BaseException) -> str:
    """The informative part of a ``cv2.error`` on one line: the error and its failed check, not the C++ signature."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    first = lines[0].split("error:", 1)[1].strip() if "error:" in lines[0] else lines[0]
    text = " ".join([first] + [line.lstrip("> ").strip() for line in lines[1:6]])
    return re.sub(r" in function '[^']*'", "", text).strip()


def load_runner(
    model: str | Path | bytes, *, kind: Optional[str] = None, num_threads: Optional[int] = None,
    precision: str = "f32",
) -> Runner:
    """Load a ``.tflite`` or ``.onnx`` file (or its bytes), a frozen ``.pb`` or OpenVINO's ``.xml``, for the
    runtime that reads it (``kind`` chooses: a ``.pb`` goes to OpenCV unless ``kind="openvino"``).

    ``precision``: OpenVINO's inference precision (:class:`OpenVINORunner`), float32 by default.
    """
    if not isinstance(model, (bytes, bytearray)) and not Path(model).is_file():
        raise InputError(f"model {str(model)!r} does not exist")
    if kind is None:
        kind = detect_kind(None if isinstance(model, (bytes, bytearray)) else model,
                           bytes(model) if isinstance(model, (bytes, bytearray)) else None)
    if kind == "litert":
        return LiteRTRunner(model, num_threads=num_threads)
    if kind == "onnxruntime":
        return OnnxRunner(model, num_threads=num_threads)
    if kind == "opencv":
        return OpenCVRunner(model, num_threads=num_threads)
    if kind == "openvino":
        if isinstance(model, (bytes, bytearray)):
            raise InputError("OpenVINO reads a model from its .xml path (the weights sit beside it in .bin)")
        return OpenVINORunner(model, num_threads=num_threads, precision=precision)
    raise InputError(f"unknown runtime {kind!r}; choose one of {list(KINDS)}")


def save_outputs(
    path: str | Path,
    outputs: Sequence[np.ndarray] | dict[str, np.ndarray],
    *,
    names: Optional[Sequence[str]] = None,
    force: bool = False,
) -> Path:
    """Write one output as ``.npy``, several as ``.npz``, atomically.

    The ``.npz`` keys are the output names (``names``, or the keys of a dict of outputs) as
    :func:`~graphfreeze_helpers.tensors.output_key` spells them (``probs:0`` → ``probs``);
    without names, ``output_0``, ``output_1``, ... A path ending in ``.npz`` always gets an
    ``.npz``. Never overwrites without ``force``; several outputs need a path ending in ``.npz``.
    """
    path = Path(path)
    if isinstance(outputs, dict):
        names, outputs = list(outputs), list(outputs.values())
    buffer = io.BytesIO()
    if len(outputs) > 1 or path.suffix == ".npz":
        if path.suffix != ".npz":
            raise InputError(f"model has {len(outputs)} outputs; give an output file ending in .npz")
        keys = [output_key(n) for n in names] if names is not None else [f"output_{i}" for i in range(len(outputs))]
        if names is not None and len(set(keys)) < len(keys):
            keys = list(names)
        np.savez(buffer, **dict(zip(keys, outputs)))
    else:
        np.save(buffer, outputs[0])
    write_files_atomically({path: buffer.getvalue()}, force=force)
    return path


def read_input_files(specs: Sequence[str]) -> list[tuple[Optional[str], np.ndarray]]:
    """``--input`` values as ``(name, array)`` pairs: ``NAME=FILE.npy``, ``FILE.npz`` (its keys are
    the names) or a bare ``FILE.npy`` (name ``None``: the model's one input).

    Raises :class:`InputError` with one line on a missing or unreadable file.
    """
    found: list[tuple[Optional[str], np.ndarray]] = []
    for spec in specs:
        name: Optional[str] = None
        path = spec
        if "=" in spec and not Path(spec).is_file():
            name, _, path = spec.partition("=")
            if not name or not path:
                raise InputError(f"--input {spec!r}: write NAME=FILE.npy, FILE.npz or FILE.npy")
        if not Path(path).is_file():
            raise InputError(f"input file {path!r} does not exist")
        try:
            loaded = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read {path!r} as a .npy or .npz array ({str(exc).splitlines()[0]})") from None
        if isinstance(loaded, np.lib.npyio.NpzFile):
            with loaded:
                if name is not None:
                    raise InputError(f"--input {spec!r}: an .npz names its arrays itself; give it without NAME=")
                if not loaded.files:
                    raise InputError(f"{path!r} holds no arrays")
                found += [(key, loaded[key]) for key in loaded.files]
        else:
            found.append((name, loaded))
    return found


def arrange_feeds(
    given: Sequence[tuple[Optional[str], Any]], required: Sequence[str], optional: Sequence[str] = ()
) -> dict[str, Any]:
    """Match named (or one unnamed) arrays to a model's inputs: ``{input name: array}``.

    Every required input needs an array; an optional one is fed only when given. A name
    matches as :func:`~graphfreeze_helpers.tensors.match_tensor_name` says. Raises
    :class:`InputError` naming the model's inputs on a missing, unknown or repeated name.
    """
    known = list(required) + list(optional)
    listing = f"the model takes {list(required)}" + (f" and optionally {list(optional)}" if optional else "")
    feeds: dict[str, Any] = {}
    for name, array in given:
        if name is None:
            if len(given) > 1 or len(required) != 1:
                raise InputError(f"a bare --input FILE.npy feeds a model with one input; {listing}: "
                                 "give --input NAME=FILE.npy for each, or one .npz keyed by input name")
            target: Optional[str] = required[0]
        else:
            target = match_tensor_name(name, known)
            if target is None:
                raise InputError(f"no input {name!r}; {listing}")
        if target in feeds:
            raise InputError(f"input {target!r} is given twice")
        feeds[target] = array
    missing = [name for name in required if name not in feeds]
    if missing:
        raise InputError(f"no array for input(s) {missing}; {listing}")
    return feeds


# --- a process where TensorFlow cannot be imported --------------------------------------------

BLOCKED_MODULES = ("tensorflow", "keras", "tf_keras", "tf2onnx")

_BLOCKER = """
import importlib.abc, sys
class _NoTensorFlow(importlib.abc.MetaPathFinder):
    blocked = {blocked!r}
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.blocked:
            raise ImportError(f"{{name}} is blocked: this process must run without TensorFlow")
        return None
for _name in list(sys.modules):
    if _name.split(".")[0] in _NoTensorFlow.blocked:
        del sys.modules[_name]
sys.meta_path.insert(0, _NoTensorFlow())
"""


def blocker_source(blocked: Sequence[str] = BLOCKED_MODULES) -> str:
    """Python source that makes ``import tensorflow`` (and ``blocked``) raise ImportError from then on."""
    return _BLOCKER.format(blocked=tuple(blocked))


def tf_free_command(*args: str, python: Optional[str] = None, module: str = "graphfreeze_helpers.runner") -> list[str]:
    """A command line that runs ``python -m module ARGS`` with TensorFlow blocked.

    The process first proves the block holds (``import tensorflow`` must raise) and exits
    with code 97 if it does not; then it runs ``module`` as ``__main__``.
    """
    prelude = blocker_source() + (
        "try:\n    import tensorflow\nexcept ImportError:\n    pass\nelse:\n    sys.exit(97)\n"
        "import runpy\n"
        f"sys.argv = [{module!r}] + sys.argv[1:]\n"
        f"runpy.run_module({module!r}, run_name='__main__', alter_sys=True)\n"
    )
    return [python or sys.executable, "-c", prelude, *map(str, args)]


# --- command line ----------------------------------------------------------------------------


def check_precision_applies(model: str | Path, runtime: Optional[str], precision: Optional[str]) -> None:
    """InputError when ``--precision`` is given for a model that OpenVINO does not run."""
    if precision is None or not Path(model).is_file():  # a missing model is load_runner's to report
        return
    kind = runtime or detect_kind(model)
    if kind != "openvino":
        raise InputError(f"--precision applies to OpenVINO only (an .xml, or a .pb with --runtime openvino); "
                         f"{str(model)!r} runs with {kind}")


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m graphfreeze_helpers.runner",
        description="Run a .tflite (LiteRT), .onnx (ONNX Runtime), frozen .pb (OpenCV DNN, or OpenVINO with "
        "--runtime openvino) or .xml (OpenVINO IR) model on a .npy input, without TensorFlow.",
    )
    parser.add_argument("model", help="the .tflite, .onnx, frozen .pb or OpenVINO .xml file (its .bin beside it)")
    parser.add_argument("--input", required=True, action="append", metavar="[NAME=]FILE",
                        help="NAME=FILE.npy for an input (repeat for each), FILE.npz keyed by input name, or FILE.npy "
                        "for a model with one input")
    parser.add_argument("-o", "--output", required=True, help="the .npy (or .npz for several outputs) to write")
    parser.add_argument("--runtime", choices=KINDS, help="force a runtime (default: from the file's content); "
                        "openvino runs an OpenVINO .xml, or a frozen .pb through OpenVINO")
    parser.add_argument("--precision", choices=OPENVINO_PRECISIONS,
                        help="OpenVINO's inference precision, for an .xml or a .pb with --runtime openvino (default "
                        "f32; 'default' lets its CPU plugin choose, bfloat16 on CPUs with AMX or AVX-512 BF16)")
    parser.add_argument("--force", action="store_true", help="overwrite the output if it exists")
    parser.add_argument("--stages", action="store_true",
                        help="announce each stage (load, run) on stderr as it starts, so a crash can be placed")
    args = parser.parse_args(argv)

    def stage(name: str) -> None:
        if args.stages:
            sys.stderr.write(f"stage: {name}\n")
            sys.stderr.flush()

    try:
        check_precision_applies(args.model, args.runtime, args.precision)
        out = Path(args.output)
        check_writable([out], force=args.force)
        given = read_input_files(args.input)
        stage("load")
        runner = load_runner(args.model, kind=args.runtime, precision=args.precision or "f32")
        feeds = arrange_feeds(given, runner.input_names)
        stage("run")
        outputs = runner.run(runner.check_inputs([feeds[name] for name in runner.input_names]))
        stage("done")
        save_outputs(out, outputs, names=runner.output_names, force=args.force)
    except GraphFreezeError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # no traceback for a user: one line naming what broke
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"{parser.prog}: error: {type(exc).__name__}: {first}", file=sys.stderr)
        return 1
    used = f" ({runner.precision})" if isinstance(runner, OpenVINORunner) else ""
    print(f"wrote {out} with {runner.kind}{used}: " + ", ".join(str(tuple(a.shape)) for a in outputs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
