"""Read TensorFlow's ``TensorProto`` and ``DataType`` without TensorFlow: dtype names, sizes, values.

    dtype_name(1)                              # 'float32'
    tensor_to_numpy(node.attr["value"].tensor)  # a Const's value as a NumPy array
    const_value(graph_def, "dense/kernel")      # the same, found by node name
"""

from __future__ import annotations

import difflib
from typing import Any, Optional

from . import graphfile, safety, tensors
from .errors import GraphFormatError, TensorNameError

# DataType enum value -> (name, bytes per element); 0 = variable size (strings, variants).
_DTYPES: dict[int, tuple[str, int]] = {
    1: ("float32", 4), 2: ("float64", 8), 3: ("int32", 4), 4: ("uint8", 1), 5: ("int16", 2), 6: ("int8", 1),
    7: ("string", 0), 8: ("complex64", 8), 9: ("int64", 8), 10: ("bool", 1), 11: ("qint8", 1), 12: ("quint8", 1),
    13: ("qint32", 4), 14: ("bfloat16", 2), 15: ("qint16", 2), 16: ("quint16", 2), 17: ("uint16", 2),
    18: ("complex128", 16), 19: ("float16", 2), 20: ("resource", 0), 21: ("variant", 0), 22: ("uint32", 4),
    23: ("uint64", 8),
}
FLOATING_DTYPES = frozenset({"float32", "float64", "float16", "bfloat16", "complex64", "complex128"})


def dtype_name(enum_value: int) -> str:
    """``1`` → ``'float32'``; unknown values keep TensorFlow's enum name in lower case."""
    if enum_value in _DTYPES:
        return _DTYPES[enum_value][0]
    from tensorboard.compat.proto import types_pb2

    try:
        return types_pb2.DataType.Name(enum_value).removeprefix("DT_").lower()
    except ValueError:
        return f"dtype_{enum_value}"


def dtype_itemsize(enum_value: int) -> int:
    """Bytes per element of a DataType enum value; ``0`` for variable-size (strings, variants) or unknown types."""
    return _DTYPES.get(enum_value, ("", 0))[1]


def tensor_shape(tensor: Any) -> tuple[int, ...]:
    """A ``TensorProto``'s shape as a tuple of ints."""
    return tuple(int(d.size) for d in tensor.tensor_shape.dim)


def _find_node(graph_def: Any, node_name: str) -> tuple[Any, Optional[str]]:
    name = tensors.node_name(node_name)
    for function, node in safety.walk(graph_def):
        if node.name == name:
            return node, function
    consts = sorted(n.name for _, n in safety.walk(graph_def) if n.op == "Const")
    close = difflib.get_close_matches(name, consts, n=3)
    hint = f"; did you mean {close}?" if close else f"; it has {len(consts)} Const nodes, e.g. {consts[:3]}"
    raise TensorNameError(f"no node {name!r} in the graph{hint}")


def tensor_to_numpy(tensor: Any) -> Any:
    """Decode a ``TensorProto`` into a NumPy array (``tensor_content`` or the typed ``*_val`` fields)."""
    import numpy as np

    shape = tensor_shape(tensor)
    count = 1
    for d in shape:
        count *= d
    dtype_enum = tensor.dtype
    name = dtype_name(dtype_enum)
    if name == "bfloat16":
        try:
            import ml_dtypes

            np_dtype: Any = np.dtype(ml_dtypes.bfloat16)
        except ImportError:  # read as float32 from the upper 16 bits
            np_dtype = None
    elif name == "string":
        np_dtype = np.dtype(object)
    elif name.startswith("q"):  # qint8 -> int8, quint16 -> uint16
        np_dtype = np.dtype(name[1:])
    elif name in ("resource", "variant") or dtype_enum not in _DTYPES:
        raise GraphFormatError(f"cannot read a {name} tensor as a NumPy array")
    else:
        np_dtype = np.dtype(name)

    if name == "string":
        values = list(tensor.string_val)
        array = np.empty(len(values), dtype=object)
        array[:] = values
    elif tensor.tensor_content:
        if np_dtype is None:
            raw = np.frombuffer(tensor.tensor_content, dtype="<u2").astype("<u4") << 16
            return raw.view("<f4").reshape(shape).copy()
        little_endian = np.frombuffer(tensor.tensor_content, dtype=np_dtype.newbyteorder("<"))
        return little_endian.astype(np_dtype).reshape(shape).copy()
    else:
        if name in ("float16", "bfloat16"):
            bits = np.asarray(list(tensor.half_val), dtype=np.uint16)
            if name == "float16":
                array = bits.view(np.float16)
            elif np_dtype is not None:
                array = bits.view(np_dtype)
            else:
                array = (bits.astype(np.uint32) << 16).view(np.float32)
        elif name == "float32":
            array = np.asarray(list(tensor.float_val), dtype=np.float32)
        elif name == "float64":
            array = np.asarray(list(tensor.double_val), dtype=np.float64)
        elif name == "int64":
            array = np.asarray(list(tensor.int64_val), dtype=np.int64)
        elif name == "uint32":
            array = np.asarray(list(tensor.uint32_val), dtype=np.uint32)
        elif name == "uint64":
            array = np.asarray(list(tensor.uint64_val), dtype=np.uint64)
        elif name == "bool":
            array = np.asarray(list(tensor.bool_val), dtype=bool)
        elif name == "complex64":
            flat = np.asarray(list(tensor.scomplex_val), dtype=np.float32)
            array = flat[0::2] + 1j * flat[1::2]
            array = array.astype(np.complex64)
        elif name == "complex128":
            flat = np.asarray(list(tensor.dcomplex_val), dtype=np.float64)
            array = flat[0::2] + 1j * flat[1::2]
        else:  # int32, int16, int8, uint8, uint16 and the quantized types use int_val
            array = np.asarray(list(tensor.int_val)).astype(np_dtype)
    if array.size == count:
        return array.reshape(shape)
    if array.size == 0:  # all zeros (the proto omits default values)
        return np.zeros(shape, dtype=array.dtype if name != "string" else object)
    if array.size > count:
        raise GraphFormatError(f"tensor holds {array.size} values but its shape {shape} has room for {count}")
    # TensorFlow's rule: the last value repeats to fill the shape (a splat constant).
    filled = np.empty(count, dtype=array.dtype)
    filled[: array.size] = array
    filled[array.size :] = array[-1]
    return filled.reshape(shape)


def const_value(graph_def: Any, node_name: str) -> Any:
    """The value of the ``Const`` node ``node_name`` as a NumPy array, read from the proto without TensorFlow."""
    graph_def, _ = graphfile.as_graph_def(graph_def)
    node, _ = _find_node(graph_def, node_name)
    if node.op != "Const":
        raise TensorNameError(f"node {node.name!r} is a {node.op}, not a Const; only constants hold values")
    return tensor_to_numpy(node.attr["value"].tensor)
