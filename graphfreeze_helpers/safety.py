"""Which ops in a GraphDef reach outside the process: files, Python, writers, the network.

A frozen graph is a program. :func:`scan` walks every node at the top level and inside
every function of the library (the branches of ``If``/``Case``, the body of ``While``,
anything a call op or another ``func`` attr names), and reports each node whose op is in
:data:`.ops.UNSAFE_OPS`. It reads protos only; TensorFlow is never imported.

It also flags ops that TensorFlow does not know (checked against ``known_ops.txt``, the op
registry of the TensorFlow release we pin, written by ``tools/gen_known_ops.py``) and string
constants that look like file paths or URLs.

The catalogue lives in :mod:`.ops` with every other op catalogue; ``summary.summarize`` and
``graphfreeze scan`` both use this scan. Given the bytes a graph was parsed from
(``check(graph_def, serialized=...)``), a library of many functions is read in bulk first and
each distinct node checked once; the report is the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Collection, Iterator, Optional, Union

from .errors import GraphFormatError, UnsafeGraphError
from .formatting import printable
from .ops import SAVED_MODEL_VARIABLE_OPS, SAVER_OPS, UNSAFE_OPS, allowed_ops
from .tensors import node_name


@dataclass(frozen=True)
class UnsafeOp:
    """One flagged node: its name, op type, the library function holding it (``None`` = top level), and why."""

    node: str
    op: str
    function: Optional[str]
    reason: str
    nested_in: tuple[str, ...] = ()  # the strings holding the graph it is in, outermost first (see check())

    def to_dict(self) -> dict[str, Any]:
        return {"node": self.node, "op": self.op, "function": self.function, "reason": self.reason,
                "nested_in": list(self.nested_in)}

    def __str__(self) -> str:
        where = f" in function {self.function!r}" if self.function else ""
        inside = f" inside the graph in {' > '.join(self.nested_in)}" if self.nested_in else ""
        return f"{self.node} ({self.op}){where}{inside}: {self.reason}"


# --- walking a GraphDef and its function library ----------------------------------------------


def called_functions(node: Any) -> list[str]:
    """Names of the functions a node's attrs refer to (``then_branch``, ``body``, ``f``, ``branches``, ...),
    in attr-name order.

    A ``func`` attr can itself carry attrs that name functions (a function passed to a
    function); those are included too, depth first. The walk uses a stack, not recursion,
    so no nesting depth makes it fail, and it visits each attr once.
    """
    names: list[str] = []
    stack: list[Any] = [node.attr]
    while stack:
        attrs = stack.pop()
        nested: list[Any] = []
        for key in sorted(attrs):
            value = attrs[key]
            kind = value.WhichOneof("value")
            if kind == "func":
                funcs: Any = (value.func,)
            elif kind == "list" and len(value.list.func):
                funcs = value.list.func
            else:
                continue
            for func in funcs:
                names.append(func.name)
                if len(func.attr):
                    nested.append(func.attr)
        stack.extend(reversed(nested))
    return [n for n in names if n]


def function_refs(node: Any, library: Collection[str]) -> list[str]:
    """The library functions a node runs: those its attrs name, and its op type when that names one."""
    names = [n for n in called_functions(node) if n in library] if len(node.attr) else []
    if node.op in library:
        names.append(node.op)
    return names


def walk(graph_def: Any) -> Iterator[tuple[Optional[str], Any]]:
    """Yield ``(function_name, node_def)`` for every node: top level first (``None``), then each library function once.

    Functions are visited in the order they are first referenced (breadth first from the top
    level, following every func attr and calls whose op type is a function name), then any
    functions nothing refers to, in library order. The order is deterministic, and the cost
    is linear in the size of the graph: each node and each attr is looked at once. A name
    that the library holds twice is walked twice (both definitions are read).
    """
    functions = graph_def.library.function
    by_name: dict[str, list[Any]] = {}
    for fdef in functions:
        by_name.setdefault(fdef.signature.name, []).append(fdef)
    order: list[str] = []
    seen: set[str] = set()

    def enqueue(node: Any) -> None:
        for name in function_refs(node, by_name):
            if name not in seen:
                seen.add(name)
                order.append(name)

    for node in graph_def.node:
        yield None, node
        enqueue(node)
    i = 0
    rest = iter(by_name)
    while True:
        while i < len(order):
            name = order[i]
            i += 1
            for fdef in by_name[name]:
                for node in fdef.node_def:
                    yield name, node
                    enqueue(node)
        for name in rest:  # the next function nothing referred to (the iterator resumes where it stopped)
            if name not in seen:
                seen.add(name)
                order.append(name)
                break
        else:
            return


def functions_reached(graph_def: Any, from_nodes: Optional[Collection[str]] = None) -> list[str]:
    """Library functions reachable from the top-level nodes (only those named in ``from_nodes``, if
    given), in walk order; linear time."""
    by_name: dict[str, list[Any]] = {}
    for fdef in graph_def.library.function:
        by_name.setdefault(fdef.signature.name, []).append(fdef)
    order: list[str] = []
    seen: set[str] = set()
    for node in graph_def.node:
        if from_nodes is not None and node.name not in from_nodes:
            continue
        for name in function_refs(node, by_name):
            if name not in seen:
                seen.add(name)
                order.append(name)
    i = 0
    while i < len(order):
        for fdef in by_name[order[i]]:
            for node in fdef.node_def:
                for name in function_refs(node, by_name):
                    if name not in seen:
                        seen.add(name)
                        order.append(name)
        i += 1
    return order


def reachable_functions(graph_def: Any) -> list[str]:
    """Library functions reachable from the top-level nodes, in walk order (linear time)."""
    return functions_reached(graph_def)


# --- the scan ---------------------------------------------------------------------------------


def _reason(node: Any) -> Optional[str]:
    reason = UNSAFE_OPS.get(node.op)
    if reason is None:
        return None
    if node.op == "PrintV2":
        # tf.print to the process's own streams or log is harmless; a file:// stream writes files.
        stream = node.attr["output_stream"].s.decode("utf-8", "replace") if "output_stream" in node.attr else "stderr"
        if stream in _CONSOLE_STREAMS:
            return None
        if stream.startswith("file://"):
            return f"prints tensors to a file ({stream!r})"
        return f"prints tensors to {stream!r}"
    return reason


_CONSOLE_STREAMS = frozenset({"stderr", "stdout", "log(info)", "log(warning)", "log(error)"})


_KNOWN_OPS_FILE = Path(__file__).with_name("known_ops.txt")


@lru_cache(maxsize=1)
def shipped_known_ops() -> frozenset[str]:
    """The op names TensorFlow registers, read from ``known_ops.txt`` (see ``tools/gen_known_ops.py``)."""
    lines = _KNOWN_OPS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


class _Shipped:
    """Marker for scan()'s default: check op names against :func:`shipped_known_ops`."""

    def __repr__(self) -> str:
        return "SHIPPED_KNOWN_OPS"


SHIPPED = _Shipped()
UNKNOWN_OP_REASON = "an op TensorFlow does not know (a custom op from a shared library can do anything)"

# A string constant "looks like a path or URL": a URL scheme, an absolute, home- or dot-relative
# path, a Windows drive or UNC path, or a single token (no spaces) containing / or \ such as
# "data/vocab.txt". Strings with spaces ("N/A per item") are text, not paths.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]{0,15}://", re.ASCII)
_PATH_START = re.compile(r"^(?:~|\.{1,2})?[/\\]|^[A-Za-z]:[/\\]", re.ASCII)
_TOKEN_WITH_SEPARATOR = re.compile(r"^[^\s/\\]+[/\\]\S*[^\s/\\]$", re.ASCII)
_DT_STRING = 7
_MAX_STRINGS_CHECKED = 100_000  # per node; a vocabulary can be large, a scan must stay fast
_MAX_STRING_BYTES = 4096  # longer strings are data, not paths


def looks_like_path_or_url(text: str) -> bool:
    """True for ``/etc/passwd``, ``C:\\x``, ``..\\a``, ``data/vocab.txt``, ``gs://b/o``, ``https://h``, ``file:///x``."""
    if not text or len(text) > _MAX_STRING_BYTES:
        return False
    return bool(_URL.match(text) or _PATH_START.match(text) or _TOKEN_WITH_SEPARATOR.match(text))


def _path_constant_reason(node: Any) -> Optional[str]:
    if node.op != "Const" or "value" not in node.attr:
        return None
    tensor = node.attr["value"].tensor
    if tensor.dtype != _DT_STRING:
        return None
    hits = 0
    first = ""
    for raw in tensor.string_val[:_MAX_STRINGS_CHECKED]:
        text = raw[:_MAX_STRING_BYTES + 1].decode("utf-8", "replace")
        if looks_like_path_or_url(text):
            hits += 1
            first = first or text
    if not hits:
        return None
    shown = first if len(first) <= 80 else first[:77] + "..."
    more = f" (and {hits - 1} more)" if hits > 1 else ""
    return f"a string constant that looks like a file path or URL: {shown!r}{more}"


KnownOps = Union[Collection[str], _Shipped, None]

# A string that may hold a serialized GraphDef: it starts with field 1 (node) or 2 (library),
# length-delimited. Such strings are parsed and scanned as graphs, down to MAX_NESTED_DEPTH
# graphs inside graphs (each level re-reads at most the bytes of the one above, so the cost
# stays within MAX_NESTED_DEPTH times the file's size).
_GRAPH_HEADS = (0x0A, 0x12)
MAX_NESTED_DEPTH = 4
_DT_VARIANT = 21
_OPAQUE_DTYPES = (_DT_STRING, _DT_VARIANT)  # a Const of these may hold a path, a graph or an opaque object
_VARIANT_CONSTANT = ("a variant constant: an opaque object TensorFlow decodes when the graph runs "
                     "(it may hold a dataset or another program)")


@dataclass
class ScanReport:
    """What :func:`check` found: deny-list findings (``unsafe``), and every op not known to be safe.

    ``not_known_safe`` holds every node whose op is outside the allow-list
    (:func:`.ops.allowed_ops`), every op a func attr names that is outside it, variant
    constants, and constants holding a serialized graph; ``unsafe`` is what :func:`scan`
    returns. Findings inside a nested graph carry the path to it in ``nested_in``.
    """

    unsafe: list[UnsafeOp]
    not_known_safe: list[UnsafeOp]

    @property
    def clean(self) -> bool:
        return not self.unsafe and not self.not_known_safe

    def refusals(self) -> list[UnsafeOp]:
        """Every finding once (a node both lists name is shown with its deny-list reason), in walk order."""
        seen = {(u.node, u.op, u.function, u.nested_in) for u in self.unsafe}
        return list(self.unsafe) + [u for u in self.not_known_safe
                                    if (u.node, u.op, u.function, u.nested_in) not in seen]

    def to_dict(self) -> dict[str, Any]:
        return {"clean": self.clean, "unsafe_ops": [u.to_dict() for u in self.unsafe],
                "not_known_safe": [u.to_dict() for u in self.not_known_safe]}


def _string_values(node: Any) -> Iterator[tuple[str, int, bytes]]:
    """``(attr, index, bytes)`` for every string an attr holds: ``s``, ``list.s`` and string tensors."""
    for key, value in node.attr.items():
        kind = value.WhichOneof("value")
        if kind == "s":
            yield key, 0, value.s
        elif kind == "list" and len(value.list.s):
            for i, raw in enumerate(value.list.s):
                yield key, i, raw
        elif kind == "tensor" and value.tensor.dtype == _DT_STRING:
            for i, raw in enumerate(value.tensor.string_val):
                yield key, i, raw


# What TensorFlow accepts as an op type and a node name; a string that parses as a GraphDef
# only by accident (protobuf reads many short strings as some message) names neither.
_OP_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_>]*\Z")
_NODE_NAME = re.compile(r"[A-Za-z0-9.][A-Za-z0-9_>./-]*\Z")


def nested_graph(raw: bytes) -> Any:
    """The GraphDef serialized in ``raw``, or ``None``.

    A string counts as a graph when it parses as a GraphDef holding at least one node, and every
    node has a name and an op type TensorFlow would accept (a graph with others would not import,
    so it could not run either).
    """
    if len(raw) < 2 or raw[0] not in _GRAPH_HEADS:
        return None
    graph_def = _empty_graph_def()
    try:
        graph_def.ParseFromString(raw)
    except Exception:  # protobuf's DecodeError: not a graph
        return None
    nodes = list(graph_def.node) + [n for f in graph_def.library.function for n in f.node_def]
    if nodes and all(_OP_NAME.match(n.op) and _NODE_NAME.match(n.name) for n in nodes):
        return graph_def
    return None


def _empty_graph_def() -> Any:
    from tensorboard.compat.proto import graph_pb2

    return graph_pb2.GraphDef()


@dataclass(frozen=True)
class _SavedModelParts:
    """What a SavedModel may hold besides allowed ops: its variables anywhere, and checkpoint ops and
    path constants in the saver's own nodes and functions."""

    saver_nodes: frozenset[str] = frozenset()
    saver_functions: frozenset[str] = frozenset()

    def trusted(self, function: Optional[str], node: Any) -> bool:
        return function in self.saver_functions if function is not None else node.name in self.saver_nodes


class _LazyNames:
    """``name in names``: the function names of a library, read on the first question."""

    def __init__(self, functions: Any) -> None:
        self.functions = functions
        self.names: Optional[set[str]] = None

    def __contains__(self, name: object) -> bool:
        if self.names is None:
            self.names = {fdef.signature.name for fdef in self.functions}
        return name in self.names


# Below this many bytes of file per library function, reading the library's nodes in bulk
# (about 2 ns a byte) costs less than reading them node by node (about 1 µs a node).
_BULK_BYTES_PER_FUNCTION = 4096
_BULK_HEAD = 10_000  # nodes looked at first, to give up early on a library of distinct nodes


@lru_cache(maxsize=1)
def _merged_library_class() -> Any:
    """A message class reading GraphDef bytes as one merged function: ``.library.function.node_def``
    holds every library function's nodes, serialized, and ``.library.function.signature`` their signatures.

    It declares GraphDef's ``library``, FunctionDefLibrary's ``function`` and FunctionDef's
    ``signature`` and ``node_def`` with their own numbers and wire types, but the first two as
    single messages and the last two as bytes. Protobuf merges repeated occurrences of a single
    message, so the nodes of every function land in one repeated field, in library order, each
    holding the bytes the GraphDef parser reads that node from; every other field is skipped.
    """
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    from tensorboard.compat.proto import function_pb2, graph_pb2

    field = descriptor_pb2.FieldDescriptorProto
    package = "graphfreeze_merged_library"
    proto = descriptor_pb2.FileDescriptorProto(name=f"{package}.proto", package=package, syntax="proto3")
    layout = {"Graph": (graph_pb2.GraphDef, {"library": "Library"}),
              "Library": (function_pb2.FunctionDefLibrary, {"function": "Function"}),
              "Function": (function_pb2.FunctionDef, {"signature": None, "node_def": None})}
    for name, (original, members) in layout.items():
        message = proto.message_type.add(name=name)
        for member, inner in members.items():
            number = original.DESCRIPTOR.fields_by_name[member].number
            if inner is None:
                message.field.add(name=member, number=number, type=field.TYPE_BYTES, label=field.LABEL_REPEATED)
            else:
                message.field.add(name=member, number=number, type=field.TYPE_MESSAGE, label=field.LABEL_OPTIONAL,
                                  type_name=f".{package}.{inner}")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{package}.Graph"))


def merged_library(serialized: bytes) -> Any:
    """The library functions of GraphDef bytes merged into one, read in bulk (one parse in C, no object per
    node or function): ``.node_def`` lists every function's nodes as bytes, in library order, and
    ``.signature`` every function's signature (one each, as TensorFlow writes them)."""
    reader = _merged_library_class()()
    reader.ParseFromString(serialized)
    return reader.library.function


class _Checker:
    """One pass over a graph (and the graphs nested in its strings) for :func:`check`.

    Nodes are read top level first, then each library function in library order, once each. A
    node whose op is allowed and whose attrs cannot hold a function, string or tensor
    (:attr:`.ops.AllowList.plain`, most nodes of a model) costs one set lookup.
    """

    def __init__(self, known: Optional[Collection[str]], allow: Any) -> None:
        self.known = known
        self.allow = allow
        self.report = ScanReport([], [])
        registry = shipped_known_ops()
        if known is None or known is registry:
            self.plain = allow.plain - UNSAFE_OPS.keys()
        elif isinstance(known, (set, frozenset)):
            self.plain = (allow.plain - UNSAFE_OPS.keys()) & known
        else:
            self.plain = frozenset()

    def graph(self, graph_def: Any, nested_in: tuple[str, ...], saved_model: Optional[_SavedModelParts] = None,
              serialized: Optional[bytes] = None) -> None:
        """Check ``graph_def``; ``serialized``, the binary bytes it was parsed from, lets a library be
        found clean without reading its nodes one by one (:meth:`library_clean`)."""
        functions = graph_def.library.function
        library = _LazyNames(functions)  # read only if a node needs it: most never do
        self.nodes(graph_def.node, None, library, nested_in, saved_model)
        if serialized is not None and saved_model is None and self.library_clean(serialized, functions, library):
            return
        for fdef in functions:
            self.nodes(fdef.node_def, fdef, library, nested_in, saved_model)

    def library_clean(self, serialized: bytes, functions: Any, library: Any) -> bool:
        """True when no node of any library function can be a finding, judged once per distinct node.

        A node's findings depend on its bytes and on the library's function names alone (the
        function holding it only labels them), so the distinct serialized nodes of the whole
        library (:func:`merged_library`, read in bulk) are checked as nodes of their own: if
        none is a finding, no node is. ``False`` means "read node by node", which gives every
        finding its function and place: when a distinct node is one, when the bytes hold another
        number of functions than ``functions`` (they are not this graph's), when most nodes are
        distinct (nothing to share), or when a library is a few large functions (reading it
        twice would cost more than reading it once).
        """
        if len(functions) * _BULK_BYTES_PER_FUNCTION < len(serialized):
            return False
        try:
            merged = merged_library(serialized)
        except Exception:  # protobuf's DecodeError: not this graph's bytes
            return False
        if len(merged.signature) != len(functions):  # not this graph's bytes, or a function without one signature
            return False
        raw_nodes = merged.node_def
        head = raw_nodes[:_BULK_HEAD]
        if 2 * len(set(head)) > len(head):  # the first nodes are mostly distinct: no need to hash them all
            return False
        distinct = set(raw_nodes)
        if 2 * len(distinct) > len(raw_nodes):
            return False
        from tensorboard.compat.proto import node_def_pb2

        trial = _Checker(self.known, self.allow)
        trial.nodes([node_def_pb2.NodeDef.FromString(raw) for raw in distinct], None, library, (), None)
        return trial.report.clean

    def nodes(self, nodes: Any, fdef: Any, library: Any, nested_in: tuple[str, ...],
              saved_model: Optional[_SavedModelParts]) -> None:
        """Check ``nodes``, the top level's (``fdef`` None) or a library function's."""
        plain, allow, known = self.plain, self.allow, self.known
        registry = shipped_known_ops()
        unsafe, not_safe = self.report.unsafe, self.report.not_known_safe
        const_known = known is None or "Const" in known
        function: Optional[str] = None
        for node in nodes:
            op = node.op
            if op in plain:
                continue
            if op == "Const" and const_known:
                dtype = node.attr.get("dtype")  # TensorFlow refuses a Const whose value has another dtype
                if dtype is not None and dtype.type not in _OPAQUE_DTYPES:
                    continue
                if function is None and fdef is not None:
                    function = fdef.signature.name
                if saved_model is None or not saved_model.trusted(function, node):
                    self.constant(node, function, nested_in)
                continue
            if function is None and fdef is not None:
                function = fdef.signature.name
            if saved_model is not None and (op in SAVED_MODEL_VARIABLE_OPS or (
                    op in SAVER_OPS and saved_model.trusted(function, node))):
                continue
            call = op in library and op not in registry  # TensorFlow refuses a function named like an op
            reason = _reason(node) if op in UNSAFE_OPS else None
            if reason is None and known is not None and op not in known and op not in library:
                reason = UNKNOWN_OP_REASON
            if reason is not None:
                unsafe.append(UnsafeOp(node.name, op, function, reason, nested_in))
            if not call and op not in allow:
                not_safe.append(UnsafeOp(node.name, op, function, allow.reason(op), nested_in))
            if len(node.attr):
                self.attrs(node, function, library, nested_in)

    def constant(self, node: Any, function: Optional[str], nested_in: tuple[str, ...]) -> None:
        """A ``Const``: its value is all it holds (a string may be a path or a graph; a variant is opaque).

        Its ``dtype`` attr tells first: TensorFlow refuses a Const whose value has another dtype.
        """
        dtype = node.attr.get("dtype")
        if dtype is not None and dtype.type not in _OPAQUE_DTYPES:
            return
        value = node.attr.get("value")
        if value is None:
            return
        tensor = value.tensor
        if tensor.dtype == _DT_STRING:
            reason = _path_constant_reason(node)
            if reason is not None:
                self.report.unsafe.append(UnsafeOp(node.name, node.op, function, reason, nested_in))
            for index, raw in enumerate(tensor.string_val):
                self.nested(node, "value", index, raw, function, nested_in)
        elif tensor.dtype == _DT_VARIANT:
            self.report.not_known_safe.append(UnsafeOp(node.name, node.op, function, _VARIANT_CONSTANT, nested_in))

    def attrs(self, node: Any, function: Optional[str], library: Collection[str], nested_in: tuple[str, ...]) -> None:
        not_safe = self.report.not_known_safe
        for name in called_functions(node):
            if name not in library and name not in self.allow:  # a func attr can name an op: TF runs it as one
                not_safe.append(UnsafeOp(node.name, name, function, f"named by a func attr of {node.op}, which "
                                         f"runs it as a function: {self.allow.reason(name)}", nested_in))
                if name in UNSAFE_OPS:
                    self.report.unsafe.append(UnsafeOp(node.name, name, function, f"runs {name} through a func "
                                                       f"attr: {UNSAFE_OPS[name]}", nested_in))
        for key, index, raw in _string_values(node):
            self.nested(node, key, index, raw, function, nested_in)

    def nested(self, node: Any, key: str, index: int, raw: bytes, function: Optional[str],
               nested_in: tuple[str, ...]) -> None:
        """Scan ``raw`` as a graph when it is one (:func:`nested_graph`), its findings under ``node.key[index]``."""
        inner = nested_graph(raw)
        if inner is None:
            return
        not_safe = self.report.not_known_safe
        where = f"{function}/" if function else ""
        not_safe.append(UnsafeOp(node.name, node.op, function, f"holds a serialized graph ({len(inner.node)} "
                                 f"nodes, {len(inner.library.function)} functions) in {key}[{index}]: a "
                                 "program inside the program", nested_in))
        if len(nested_in) >= MAX_NESTED_DEPTH:
            not_safe.append(UnsafeOp(node.name, node.op, function, f"a serialized graph nested more than "
                                     f"{MAX_NESTED_DEPTH} deep: not scanned further", nested_in))
            return
        self.graph(inner, nested_in + (f"{where}{node.name}.{key}[{index}]",), serialized=raw)


def check(graph_def: Any, *, known_ops: KnownOps = SHIPPED, serialized: Optional[bytes] = None) -> ScanReport:
    """The whole safety scan: deny-list findings and every op outside the allow-list, in one linear pass.

    The decision depends only on files shipped with the package (``allowed_ops.json`` and
    ``known_ops.txt``, made from TensorFlow 2.21's registry), never on what the running
    process has registered. Strings that hold a serialized GraphDef (a tf.data graph for
    ``DatasetFromGraph``, say) are parsed and scanned too; their findings carry the path to
    them (``node.attr[i]``, outermost first) in ``nested_in``.

    ``serialized``, the binary bytes ``graph_def`` was parsed from (:func:`.graphfile.read_graph_file`
    gives both), makes a library of many functions faster to scan: its nodes are read in bulk and
    each distinct one is checked once. The report is the same with or without it.
    """
    known = shipped_known_ops() if isinstance(known_ops, _Shipped) else known_ops
    checker = _Checker(known, allowed_ops())
    checker.graph(graph_def, (), serialized=serialized)
    return checker.report


def _varint(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if i >= len(data) or shift > 63:
            raise ValueError("a varint runs past the end")
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def saved_model_meta_graphs(data: bytes) -> list[Any]:
    """The MetaGraphDefs in a ``saved_model.pb``'s bytes (field 2 of the SavedModel message), read
    without TensorFlow. Raises ``ValueError`` when the bytes are not a SavedModel."""
    from tensorboard.compat.proto import meta_graph_pb2

    graphs = []
    i = 0
    while i < len(data):
        key, i = _varint(data, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            _, i = _varint(data, i)
        elif wire == 2:
            size, i = _varint(data, i)
            if i + size > len(data):
                raise ValueError("a field runs past the end")
            if field == 2:
                graphs.append(meta_graph_pb2.MetaGraphDef.FromString(data[i:i + size]))
            i += size
        else:
            raise ValueError(f"wire type {wire} in a SavedModel")
    if not graphs:
        raise ValueError("no meta graph")
    return graphs


def upstream_nodes(graph_def: Any, names: Collection[str]) -> frozenset[str]:
    """The top-level nodes named, and every node they take an input (data or control) from, transitively."""
    nodes = {node.name: node for node in graph_def.node}
    seen = {name for name in names if name in nodes}
    stack = list(seen)
    while stack:
        for edge in nodes[stack.pop()].input:
            name = node_name(edge)
            if name in nodes and name not in seen:
                seen.add(name)
                stack.append(name)
    return frozenset(seen)


def check_saved_model(directory: str | Path) -> ScanReport:
    """:func:`check` every meta graph of a SavedModel directory (its ``saved_model.pb``), TensorFlow-free.

    A SavedModel is a program too: its functions run when TensorFlow loads and calls it. The
    scan is the one for frozen graphs, except that the SavedModel's own machinery is expected:
    the ops that hold and restore its variables (:data:`.ops.SAVED_MODEL_VARIABLE_OPS`), and the
    checkpoint ops and path constants in the nodes its ``saver_def`` names, the nodes those take
    their inputs from (TF1's ``save/`` scope), and the functions they call (TF2's ``_traced_save``).
    Raises :class:`GraphFormatError` when ``saved_model.pb`` does not parse.
    """
    path = Path(directory) / "saved_model.pb"
    try:
        meta_graphs = saved_model_meta_graphs(path.read_bytes())
    except OSError as exc:
        raise GraphFormatError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    except Exception:  # ValueError from the reader, DecodeError from protobuf
        raise GraphFormatError(f"{str(path)!r} does not parse as a SavedModel") from None
    checker = _Checker(shipped_known_ops(), allowed_ops())
    for meta_graph in meta_graphs:
        checker.graph(meta_graph.graph_def, (), _saver_parts(meta_graph))
    return checker.report


def _saver_parts(meta_graph: Any) -> _SavedModelParts:
    """The nodes a meta graph's ``saver_def`` names, the nodes those take inputs from, and the functions they call."""
    saver = meta_graph.saver_def
    named = [node_name(n) for n in (saver.restore_op_name, saver.save_tensor_name, saver.filename_tensor_name) if n]
    nodes = upstream_nodes(meta_graph.graph_def, named)
    return _SavedModelParts(nodes, frozenset(functions_reached(meta_graph.graph_def, nodes)))


def check_checkpoint_graph(meta: str | Path, outputs: Collection[str]) -> ScanReport:
    """:func:`check` what restoring and freezing a TF1 checkpoint runs of its ``.meta`` graph, TensorFlow-free.

    A ``.meta`` file (a MetaGraphDef) is a program too. Restoring the checkpoint runs its saver's
    restore op, and freezing runs what ``outputs`` (tensor or node names) need: the nodes those
    name, every node they take an input from (data or control), transitively, and the functions
    those call. That part is checked as a SavedModel is (:func:`check_saved_model`: the saver's
    checkpoint ops and paths expected); the rest of a training graph (its optimizer, gradients,
    summaries) never runs, so its ops are not findings. A ``.meta`` without a restore op is checked
    whole: then a Saver is built for whatever its collections call variables. Raises
    :class:`GraphFormatError` when the file does not parse as a MetaGraphDef.
    """
    from tensorboard.compat.proto import graph_pb2, meta_graph_pb2

    path = Path(meta)
    try:
        meta_graph = meta_graph_pb2.MetaGraphDef.FromString(path.read_bytes())
    except OSError as exc:
        raise GraphFormatError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    except Exception:  # protobuf's DecodeError
        raise GraphFormatError(f"{str(path)!r} does not parse as a TF1 MetaGraphDef (.meta)") from None
    graph_def, parts = meta_graph.graph_def, _saver_parts(meta_graph)
    if meta_graph.saver_def.restore_op_name:
        runs = parts.saver_nodes | upstream_nodes(graph_def, [node_name(name) for name in outputs])
        reached = set(functions_reached(graph_def, runs))
        part = graph_pb2.GraphDef(node=[n for n in graph_def.node if n.name in runs],
                                  library={"function": [f for f in graph_def.library.function
                                                        if f.signature.name in reached]})
        graph_def = part
    checker = _Checker(shipped_known_ops(), allowed_ops())
    checker.graph(graph_def, (), parts)
    return checker.report


def refuse_unsafe_checkpoint_graph(meta: str | Path, outputs: Collection[str], *,
                                   allow_unsafe: bool = False) -> ScanReport:
    """:func:`check_checkpoint_graph`, raising :class:`UnsafeGraphError` on any finding unless ``allow_unsafe``."""
    report = check_checkpoint_graph(meta, outputs)
    if not allow_unsafe and not report.clean:
        raise UnsafeGraphError(refusal_message(f"checkpoint graph {str(meta)!r}", report.refusals()))
    return report


def refuse_unsafe_saved_model(directory: str | Path, *, allow_unsafe: bool = False) -> ScanReport:
    """:func:`check_saved_model`, raising :class:`UnsafeGraphError` on any finding unless ``allow_unsafe``."""
    report = check_saved_model(directory)
    if not allow_unsafe and not report.clean:
        raise UnsafeGraphError(refusal_message(f"SavedModel {str(directory)!r}", report.refusals()))
    return report


def scan(graph_def: Any, *, known_ops: KnownOps = SHIPPED) -> list[UnsafeOp]:
    """Every node (top level, inside library functions and nested graphs) that reaches outside the process.

    A node is flagged when its op is in :data:`.ops.UNSAFE_OPS`, when it is a string ``Const``
    whose value looks like a file path or URL, or when its op is unknown: neither a
    function of the graph's library nor in ``known_ops``. ``known_ops`` defaults to the op
    list shipped with the package (TensorFlow's registry, no TensorFlow import); pass a
    collection of your own (anything with ``in``), or ``None`` to skip that check.
    :func:`check` also lists the ops outside the allow-list.
    """
    return check(graph_def, known_ops=known_ops).unsafe


MAX_LISTED = 20


def refusal_message(source: str, found: list[UnsafeOp], *, limit: int = MAX_LISTED) -> str:
    """The text of :class:`UnsafeGraphError`: a first line saying what and how to opt in, then one line
    per flagged op (node, op, function, why), at most ``limit``; names escaped (:func:`.formatting.printable`)."""
    ops = ", ".join(dict.fromkeys(printable(item.op) for item in found))
    lines = [
        f"refusing to load {source}: {len(found)} op(s) not known to be safe ({ops}); if you trust the file, pass "
        "--allow-unsafe (allow_unsafe=True), and run untrusted graphs only in a sandbox"
    ]
    lines += [f"graphfreeze: refused: {printable(item)}" for item in found[:limit]]
    if len(found) > limit:
        lines.append(f"graphfreeze: refused: ... and {len(found) - limit} more (graphfreeze scan lists them all)")
    return "\n".join(lines)


def refuse_unless_safe(graph_def: Any, source: str, *, allow_unsafe: bool = False) -> ScanReport:
    """Run :func:`check`; raise :class:`UnsafeGraphError` (exit 3) on any finding unless ``allow_unsafe``."""
    report = check(graph_def)
    if not allow_unsafe and not report.clean:
        raise UnsafeGraphError(refusal_message(source, report.refusals()))
    return report


def report_text(source: str, report: ScanReport) -> str:
    """What ``graphfreeze scan`` prints: the deny-list findings with their reasons, then the other ops
    not known to be safe, one a line, every name escaped; or one line saying the graph is clean."""
    if report.clean:
        return (f"{printable(source)}: clean (every op on the allow-list; no file, network, Python or unknown ops; "
                "no path or URL constants)")
    lines = [f"{printable(source)}: {len(report.unsafe)} unsafe op(s), {len(report.not_known_safe)} op(s) not known "
             "to be safe; run it only in a sandbox, and load it with --allow-unsafe"]
    if report.unsafe:
        lines.append("unsafe (deny-list):")
        lines += [f"  {printable(item)}" for item in report.unsafe]
    shown = {(u.node, u.op, u.function, u.nested_in) for u in report.unsafe}
    rest = [u for u in report.not_known_safe if (u.node, u.op, u.function, u.nested_in) not in shown]
    if rest:
        lines.append("not known to be safe (outside the allow-list" + (", besides the above):" if shown else "):"))
        lines += [f"  {printable(item)}" for item in rest]
    return "\n".join(lines)
