"""Which ops in a GraphDef reach outside the process: files, Python, writers, the network.

A frozen graph is a program. :func:`scan` walks every node at the top level and inside
every function of the library (the branches of ``If``/``Case``, the body of ``While``,
anything a call op or another ``func`` attr names), and reports each node whose op is in
:data:`.ops.UNSAFE_OPS`. It reads protos only; TensorFlow is never imported.

It also flags ops that TensorFlow does not know (checked against ``known_ops.txt``, the op
registry of the TensorFlow release we pin, written by ``tools/gen_known_ops.py``) and string
constants that look like file paths or URLs.

The catalogue lives in :mod:`.ops` with every other op catalogue; ``summary.summarize`` and
``graphfreeze scan`` both use this scan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Collection, Iterator, Optional, Union

from .formatting import printable
from .ops import UNSAFE_OPS


@dataclass(frozen=True)
class UnsafeOp:
    """One flagged node: its name, op type, the library function holding it (``None`` = top level), and why."""

    node: str
    op: str
    function: Optional[str]
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"node": self.node, "op": self.op, "function": self.function, "reason": self.reason}

    def __str__(self) -> str:
        where = f" in function {self.function!r}" if self.function else ""
        return f"{self.node} ({self.op}){where}: {self.reason}"


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


def reachable_functions(graph_def: Any) -> list[str]:
    """Library functions reachable from the top-level nodes, in walk order (linear time)."""
    by_name: dict[str, list[Any]] = {}
    for fdef in graph_def.library.function:
        by_name.setdefault(fdef.signature.name, []).append(fdef)
    order: list[str] = []
    seen: set[str] = set()
    for node in graph_def.node:
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


def scan(graph_def: Any, *, known_ops: KnownOps = SHIPPED) -> list[UnsafeOp]:
    """Every node (top level and inside library functions) that reaches outside the process.

    A node is flagged when its op is in :data:`.ops.UNSAFE_OPS`, when it is a string ``Const``
    whose value looks like a file path or URL, or when its op is unknown: neither a
    function of the graph's library nor in ``known_ops``. ``known_ops`` defaults to the op
    list shipped with the package (TensorFlow's registry, no TensorFlow import); pass a
    collection of your own (anything with ``in``), or ``None`` to skip that check.
    """
    known = shipped_known_ops() if isinstance(known_ops, _Shipped) else known_ops
    library = {f.signature.name for f in graph_def.library.function}
    found: list[UnsafeOp] = []
    for function, node in walk(graph_def):
        reason = _reason(node)
        if reason is None and known is not None and node.op not in known and node.op not in library:
            reason = UNKNOWN_OP_REASON
        if reason is None:
            reason = _path_constant_reason(node)
        if reason is not None:
            found.append(UnsafeOp(node.name, node.op, function, reason))
    return found


def refusal_message(source: str, found: list[UnsafeOp], *, limit: int = 5) -> str:
    """One line for :class:`UnsafeGraphError`: each flagged node and op, and how to opt in."""
    listed = "; ".join(printable(item) for item in found[:limit])
    more = f"; and {len(found) - limit} more" if len(found) > limit else ""
    return (
        f"refusing to load {source}: {len(found)} unsafe op(s): {listed}{more}. "
        "Run `graphfreeze scan` to see them all; if you trust the file, pass allow_unsafe=True "
        "(--allow-unsafe), and run untrusted graphs only in a sandbox"
    )
