"""Read a frozen ``.pb`` from disk without importing TensorFlow.

TensorBoard ships TensorFlow's protos compiled on their own, so ``GraphDef`` parses in
about a tenth of a second. This module also tells what a file *is* when it is not a
GraphDef, and checks a ``.pb`` against the sha256 in its sidecar.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Optional

from . import files
from .errors import GraphFormatError, IntegrityError
from .ops import REF_OP_TWINS, REF_SOURCE_OPS, V1_CONTROL_FLOW_OPS
from .tensors import TensorInfo, node_name

DT_RESOURCE = 20  # DataType enum value of a resource handle (a variable or table)


def _graph_pb2() -> Any:
    from tensorboard.compat.proto import graph_pb2

    return graph_pb2


def describe_file(path: Path, data: Optional[bytes] = None) -> Optional[str]:
    """Name the kind of a file that is not a binary GraphDef, or ``None`` if it may be one."""
    if path.is_dir():
        if (path / "saved_model.pb").is_file():
            return "a SavedModel directory; freeze it first: graphfreeze freeze DIR -o OUT.pb"
        return "a directory, not a .pb file"
    data = path.read_bytes() if data is None else data
    if not data:
        return "an empty file"
    if data[:4] == b"PK\x03\x04":
        return "a zip archive (a .keras model?); freeze it first: graphfreeze freeze MODEL.keras -o OUT.pb"
    if data[:8] == b"\x89HDF\r\n\x1a\n":
        return "an HDF5 file (a .h5 Keras model?); freeze it first: graphfreeze freeze MODEL.h5 -o OUT.pb"
    if data[4:8] == b"TFL3":
        return "a TFLite/LiteRT flatbuffer (.tflite), not a GraphDef"
    if data[:1] == b"\x08" and b"onnx" in data[:256].lower():
        return "an ONNX model, not a GraphDef"
    if b"saved_model_schema_version" in data[:64] or (data[:1] == b"\x08" and b"meta_graphs" in data[:4096]):
        return "a SavedModel's saved_model.pb; freeze its directory first"
    if data[:3] == b"\x08\x01\x12":  # SavedModel: schema_version=1, then meta_graphs
        return "a SavedModel's saved_model.pb; freeze its directory first"
    if _looks_like_onnx(data):
        return "an ONNX model, not a GraphDef"
    return None


def _looks_like_onnx(data: bytes) -> bool:
    """ONNX ModelProto starts with ir_version (field 1, varint 3..15) then producer/graph fields.

    A GraphDef never starts with a varint in field 1 (its field 1, ``node``, is a message).
    """
    return (
        len(data) > 3
        and data[0] == 0x08
        and 3 <= data[1] <= 15
        and data[2] in (0x12, 0x1A, 0x22, 0x28, 0x32, 0x3A, 0x42)  # producer_name ... graph, opset_import
    )


def looks_like_text(data: bytes) -> bool:
    head = data[:4096]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return "node" in text and "{" in text and "\x00" not in text


def parse_graph_def(data: bytes, *, name: str = "input", graph_def: Any = None) -> Any:
    """Parse binary (or text ``pbtxt``) GraphDef bytes; raise :class:`GraphFormatError` if they are not one."""
    target = graph_def if graph_def is not None else _graph_pb2().GraphDef()
    if not data:
        raise GraphFormatError(f"{name} is an empty file, not a GraphDef")
    if looks_like_text(data):
        _parse_text(data, name, target)
    else:
        try:
            target.ParseFromString(data)
        except Exception:  # protobuf's DecodeError, or RuntimeError from some backends
            raise GraphFormatError(
                f"{name} is truncated or not a GraphDef ({len(data):,} bytes do not parse)"
            ) from None
    if not target.node and not target.library.function:
        raise GraphFormatError(f"{name} parses but holds no nodes; it is not a frozen GraphDef")
    return target


# How deep a text graph may nest messages: protobuf's own limit for binary files. A GraphDef
# needs about 8 (node, attr, value, tensor, shape, dim); deeper text is refused before parsing,
# because the text parser recurses in Python once per level.
MAX_TEXT_DEPTH = 100
_TEXT_SKIPPED = re.compile(rb'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|#[^\n]*')
_OPEN_CLOSE = bytes.maketrans(b"{<}>\x01\x02", b"\x01\x01\x02\x02\x00\x00")


def text_depth(data: bytes) -> int:
    """How deeply ``{...}`` / ``<...>`` nest in protobuf text (quoted strings and comments skipped), in linear time."""
    import numpy as np

    marks = np.frombuffer(_TEXT_SKIPPED.sub(b"", data).translate(_OPEN_CLOSE), dtype=np.uint8)
    steps = (marks == 1).astype(np.int32) - (marks == 2).astype(np.int32)
    steps = steps[steps != 0]
    return int(np.cumsum(steps).max()) if steps.size else 0


def _parse_text(data: bytes, name: str, target: Any) -> None:
    """Parse text GraphDef bytes into ``target``; every way they can fail is one :class:`GraphFormatError`."""
    from google.protobuf import text_format

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise GraphFormatError(f"{name} looks like a text .pbtxt but is not UTF-8 (byte {exc.start:,})") from None
    depth = text_depth(data)
    if depth > MAX_TEXT_DEPTH:
        raise GraphFormatError(
            f"{name} nests messages {depth:,} levels deep; a text graph may nest at most {MAX_TEXT_DEPTH}"
        )
    try:
        text_format.Parse(text, target)
    except text_format.ParseError as exc:
        raise GraphFormatError(
            f"{name} looks like a text .pbtxt but does not parse as a GraphDef: {str(exc).splitlines()[0][:300]}"
        ) from None
    except RecursionError:
        raise GraphFormatError(f"{name} nests messages too deeply for the text parser") from None
    except Exception as exc:  # the parser's other errors (a value out of range, ...): one line, never a traceback
        raise GraphFormatError(
            f"{name} looks like a text .pbtxt but does not parse as a GraphDef: {type(exc).__name__}"
        ) from None


def dangling_inputs(graph_def: Any) -> list[tuple[str, str]]:
    """``(node, source)`` for every top-level edge whose source node is not in the graph."""
    names = {n.name for n in graph_def.node}
    return [
        (node.name, node_name(edge))
        for node in graph_def.node
        for edge in node.input
        if node_name(edge) not in names
    ]


def read_graph_def(
    path: str | Path, *, check_sidecar: bool = True, graph_def: Any = None, check_edges: bool = False
) -> Any:
    """Read ``path`` as a GraphDef (pass ``graph_def`` to fill TensorFlow's own proto class).

    With ``check_edges``, a graph whose edges name nodes it does not hold (a file cut at a
    field boundary parses fine) is refused as truncated or damaged.
    """
    return read_graph_file(path, check_sidecar=check_sidecar, graph_def=graph_def, check_edges=check_edges)[0]


def read_graph_file(
    path: str | Path, *, check_sidecar: bool = True, graph_def: Any = None, check_edges: bool = False
) -> tuple[Any, Optional[bytes]]:
    """:func:`read_graph_def`, and the binary bytes the graph was parsed from (``None`` for a text
    ``.pbtxt``), which ``safety.check(graph_def, serialized=...)`` reads in bulk."""
    path = Path(path)
    if not path.exists():
        raise GraphFormatError(f"graph file {str(path)!r} does not exist")
    if path.is_dir():
        raise GraphFormatError(f"{str(path)!r} is {describe_file(path)}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or exc
        raise GraphFormatError(f"cannot read graph file {str(path)!r}: {reason}; check its permissions") from None
    kind = describe_file(path, data)
    if kind is not None:
        raise GraphFormatError(f"{str(path)!r} is {kind}")
    if check_sidecar:
        check_integrity(path, data)
    parsed = parse_graph_def(data, name=repr(str(path)), graph_def=graph_def)
    missing = dangling_inputs(parsed) if check_edges else []
    if missing:
        raise dangling_error(path, missing)
    return parsed, None if looks_like_text(data) else data


def as_graph_def(source: Any) -> tuple[Any, Optional[Path]]:
    """``(graph_def, path)`` from a GraphDef, a path (read here; else ``path`` is ``None``), a
    FrozenGraph-like (``.graph_def``) or a ConcreteFunction (``.graph``)."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        return read_graph_def(path), path
    if hasattr(source, "node") and hasattr(source, "library"):
        return source, None
    if hasattr(source, "graph_def"):
        return source.graph_def, None
    graph = getattr(source, "graph", None)
    if graph is not None and hasattr(graph, "as_graph_def"):
        return graph.as_graph_def(), None
    raise TypeError(f"expected a GraphDef, a path to a .pb or a FrozenGraph; got a {type(source).__name__}")


def dangling_error(path: str | Path, missing: list[tuple[str, str]]) -> GraphFormatError:
    """The one-line refusal of a graph whose edges (``missing``, from :func:`dangling_inputs`) name absent nodes."""
    node, source = missing[0]
    return GraphFormatError(
        f"{str(path)!r} parses but seems truncated or damaged: {len(missing)} edge(s) name nodes it does not "
        f"hold (node {node!r} takes input from {source!r}); export the graph again"
    )


def sidecar_path(pb_path: str | Path) -> Path:
    """``model.pb`` → ``model.json``."""
    return Path(pb_path).with_suffix(".json")


def read_sidecar(path: str | Path) -> Optional[dict[str, Any]]:
    """The sidecar next to a ``.pb`` (``model.pb`` → ``model.json``), or ``None``."""
    sidecar = sidecar_path(path)
    if not sidecar.is_file() or sidecar == Path(path):
        return None
    try:
        record = json.loads(sidecar.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GraphFormatError(f"sidecar {str(sidecar)!r} is not valid JSON ({exc}); fix or delete it") from None
    if not isinstance(record, dict) or "inputs" not in record or "outputs" not in record:
        raise GraphFormatError(f"sidecar {str(sidecar)!r} lacks 'inputs'/'outputs'; fix or delete it")
    return record


def check_integrity(path: Path, data: bytes) -> None:
    """Raise :class:`IntegrityError` if ``data`` does not match the sha256 in ``path``'s sidecar.

    The sidecar records the binary ``.pb``; a text ``.pbtxt`` beside it (``model.pbtxt`` next
    to ``model.json``) is another encoding of the graph, so its bytes are not compared.
    """
    if looks_like_text(data):
        return
    record = read_sidecar(path)
    if record and record.get("sha256") and record["sha256"] != files.sha256_bytes(data):
        raise IntegrityError(
            f"{str(path)!r} does not match the sha256 in {str(sidecar_path(path))!r}; "
            "the file was changed or damaged since it was saved"
        )


def sidecar_signature(path: str | Path) -> Optional[tuple[list[TensorInfo], list[TensorInfo]]]:
    record = read_sidecar(path)
    if record is None:
        return None
    return [TensorInfo.from_dict(t) for t in record["inputs"]], [TensorInfo.from_dict(t) for t in record["outputs"]]


def placeholder_info(node: Any) -> TensorInfo:
    """A ``Placeholder`` or ``PlaceholderWithDefault`` node as the :class:`TensorInfo` of its output."""
    from tensorboard.compat.proto import types_pb2

    try:
        dtype = types_pb2.DataType.Name(node.attr["dtype"].type).removeprefix("DT_").lower()
    except ValueError:  # an enum value this protobuf release does not name (a damaged or newer file)
        dtype = f"dtype_{node.attr['dtype'].type}"
    dtype = {"float": "float32", "double": "float64", "half": "float16"}.get(dtype, dtype)
    shape_attr = node.attr["shape"].shape if "shape" in node.attr else None
    if shape_attr is None or shape_attr.unknown_rank:
        shape = None
    else:
        shape = tuple(None if d.size < 0 else int(d.size) for d in shape_attr.dim)
    return TensorInfo(f"{node.name}:0", dtype, shape)


def placeholder_inputs(graph_def: Any) -> list[TensorInfo]:
    """Every non-resource ``Placeholder`` as a :class:`TensorInfo`."""
    return [
        placeholder_info(node)
        for node in graph_def.node
        if node.op == "Placeholder" and node.attr["dtype"].type != DT_RESOURCE
    ]


def optional_inputs(graph_def: Any) -> list[TensorInfo]:
    """Every ``PlaceholderWithDefault`` (``is_training``, ``keep_prob``): inputs fed only when wanted."""
    return [placeholder_info(node) for node in graph_def.node if node.op == "PlaceholderWithDefault"]


def has_v1_control_flow(graph_def: Any) -> bool:
    """True when the graph holds TF1 dataflow control flow (Switch, Merge, Enter, Exit, ...)."""
    return any(node.op in V1_CONTROL_FLOW_OPS for node in graph_def.node)


def _all_nodes(graph_def: Any) -> list[Any]:
    return list(graph_def.node) + [n for f in graph_def.library.function for n in f.node_def]


def device_pins(graph_def: Any) -> dict[str, int]:
    """How many nodes (library functions included) are pinned to each device, most first."""
    counts: dict[str, int] = {}
    for node in _all_nodes(graph_def):
        if node.device:
            counts[node.device] = counts.get(node.device, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _colocation_targets(node: Any) -> list[str]:
    if "_class" not in node.attr:
        return []
    return [raw.decode("utf-8", "replace")[5:] for raw in node.attr["_class"].list.s if raw.startswith(b"loc:@")]


def dangling_colocation(graph_def: Any) -> list[tuple[str, str]]:
    """``(node, target)`` for every colocation attr (``_class: loc:@target``) naming a node the graph lacks."""
    names = {n.name for n in graph_def.node}
    return [(node.name, target) for node in graph_def.node for target in _colocation_targets(node)
            if target not in names]


def clear_placement(graph_def: Any) -> None:
    """In place: clear every device pin, and drop colocation attrs that name absent nodes."""
    for node in _all_nodes(graph_def):
        node.device = ""
    names = {n.name for n in graph_def.node}
    for node in graph_def.node:
        targets = _colocation_targets(node)
        if targets and any(t not in names for t in targets):
            kept = [f"loc:@{t}".encode() for t in targets if t in names]
            if kept:
                del node.attr["_class"].list.s[:]
                node.attr["_class"].list.s.extend(kept)
            else:
                del node.attr["_class"]


def stale_ref_ops(graph_def: Any) -> list[str]:
    """Nodes of a ref-typed op (``RefSwitch``, ...) in a graph that holds no variable to feed them a ref."""
    if any(node.op in REF_SOURCE_OPS for node in graph_def.node):
        return []
    return [node.name for node in graph_def.node if node.op in REF_OP_TWINS]


def replace_ref_ops(graph_def: Any) -> None:
    """In place: each op of :func:`stale_ref_ops` becomes its plain twin (``RefSwitch`` → ``Switch``)."""
    stale = set(stale_ref_ops(graph_def))
    for node in graph_def.node:
        if node.name in stale:
            node.op = REF_OP_TWINS[node.op]


def needs_placement_cleared(graph_def: Any) -> bool:
    """True when :func:`clear_placement` would change something."""
    return bool(device_pins(graph_def) or dangling_colocation(graph_def))


def sink_outputs(graph_def: Any) -> list[str]:
    """Names (``op:0``) of nodes whose outputs nothing consumes: the likely graph outputs."""
    consumed = set()
    for node in graph_def.node:
        for edge in node.input:
            consumed.add(node_name(edge))
    skip = {"NoOp", "Placeholder", "Const", "Assert", "SaveV2", "RestoreV2"}
    return [f"{n.name}:0" for n in graph_def.node if n.name not in consumed and n.op not in skip]


def encode_varint(value: int) -> bytes:
    """``value`` (>= 0) as a protobuf base-128 varint: how a length-delimited field states its size.

    A GraphDef's repeated fields may be written one by one (tag, varint length, message), so a
    large graph can be streamed to disk node by node.
    """
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)
