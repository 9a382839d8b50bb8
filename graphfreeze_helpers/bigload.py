"""Run a graph whose constants take hundreds of megabytes: each held once, in NumPy, and fed.

TensorFlow copies a ``Const`` op's value many times on its way to a kernel: the GraphDef
is serialized for import, parsed again in C++, held by the ``Graph``, copied by the
``Session`` (its base graph, the client graph, each partition) and once more by the
``Const`` kernel; under ``tf.function`` grappler's constant folding and the function
library add their own. On a 1 GB frozen MLP, TensorFlow's v1 ``Session`` loader peaked at 13.3
GiB and took 90 s to the first result (``benchmarks/scale.py``), for a few matrix products.

So a large graph is run another way (:func:`split_constants`): every top-level ``Const``
of at least :data:`FED_CONSTANT_BYTES` (no inputs, a ``tensor_content``) becomes a
``Placeholder`` of the same name, dtype and shape, and its value a 64-byte aligned NumPy
array, which TensorFlow wraps without a copy when it is fed. The small graph that is left
runs in a v1 ``Session`` (``tf.compat.v1``: the only TF2 way to feed a tensor by name), with
the arrays fed on every call. The arithmetic is the same ops on the same values; grappler
still optimizes the (now small) graph.

``load.choose_method`` picks this (``method="fed"``) when the constants to feed take at
least :data:`LARGE_GRAPH_BYTES`. Below that nothing changes: a small graph keeps its
constants, so grappler can fold them and a call costs no more than the model's own
``tf.function``.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Sequence

import numpy as np

from .tensorproto import dtype_name
from .tensors import TensorInfo
from .tfimport import import_tensorflow, to_tf_graph_def

FED_CONSTANT_BYTES = 1 << 20  # a constant this size or larger is fed; smaller ones (shapes, axes) stay
LARGE_GRAPH_BYTES = 128 << 20  # fed constants totalling this much make a graph "large" (method "fed")
_ALIGN = 64  # TensorFlow wraps a fed array without copying it when its data is this aligned
# dtypes NumPy holds natively (bfloat16 and the quantized types stay constants)
FED_DTYPES = frozenset({"float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16",
                        "uint32", "uint64", "bool", "complex64", "complex128"})


def value_bytes(tensor: Any) -> int:
    """Bytes a numeric ``TensorProto``'s value takes, from its dtype and shape alone (0 for other dtypes).

    Read from the shape, never from ``tensor_content`` or ``ByteSize()``: with protobuf's upb
    backend either copies or encodes the whole value, a second or more a gigabyte.
    """
    name = dtype_name(tensor.dtype)
    if name not in FED_DTYPES:
        return 0
    count = 1
    for dim in tensor.tensor_shape.dim:
        count *= max(int(dim.size), 0)
    return count * np.dtype(name).itemsize


def fed_constants(graph_def: Any, min_bytes: int = FED_CONSTANT_BYTES) -> list[Any]:
    """The top-level ``Const`` nodes :func:`split_constants` would feed: no inputs, a numeric value of
    at least ``min_bytes`` bytes (no TensorFlow needed)."""
    return [node for node in graph_def.node
            if node.op == "Const" and not node.input and value_bytes(node.attr["value"].tensor) >= min_bytes]


def fed_bytes(graph_def: Any, min_bytes: int = FED_CONSTANT_BYTES) -> int:
    """Bytes the constants to feed take: what decides whether a graph is large (no TensorFlow needed)."""
    return sum(value_bytes(node.attr["value"].tensor) for node in fed_constants(graph_def, min_bytes))


def size_bound(graph_def: Any, min_bytes: int = FED_CONSTANT_BYTES) -> int:
    """An upper bound of ``graph_def.ByteSize()`` that never encodes a large constant (see :func:`value_bytes`):
    each large value's bytes plus 1 KiB for its node, every other node's own size, and the library."""
    total = 0
    for node in graph_def.node:
        size = value_bytes(node.attr["value"].tensor) if node.op == "Const" and not node.input else 0
        total += size + 1024 if size >= min_bytes else node.ByteSize() + 11  # + tag and length
    return total + graph_def.library.ByteSize() + graph_def.versions.ByteSize() + 32


def is_large(graph_def: Any) -> bool:
    """True when the graph's large constants total :data:`LARGE_GRAPH_BYTES` or more."""
    return fed_bytes(graph_def) >= LARGE_GRAPH_BYTES


def graph_def_for_file(path: Any) -> Any:
    """An empty ``tf.compat.v1.GraphDef`` to read ``path`` into when the file is large (``None`` otherwise):
    TensorFlow's loaders want their own class, and converting a GraphDef read with TensorBoard's
    protos encodes and parses it all again."""
    if os.path.getsize(path) < LARGE_GRAPH_BYTES:
        return None
    return import_tensorflow().compat.v1.GraphDef()


def aligned_copy(data: bytes, dtype: Any, shape: Sequence[int]) -> np.ndarray:
    """``data`` as a new array of ``dtype`` and ``shape`` whose buffer starts on a 64-byte boundary."""
    raw = np.empty(len(data) + _ALIGN, np.uint8)
    start = (-raw.ctypes.data) % _ALIGN
    array = raw[start:start + len(data)]
    array[:] = np.frombuffer(data, np.uint8)
    return array.view(dtype).reshape(tuple(shape))


def split_constants(graph_def: Any, min_bytes: int = FED_CONSTANT_BYTES) -> tuple[Any, dict[str, np.ndarray]]:
    """``(small, values)``: a new GraphDef whose large constants are placeholders, and their values by node name.

    ``graph_def`` is not changed. Node order, names, edges, the function library and the
    versions are kept; a fed placeholder keeps its constant's ``dtype`` and gains its shape.
    """
    big = {node.name for node in fed_constants(graph_def, min_bytes)}
    small = type(graph_def)()
    small.versions.CopyFrom(graph_def.versions)
    small.library.CopyFrom(graph_def.library)
    values: dict[str, np.ndarray] = {}
    for node in graph_def.node:
        content = node.attr["value"].tensor.tensor_content if node.name in big else b""
        if not content or len(content) != value_bytes(node.attr["value"].tensor):
            small.node.add().CopyFrom(node)  # not large, or its value is not in tensor_content (a splat)
            continue
        tensor = node.attr["value"].tensor
        shape = [dim.size for dim in tensor.tensor_shape.dim]
        values[node.name] = aligned_copy(content, np.dtype(dtype_name(tensor.dtype)), shape)
        del content
        placeholder = small.node.add()
        placeholder.name = node.name
        placeholder.op = "Placeholder"
        placeholder.device = node.device
        placeholder.attr["dtype"].type = tensor.dtype
        placeholder.attr["shape"].shape.CopyFrom(tensor.tensor_shape)
    return small, values


def const_node(node: Any, value: np.ndarray, dtype_enum: int) -> None:
    """Turn ``node`` (in place) into a ``Const`` of the same name holding ``value`` (one copy, in the proto)."""
    name = node.name
    node.Clear()
    node.name = name
    node.op = "Const"
    node.attr["dtype"].type = dtype_enum
    tensor = node.attr["value"].tensor
    tensor.dtype = dtype_enum
    for size in value.shape:
        tensor.tensor_shape.dim.add().size = size
    tensor.tensor_content = np.ascontiguousarray(value).astype(value.dtype.newbyteorder("<"), copy=False).tobytes()


def restore_constants(graph_def: Any, values: dict[str, np.ndarray]) -> int:
    """In place: each placeholder named in ``values`` becomes the ``Const`` it was before
    :func:`split_constants` (each value is dropped from ``values`` once its node holds it). Returns how many."""
    tf = import_tensorflow()
    restored = 0
    for node in graph_def.node:
        if node.op == "Placeholder" and node.name in values:
            value = values.pop(node.name)
            const_node(node, value, tf.as_dtype(value.dtype).as_datatype_enum)
            restored += 1
    return restored


class FedSession:
    """A large graph in a v1 ``Session``, its large constants fed from NumPy on every call.

    ``callable(fetches, feeds)`` is what ``Session.make_callable`` returns, with the
    constants' arrays appended to the feeds: NumPy arrays in, NumPy arrays out.
    """

    def __init__(self, graph_def: Any, min_bytes: int = FED_CONSTANT_BYTES) -> None:
        tf = import_tensorflow()
        small, self.values = split_constants(to_tf_graph_def(graph_def), min_bytes)
        self.graph = tf.Graph()
        with self.graph.as_default():
            tf.compat.v1.import_graph_def(small, name="")  # tf.compat.v1: TF2 has no other way to feed by name
        del small
        self.session = tf.compat.v1.Session(graph=self.graph)
        self._fed = list(self.values)
        self._arrays = [self.values[name] for name in self._fed]

    def tensor(self, name: str) -> Any:
        return self.graph.get_tensor_by_name(name)

    def callable(self, fetches: Sequence[TensorInfo], feeds: Sequence[TensorInfo]) -> Callable[..., list[np.ndarray]]:
        """A function of the ``feeds`` arrays (in order) that returns the ``fetches`` as NumPy arrays."""
        run = self.session.make_callable(
            [self.tensor(t.name) for t in fetches],
            [self.tensor(t.name) for t in feeds] + [self.tensor(f"{name}:0") for name in self._fed],
        )
        arrays = self._arrays

        def call(*given: Any) -> list[np.ndarray]:
            return run(*given, *arrays)

        return call

    @property
    def bytes(self) -> int:
        """Bytes the fed constants take (held once, here)."""
        return sum(array.nbytes for array in self.values.values())
