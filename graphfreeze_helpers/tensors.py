"""Small value types shared by every stage: a tensor's name, dtype and shape, and how to write them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Optional, Sequence

from .errors import InputError

Shape = tuple[Optional[int], ...]


@dataclass(frozen=True)
class TensorInfo:
    """A graph tensor as ``name`` (``op:index``), dtype name and shape (``None`` = any size)."""

    name: str
    dtype: str
    shape: Optional[Shape]

    @property
    def op_name(self) -> str:
        return node_name(self.name)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype, "shape": None if self.shape is None else list(self.shape)}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "TensorInfo":
        shape = raw.get("shape")
        return cls(str(raw["name"]), str(raw["dtype"]), None if shape is None else tuple(shape))

    @classmethod
    def from_tensor(cls, tensor: Any) -> "TensorInfo":
        shape = tensor.shape
        dims = None if shape.rank is None else tuple(shape.as_list())
        return cls(tensor.name, tensor.dtype.name, dims)

    def __str__(self) -> str:
        return f"{self.name} {self.dtype}{format_shape(self.shape)}"


def tensor_name(name: str) -> str:
    """``'x'`` → ``'x:0'``; names that already carry an index are kept."""
    head, _, tail = name.rpartition(":")
    return name if head and tail.isdigit() else f"{name}:0"


def node_name(name: str) -> str:
    """The node a tensor or an edge names: ``'x:0'``, ``'^x'`` (a control edge) and ``'x'`` → ``'x'``."""
    return name.lstrip("^").split(":", 1)[0]


def format_shape(shape: Optional[Sequence[Optional[int]]]) -> str:
    """``(None, 8, 8, 1)`` → ``'(None, 8, 8, 1)'``; an unknown shape (``None``) → ``'?'``."""
    if shape is None:
        return "?"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


@dataclass(frozen=True)
class TensorArg:
    """A tensor named on the command line: ``image[?,224,224,3]`` → ``TensorArg("image:0", (None, 224, 224, 3))``.

    ``shape`` is ``None`` when no ``[...]`` was given (keep the graph's shape).
    """

    name: str
    shape: Optional[Shape] = None

    @property
    def op_name(self) -> str:
        return node_name(self.name)

    def __str__(self) -> str:
        if self.shape is None:
            return self.name
        return self.name + "[" + ",".join("?" if d is None else str(d) for d in self.shape) + "]"


_TENSOR_ARG = re.compile(r"^(?P<name>[^\[\]\s]+?)(?:\[(?P<dims>[^\[\]]*)\])?$")


def parse_tensor_arg(text: Any) -> TensorArg:
    """``"x"``, ``"x:0"``, ``"image[?,224,224,3]"`` or ``"x[]"`` (a scalar) as a :class:`TensorArg`.

    Raises :class:`InputError` with one line on anything else.
    """
    if isinstance(text, TensorArg):
        return text
    raw = str(text).strip()
    match = _TENSOR_ARG.match(raw)
    if not match or match["name"].startswith("^"):
        raise InputError(f"cannot read tensor {raw!r}: write NAME, NAME:INDEX or NAME[SHAPE] like image[?,224,224,3]")
    name = tensor_name(match["name"])
    dims = match["dims"]
    if dims is None:
        return TensorArg(name)
    parts = [part.strip() for part in dims.split(",")] if dims.strip() else []
    shape: list[Optional[int]] = []
    for part in parts:
        if part in ("?", "-1", "None"):
            shape.append(None)
        elif part.isdigit():
            shape.append(int(part))
        else:
            raise InputError(
                f"cannot read the shape of {raw!r}: each dimension is a whole number or ?, like image[?,224,224,3]"
            )
    return TensorArg(name, tuple(shape))


def parse_tensor_args(texts: Iterable[Any]) -> list[TensorArg]:
    """:func:`parse_tensor_arg` on each; a tensor named twice is an :class:`InputError`."""
    parsed = [parse_tensor_arg(text) for text in texts]
    seen: set[str] = set()
    for arg in parsed:
        if arg.name in seen:
            raise InputError(f"tensor {arg.name!r} is named twice")
        seen.add(arg.name)
    return parsed


def output_key(name: str) -> str:
    """The key of an output in an ``.npz``: ``'probs:0'`` → ``'probs'``, ``'split:1'`` stays ``'split:1'``."""
    head, _, tail = name.rpartition(":")
    return head if head and tail == "0" else name


def match_tensor_name(given: str, names: Sequence[str]) -> Optional[str]:
    """Which of ``names`` (a model's input or output names) ``given`` means, or ``None``.

    ``'image'``, ``'image:0'`` and a runtime's spelling of them (LiteRT's
    ``'serving_default_image:0'``) all match; an exact match wins.
    """
    if given in names:
        return given
    want = tensor_name(given)
    for prefix in ("", "serving_default_"):
        for name in names:
            if tensor_name(name) == want or (prefix and tensor_name(name) == prefix + want):
                return name
    return None
