"""Freeze a big model without copies of its weights: constants made one at a time, the file written node by node.

TensorFlow's ``convert_variables_to_constants_v2`` reads every variable into NumPy, builds
the constants, imports the result into a new graph and exports it again: four or five
copies of the weights alive at once, and a 1 GB model peaks at 13 GB. Saving the result the
usual way (``SerializeToString``, then a sha256 of those bytes) adds one more.

For a function whose graph is simple (no function library; every captured variable is read
by ``ReadVariableOp`` only; the other captures are plain tensors), the same result is built
directly (:func:`constants_from_variables`): the traced graph's own GraphDef, with each
captured placeholder replaced by a ``Const`` holding the value (read one variable at a time)
and each ``ReadVariableOp`` by an ``Identity``, as ``convert_variables_to_constants_v2``
does. Any other graph returns ``None`` and takes TensorFlow's way.

:func:`write_graph_def` writes a GraphDef as protobuf does, node by node (a GraphDef is the
concatenation of its fields: each ``node`` (field 1) as a tag, a length and the node's
bytes, then the rest), hashing what it writes, so no serialized copy of the whole graph is
ever held. :class:`StageProgress` shows the stages and bytes on a terminal.
"""

from __future__ import annotations

import hashlib
import sys
import time
from dataclasses import dataclass
from typing import Any, BinaryIO, Callable, Optional, TextIO

import numpy as np

from .bigload import const_node
from .formatting import human_bytes
from .graphfile import encode_varint
from .tensors import TensorInfo
from .tfimport import import_tensorflow

Progress = Callable[[str, int, int], None]  # (stage, bytes done, bytes in all; 0 when it has no size)
_NODE_TAG = b"\x0a"  # GraphDef.node: field 1, length-delimited


@dataclass
class DirectConstants:
    """A frozen GraphDef built by :func:`constants_from_variables`, with its signature."""

    graph_def: Any
    inputs: list[TensorInfo]
    outputs: list[TensorInfo]
    constant_bytes: int  # bytes of the values made constants


def _variables_by_capture(function: Any) -> dict[int, Any]:
    """Capture index -> the variable whose handle it is (as ``convert_variables_to_constants_v2`` matches them)."""
    found: dict[int, Any] = {}
    captured = list(function.captured_inputs)
    for variable in function.graph.variables:
        for index, tensor in enumerate(captured):
            if variable.handle is tensor:
                found[index] = variable
                break
    return found


def constants_from_variables(function: Any, progress: Optional[Progress] = None) -> Optional[DirectConstants]:
    """The frozen GraphDef of ``function`` (a ConcreteFunction), built in place of its own, or ``None``
    when its graph is not simple enough (see the module's docstring): then use TensorFlow's converter."""
    tf = import_tensorflow()
    graph = function.graph
    graph_def = graph.as_graph_def()
    if graph_def.library.function:
        return None
    variables = _variables_by_capture(function)
    captured = list(function.captured_inputs)
    captures = list(graph.captures)
    if len(captures) != len(captured):
        return None
    by_name = {node.name: node for node in graph_def.node}
    resource = {}  # placeholder name -> (capture index, variable)
    plain = {}  # placeholder name -> capture index (a captured eager tensor)
    for index, (external, internal) in enumerate(captures):
        name = internal.op.name
        if name not in by_name or by_name[name].op != "Placeholder":
            return None
        if index in variables:
            resource[name] = variables[index]
        elif external.dtype == tf.resource:
            return None  # a table or another resource: TensorFlow's converter says what to do
        else:
            plain[name] = external
    for node in graph_def.node:  # every use of a variable must be a plain read
        for edge in node.input:
            source = edge.lstrip("^").split(":")[0]
            if source in resource and (node.op != "ReadVariableOp" or edge.startswith("^")):
                return None
    total = sum(int(np.prod(v.shape)) * v.dtype.size for v in resource.values())
    done = 0
    for node in graph_def.node:
        if node.name in resource:
            variable = resource[node.name]
            value = variable.numpy()
            const_node(node, value, variable.dtype.as_datatype_enum)
            done += value.nbytes
            del value
            if progress is not None:
                progress("constants", done, total)
        elif node.name in plain:
            value = np.asarray(plain[node.name].numpy())
            const_node(node, value, tf.as_dtype(value.dtype).as_datatype_enum)
        elif node.op == "ReadVariableOp" and node.input and node.input[0].split(":")[0] in resource:
            _identity_for_read(node)
    ins = [t for t in function.inputs if t.op.name not in resource and t.op.name not in plain]
    return DirectConstants(
        graph_def,
        [TensorInfo.from_tensor(t) for t in ins],
        [TensorInfo.from_tensor(t) for t in function.outputs],
        total,
    )


def _identity_for_read(node: Any) -> None:
    """A ``ReadVariableOp`` of a variable that became a constant reads it as an ``Identity``."""
    inputs = list(node.input)
    dtype = node.attr["dtype"].type
    keep = {key: node.attr[key] for key in ("_class",) if key in node.attr}
    name = node.name
    kept = {key: type(value)() for key, value in keep.items()}
    for key, value in keep.items():
        kept[key].CopyFrom(value)
    node.Clear()
    node.name = name
    node.op = "Identity"
    node.input.extend(inputs)
    node.attr["T"].type = dtype
    for key, value in kept.items():
        node.attr[key].CopyFrom(value)


def write_graph_def(
    handle: BinaryIO, graph_def: Any, *, progress: Optional[Progress] = None, total: int = 0
) -> tuple[int, str]:
    """Write ``graph_def`` serialized to ``handle``, node by node; return ``(bytes written, sha256)``.

    The bytes are those ``graph_def.SerializeToString()`` gives: its nodes (field 1) in
    order, then its other fields, which protobuf writes after them (field numbers 2 and up).
    Only one node's bytes are held at a time. ``total`` (the graph's size, if known) is
    passed on to ``progress``.
    """
    digest = hashlib.sha256()
    written = 0

    def put(data: bytes) -> None:
        nonlocal written
        handle.write(data)
        digest.update(data)
        written += len(data)

    for node in graph_def.node:
        data = node.SerializeToString()
        put(_NODE_TAG + encode_varint(len(data)))
        put(data)
        del data
        if progress is not None:
            progress("write", written, total)
    rest = type(graph_def)()
    for field, value in graph_def.ListFields():
        if field.name == "node":
            continue
        if field.message_type is not None:
            getattr(rest, field.name).CopyFrom(value)
        else:
            setattr(rest, field.name, value)
    put(rest.SerializeToString())
    return written, digest.hexdigest()


class StageProgress:
    """Show a long freeze's stages and bytes on ``stream`` (a terminal): one line a stage, redrawn in place.

    ``freeze: constants 512.0 MB / 1.0 GB``; a stage without a size shows its name only. The
    line is redrawn at most every ``interval`` seconds, and once more when the stage ends.
    """

    def __init__(self, stream: Optional[TextIO] = None, interval: float = 0.5) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval
        self.stage = ""
        self.line = ""
        self.shown_at = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.close()
            self.stage = stage
        self.line = f"freeze: {stage}" + (f" {human_bytes(done)} / {human_bytes(total)}" if total else "")
        now = time.monotonic()
        if now - self.shown_at >= self.interval or done == total:
            self._draw()
            self.shown_at = now

    def _draw(self) -> None:
        self.stream.write("\r" + self.line + "\x1b[K")
        self.stream.flush()

    def close(self) -> None:
        """End the current stage's line."""
        if self.stage:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()
            self.stage = ""
