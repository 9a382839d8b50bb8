"""Export a frozen graph to formats that run without TensorFlow: LiteRT ``.tflite`` and ONNX (and, through
their own modules, OpenCV's ``.pb``, OpenVINO IR and a SavedModel).

- **Quantized LiteRT**: ``quantize="dynamic" | "float16" | "int8"`` (:mod:`.quantize`), checked by
  accuracy and agreement with the float model, or by a stated tolerance, never by 1e-5.
- **Stripped LiteRT** (``strip=True``, :func:`strip_tflite`): without the tensor names, the
  subgraph name, the model description and the converter's conversion metadata, which no
  runtime reads. The ``serving_default`` signature stays, so the signature runner (and
  :class:`~graphfreeze_helpers.runner.LiteRTRunner`, which names inputs and outputs from it)
  works as before. On the tutorial CNN it saves about 1,300 bytes a file, float or int8.

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

import numpy as np

from . import bigload, files, graphfile
from .bigexport import onnx_from_large_graph
from .errors import GraphFormatError, InputError
from .freeze import FrozenGraph, as_frozen_graph, consumer_shape, trace_keras, verification_inputs
from .load import LoadedGraph, import_as_function
from .opencv import OpenCVExport, export_opencv
from .openvino_ir import OpenVINOExport, default_folder, export_openvino
from .ops import TENSOR_ARRAY_OPS, TF_ONLY_ADVICE, TF_ONLY_OPS
from .optimize import check_against
from .quantize import (
    MAX_ACCURACY_DROP,
    MIN_AGREEMENT,
    QuantizedCheck,
    check_calibration,
    check_labels,
    check_mode,
    compare_quantized,
    configure,
    convert_keeping_float,
    output_classes,
    sample_count,
)
from .runner import LiteRTRunner, Runner, load_runner
from .savedmodel import SavedModelExport, export_saved_model
from .tensors import TensorArg, TensorInfo, node_name, tensor_name
from .tfimport import captured_stderr, import_tensorflow, to_tf_graph_def
from .verify import DEFAULT_RTOL, DEFAULT_TOLERANCE, Verification, input_list

# opencv: see graphfreeze_helpers.opencv; openvino: a folder of IR (graphfreeze_helpers.openvino_ir)
# savedmodel: a folder written by graphfreeze_helpers.savedmodel (export(..., path=FOLDER))
FORMATS = {"tflite": ".tflite", "onnx": ".onnx", "opencv": ".pb", "openvino": "", "savedmodel": ""}
ONNX_OPSET = 17  # read by every ONNX Runtime since 1.11; tf2onnx 1.17 writes up to 18


@dataclass
class Exported:
    """An exported model (its bytes), what ops it holds, and its check against the original."""

    format: str
    data: bytes = field(repr=False)
    ops: dict[str, int]
    verification: Optional[Verification] = None
    path: Optional[Path] = None
    quantize: Optional[str] = None  # "dynamic", "float16" or "int8" for a quantized .tflite
    stripped: bool = False  # a .tflite without tensor names and conversion metadata (strip_tflite)
    kept_float: tuple[str, ...] = ()  # int8 with these layers or nodes left in float32 (float32 in and out)
    per_tensor: bool = False  # int8 with one scale and zero point per weight tensor, not per output channel
    quantized_check: Optional[QuantizedCheck] = None  # how a quantized model compares with the float one

    @property
    def bytes(self) -> int:
        return len(self.data)

    @property
    def max_abs_diff(self) -> Optional[float]:
        if self.quantized_check is not None:
            return self.quantized_check.max_abs_diff
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
        if self.quantized_check is not None:
            check = f", {self.quantized_check!r}"
        where = f", path={str(self.path)!r}" if self.path else ""
        kind = f"{self.format} {self.quantize}" if self.quantize else self.format
        kind += f" ({', '.join(self.kept_float)} float)" if self.kept_float else ""
        kind += " per-tensor" if self.per_tensor else ""
        kind += " stripped" if self.stripped else ""
        return f"Exported({kind}, bytes={self.bytes:,}, ops={{{ops}}}{where}{check})"


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
            f"{to} cannot convert; {TF_ONLY_ADVICE}"
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


def to_tflite(frozen: FrozenGraph, *, quantize: Optional[str] = None,
              calibration: Optional[Sequence[np.ndarray]] = None, strip: bool = False,
              keep_float: Sequence[str] = (), per_tensor: bool = False) -> bytes:
    """Convert the frozen function to a LiteRT flatbuffer (float32, builtin ops only).

    ``quantize``: ``"dynamic"``, ``"float16"`` or ``"int8"`` (full-integer, calibrated on
    ``calibration``, one array per input); see :mod:`graphfreeze_helpers.quantize`.
    ``strip``: leave the conversion metadata out and the names off (:func:`strip_tflite`).
    ``keep_float`` (int8): layers or nodes left in float32 (:func:`.quantize.convert_keeping_float`).
    ``per_tensor`` (int8): one scale per weight tensor (see :mod:`graphfreeze_helpers.quantize`).
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
        if quantize is not None:
            configure(converter, tf, quantize, calibration, per_tensor=per_tensor)
        converter.exclude_conversion_metadata = strip
        with _quiet_loggers("absl", "tensorflow"), captured_stderr():  # the converter's C++ side is loud
            try:
                if keep_float:
                    data = convert_keeping_float(converter, tf, calibration or [], keep_float)
                else:
                    data = converter.convert()
            except InputError:
                raise
            except Exception as exc:  # ConverterError and friends
                raise GraphFormatError(litert_failure(str(exc))) from None
    return strip_tflite(data) if strip else data


CONVERSION_METADATA = b"CONVERSION_METADATA"  # the converter's record of its settings and TF version


def strip_tflite(data: bytes) -> bytes:
    """A ``.tflite`` without what no runtime reads: tensor and subgraph names, the description, conversion metadata.

    What a runtime needs stays: the ops, the tensors' shapes, types and quantization, the
    buffers, ``min_runtime_version``, and the signatures, which name the inputs and outputs
    (``image``, ``output_0``) by tensor index, so ``get_signature_runner`` works as before.
    What goes: the converter's tensor names (``frozen/digits_cnn_1/conv0_1/convolution;...``,
    which tools such as Netron and LiteRT's error messages show) and the conversion
    metadata. Like TensorFlow's ``strip_strings`` tool, except that it keeps the signatures.
    """
    if bytes(data[4:8]) != b"TFL3":
        raise InputError("strip_tflite takes a .tflite flatbuffer (TFL3), and these bytes are not one")
    import_tensorflow()  # one clear line if it is missing
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(data))
    model.description = None
    for subgraph in model.subgraphs:
        subgraph.name = None
        for tensor in subgraph.tensors:
            tensor.name = None
    for entry in model.metadata or []:
        if entry.name == CONVERSION_METADATA:  # its buffer stays in the list (indices), emptied
            model.buffers[entry.buffer].data = None
    if model.metadata:
        model.metadata = [entry for entry in model.metadata if entry.name != CONVERSION_METADATA]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


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
    """LiteRT's v1 converter on the GraphDef (TensorArrays as TensorLists) in a Session kept open by ``stack``."""
    graph_def, shapes = tensor_arrays_as_lists(to_tf_graph_def(frozen.graph_def))
    loose = {name: shape for name, shape in shapes.items() if shape is None or -1 in shape}
    if loose:
        name, shape = next(iter(loose.items()))
        example = " ".join(f"'{t.op_name}[{','.join('1' if d is None else str(d) for d in (t.shape or ()))}]'"
                           for t in frozen.inputs)
        raise GraphFormatError(
            f"LiteRT needs the element shape of the TF1 TensorArray {name!r} to be static, and it is "
            f"{'unknown' if shape is None else tuple(None if d == -1 else d for d in shape)}; "
            f"give the inputs fixed shapes (a fixed batch), e.g. --inputs {example}, or export with --to onnx"
        )
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(graph_def, name="")
    session = stack.enter_context(tf.compat.v1.Session(graph=graph))
    return tf.compat.v1.lite.TFLiteConverter.from_session(
        session,
        [graph.get_tensor_by_name(t.name) for t in frozen.inputs],
        [graph.get_tensor_by_name(t.name) for t in frozen.outputs],
    )


def tensor_arrays_as_lists(graph_def: Any) -> tuple[Any, dict[str, Optional[list[int]]]]:
    """A copy of ``graph_def`` whose TF1 TensorArrays are TensorLists, which LiteRT's converter lowers,
    and each array's element shape (``-1`` for an unknown size, None for an unknown rank).

    A TensorArray is a resource handle plus a float *flow* threaded through the loop; a
    TensorList is one variant value threaded the same way. So the array becomes a
    ``TensorListReserve`` (or, for an unstack, ``TensorListFromTensor``), each read, write,
    gather or size takes the flow, which now carries the list, and every
    ``Enter``/``Merge``/``Switch``/``Exit``/``NextIteration``/``Identity`` on the flow carries
    a variant. Element shapes come from the array's attr or TensorFlow's shape inference.
    Returns ``graph_def`` itself when it has no TensorArray. Concat, split and gradient
    arrays are left as they are (LiteRT then names them).
    """
    arrays = [node.name for node in graph_def.node if node.op == "TensorArrayV3"]
    if not arrays:
        return graph_def, {}
    tf = import_tensorflow()
    rewritten = type(graph_def)()
    rewritten.CopyFrom(graph_def)
    rewriter = _TensorListRewriter(tf, rewritten, graph_def)
    for name in arrays:
        rewriter.element_shape(name)
    for node in list(rewritten.node):
        rewriter.rewrite(node)
    rewriter.retype_flows(set(arrays))
    return rewritten, {name: rewriter.shapes[name] for name in arrays}


class _TensorListRewriter:
    """The steps of :func:`tensor_arrays_as_lists`, on one GraphDef (changed in place)."""

    VARIANT_FORWARDERS = frozenset({"Enter", "Merge", "Switch", "Exit", "NextIteration", "Identity"})

    def __init__(self, tf: Any, graph_def: Any, original: Any) -> None:
        self.tf = tf
        self.graph_def = graph_def
        self.nodes = {node.name: node for node in graph_def.node}
        self.shapes: dict[str, Optional[list[int]]] = {}
        self.entered: dict[tuple[str, str], str] = {}
        self.graph = tf.Graph()
        with self.graph.as_default():
            tf.compat.v1.import_graph_def(original, name="")

    def inferred(self, edge: str) -> Optional[list[int]]:
        shape = self.graph.get_tensor_by_name(tensor_name(edge)).shape
        return None if shape.rank is None else [-1 if d is None else int(d) for d in shape.as_list()]

    def array_of(self, handle: str) -> str:
        """The TensorArrayV3 a handle edge comes from, through Enter and Identity."""
        name = node_name(handle)
        while self.nodes[name].op in ("Enter", "RefEnter", "Identity"):
            name = node_name(self.nodes[name].input[0])
        return name

    def element_shape(self, array: str) -> Optional[list[int]]:
        """The array's element shape: its attr, else what is written or scattered into it (-1: unknown)."""
        if array not in self.shapes:
            attr = self.nodes[array].attr["element_shape"].shape
            shape = None if attr.unknown_rank else [d.size for d in attr.dim]
            for node in self.graph_def.node:
                if shape is not None:
                    break
                data = [edge for edge in node.input if not edge.startswith("^")]
                if node.op not in TENSOR_ARRAY_OPS or node.op == "TensorArrayV3" or self.array_of(data[0]) != array:
                    continue
                told = node.attr["element_shape"].shape if "element_shape" in node.attr else None
                if told is not None and not told.unknown_rank:  # a gather (stack) says it
                    shape = [d.size for d in told.dim]
                elif node.op in ("TensorArrayWriteV3", "TensorArrayScatterV3"):
                    value = self.inferred(data[2])
                    shape = value[1:] if value is not None and node.op == "TensorArrayScatterV3" else value
            self.shapes[array] = shape
        return self.shapes[array]

    def shape_const(self, array: str, handle: Optional[str] = None) -> str:
        """A Const holding the element shape, brought into ``handle``'s loop frame through the same Enters."""
        name = f"{array}/element_shape"
        if name not in self.nodes:
            node = self.graph_def.node.add()
            node.name, node.op = name, "Const"
            node.attr["dtype"].type = self.tf.int32.as_datatype_enum
            shape = self.shapes.get(array)
            value = np.array(-1 if shape is None else shape, np.int32)
            node.attr["value"].tensor.CopyFrom(self.tf.make_tensor_proto(value))
            self.nodes[name] = node
        return name if handle is None else self.in_frame(name, handle)

    def in_frame(self, edge: str, handle: str) -> str:
        enter = self.nodes[node_name(handle)]
        if enter.op not in ("Enter", "RefEnter"):
            return edge
        outer = self.in_frame(edge, enter.input[0])
        key = (outer, enter.name)
        if key not in self.entered:
            node = self.graph_def.node.add()
            node.CopyFrom(enter)
            node.name, node.op = f"{enter.name}/element_shape", "Enter"
            del node.input[:]
            node.input.append(outer)
            node.attr["T"].type = self.tf.int32.as_datatype_enum
            self.nodes[node.name] = node
            self.entered[key] = node.name
        return self.entered[key]

    def is_full_range(self, edge: str) -> bool:
        """``range(0, n, 1)``: the indices of an unstack."""
        node = self.nodes[node_name(edge)]
        if node.op != "Range":
            return False
        bounds = [self.nodes[node_name(node.input[i])] for i in (0, 2)]
        return all(b.op == "Const" and self.tf.make_ndarray(b.attr["value"].tensor) == value
                   for b, value in zip(bounds, (0, 1)))

    def rewrite(self, node: Any) -> None:
        op = node.op
        if op not in TENSOR_ARRAY_OPS or op in ("TensorArrayConcatV3", "TensorArraySplitV3", "TensorArrayGradV3"):
            return
        data = [edge for edge in node.input if not edge.startswith("^")]
        control = [edge for edge in node.input if edge.startswith("^")]
        dtype = node.attr["dtype"].type if "dtype" in node.attr else node.attr["T"].type
        if op == "TensorArrayV3":
            inputs, new_op, array = [self.shape_const(node.name), data[0]], "TensorListReserve", node.name
        else:
            handle, flow, array = data[0], data[-1], self.array_of(data[0])
            if op == "TensorArrayReadV3":
                new_op, inputs = "TensorListGetItem", [flow, data[1], self.shape_const(array, handle)]
            elif op == "TensorArrayWriteV3":
                new_op, inputs = "TensorListSetItem", [flow, data[1], data[2]]
            elif op == "TensorArrayScatterV3" and node_name(flow) == array and self.is_full_range(data[1]):
                new_op, inputs = "TensorListFromTensor", [data[2], self.shape_const(array)]
            elif op == "TensorArrayScatterV3":
                new_op, inputs = "TensorListScatterIntoExistingList", [flow, data[2], data[1]]
            elif op == "TensorArrayGatherV3":
                new_op, inputs = "TensorListStack" if self.is_full_range(data[1]) else "TensorListGather", [flow]
                inputs += [self.shape_const(array, handle)] if new_op == "TensorListStack" else [
                    data[1], self.shape_const(array, handle)]
            elif op == "TensorArraySizeV3":
                new_op, inputs = "TensorListLength", [flow]
            else:  # TensorArrayCloseV3: nothing to close
                new_op, inputs = "NoOp", []
        for key in list(node.attr):
            del node.attr[key]
        del node.input[:]
        node.op = new_op
        node.input.extend(inputs + control)
        if new_op in ("TensorListReserve", "TensorListFromTensor"):
            node.attr["shape_type"].type = self.tf.int32.as_datatype_enum
        if new_op not in ("TensorListLength", "NoOp"):
            node.attr["element_dtype"].type = dtype

    def retype_flows(self, arrays: set[str]) -> None:
        """Point the arrays' flow edges (``array:1``) at the list, and make every forwarder on a list a variant."""
        for node in self.graph_def.node:
            for i, edge in enumerate(node.input):
                if node_name(edge) in arrays and edge.endswith(":1"):
                    node.input[i] = edge[:-2]
        producing = {"TensorListReserve", "TensorListFromTensor", "TensorListSetItem",
                     "TensorListScatterIntoExistingList"}
        lists = {node.name for node in self.graph_def.node if node.op in producing}
        changed = True
        while changed:
            changed = False
            for node in self.graph_def.node:
                if node.name in lists or node.op not in self.VARIANT_FORWARDERS:
                    continue
                data = [edge for edge in node.input if not edge.startswith("^")]
                fed = data if node.op == "Merge" else data[:1]
                if any(node_name(edge) in lists for edge in fed):
                    node.attr["T"].type = self.tf.variant.as_datatype_enum
                    lists.add(node.name)
                    changed = True


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
    if bigload.is_large(frozen.graph_def):  # its weights kept out of tf2onnx's way, then put back
        return onnx_from_large_graph(to_tf_graph_def(frozen.graph_def), frozen.inputs, frozen.outputs, opset=opset)
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
    opset: Optional[int] = None,
    quantize: Optional[str] = None,
    calibration: Any = None,
    labels: Optional[np.ndarray] = None,
    quantized_tolerance: Optional[float] = None,
    max_accuracy_drop: float = MAX_ACCURACY_DROP,
    min_agreement: float = MIN_AGREEMENT,
    strip: bool = False,
    keep_float: Sequence[str] = (),
    per_tensor: bool = False,
    path: Optional[str | Path] = None,
    force: bool = False,
) -> Exported | OpenCVExport | OpenVINOExport | SavedModelExport:
    """Convert a frozen graph (a :class:`FrozenGraph` or a ``.pb`` path) to ``"tflite"``, ``"onnx"`` or ``"opencv"``.

    ``"opencv"`` returns an :class:`~graphfreeze_helpers.opencv.OpenCVExport` (see
    :func:`~graphfreeze_helpers.opencv.export_opencv`). ``input_names``/``output_names``
    choose the tensors, as for :func:`~graphfreeze_helpers.load.load_frozen`.

    With ``check`` the artifact is run by :mod:`graphfreeze_helpers.runner` on ``inputs``
    (real arrays, a list or ``{name: array}``; sample inputs if not given) and compared,
    output by output by name, with ``reference`` (default: the frozen graph): a value beyond
    ``tolerance + rtol * |reference|`` raises :class:`VerificationError`
    (:func:`~graphfreeze_helpers.optimize.check_against`). ``opset``: the ONNX opset (default
    :data:`ONNX_OPSET`).

    ``quantize`` (``"tflite"`` only): ``"dynamic"``, ``"float16"`` or ``"int8"``; int8 needs
    ``calibration`` (real inputs: a list, ``{name: array}`` or one array). A quantized model is
    checked by :func:`~graphfreeze_helpers.quantize.compare_quantized`: with ``labels`` (one class
    per input of ``inputs``) by accuracy and agreement with the float model, without them by
    ``quantized_tolerance`` (default for the mode: :data:`~graphfreeze_helpers.quantize.QUANTIZED_TOLERANCE`).

    ``strip`` (``"tflite"`` only): drop the tensor names and the conversion metadata, keep the
    signature (:func:`strip_tflite`). The stripped model is the one checked.

    ``keep_float`` (``quantize="int8"`` only): layers or nodes (``["conv0"]``) left in float32, the
    rest quantized; the model then takes and gives float32. For an op whose int8 kernel is slower
    than its float one (see :mod:`graphfreeze_helpers.quantize`). Checked like any int8 model.

    ``per_tensor`` (``quantize="int8"`` only): one scale and zero point per weight tensor instead of
    per output channel: a smaller file, less accurate where a layer's channels differ in range
    (more so in deeper models). Uses the converter's experimental flag (TensorFlow pinned).

    ``"savedmodel"`` writes the folder ``path`` itself (replacing an earlier SavedModel only with
    ``force``), with a ``serving_default`` signature, after checking it
    (:func:`~graphfreeze_helpers.savedmodel.export_saved_model`).
    """
    if to not in FORMATS:
        raise InputError(f"unknown export format {to!r}; choose one of {sorted(FORMATS)}")
    if quantize is not None and to != "tflite":
        raise InputError(f"--quantize is for --to tflite, not {to}")
    if strip and to != "tflite":
        raise InputError(f"--strip is for --to tflite, not {to}")
    check_mode(quantize, calibration, keep_float, per_tensor)
    if labels is not None and quantize is None:
        raise InputError("labels are for a quantized export (a float one is checked to 1e-5): give quantize= "
                         "(--quantize) or leave them out")
    if labels is not None and inputs is None:
        raise InputError("labels need the inputs they label: give --input X.npy with --labels Y.npy")
    frozen = with_known_ranks(as_frozen_graph(graph, inputs=input_names, outputs=output_names))
    if to == "opencv":  # a GraphDef again, checked by OpenCV in a subprocess (it can crash the process)
        arrays = None if inputs is None else input_list(frozen.inputs, inputs)
        return export_opencv(frozen, inputs=arrays, reference=reference, tolerance=tolerance, rtol=rtol, check=check)
    if to == "savedmodel":
        if path is None:
            raise InputError("a SavedModel is a folder: give export(..., path=FOLDER)")
        arrays = None if inputs is None else input_list(frozen.inputs, inputs)
        return export_saved_model(frozen, path, inputs=arrays, reference=reference, tolerance=tolerance, rtol=rtol,
                                  check=check, force=force)
    if to == "openvino":  # IR read back by OpenVINO at float32 and compared with the frozen graph
        arrays = None if inputs is None else input_list(frozen.inputs, inputs)
        return export_openvino(frozen, inputs=arrays, reference=reference, tolerance=tolerance, rtol=rtol, check=check)
    if to == "tflite":  # the labels and calibration inputs checked against the graph before converting
        if labels is not None:
            labels = check_labels(labels, sample_count(inputs), output_classes(frozen.outputs[0]))
        calibration_arrays = None if calibration is None else check_calibration(frozen.inputs, calibration)
        data = to_tflite(frozen, quantize=quantize, calibration=calibration_arrays, strip=strip, keep_float=keep_float,
                         per_tensor=per_tensor)
    else:
        data = to_onnx(frozen, opset=ONNX_OPSET if opset is None else opset)
    exported = Exported(to, data, artifact_ops(data, to), quantize=quantize, stripped=strip,
                        kept_float=tuple(keep_float), per_tensor=per_tensor)
    if check and quantize is not None:
        if reference is None:
            reference = LoadedGraph(frozen.graph_def, frozen.inputs, frozen.outputs)
        runner = load_runner(data, kind="litert")
        positions, names = io_names(runner, frozen.inputs, frozen.outputs)
        arrays, expected = verification_inputs(frozen.inputs, inputs, reference, graph_def=frozen.graph_def)
        actual = runner(*[arrays[p] for p in positions])
        by_name = dict(zip(names, actual if isinstance(actual, list) else [actual]))
        ordered = [by_name.get(t.name, by_name.get(t.op_name)) for t in frozen.outputs]
        actual = ordered if all(a is not None for a in ordered) else list(by_name.values())
        exported.quantized_check = compare_quantized(
            expected, actual if len(actual) > 1 else actual[0], quantize, labels=labels, tolerance=quantized_tolerance,
            max_accuracy_drop=max_accuracy_drop, min_agreement=min_agreement,
        ).raise_if_failed(f"the {quantize} LiteRT export")
    elif check:
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
    """``model.pb`` → ``model.tflite`` / ``model.onnx`` / ``model_opencv.pb`` / ``model_openvino/``."""
    if to == "openvino":
        return default_folder(graph_path)
    if to == "savedmodel":
        return Path(graph_path).with_name(Path(graph_path).stem + "_savedmodel")
    if to == "opencv":
        return Path(graph_path).with_name(Path(graph_path).stem + "_opencv.pb")
    return Path(graph_path).with_suffix(FORMATS[to])
