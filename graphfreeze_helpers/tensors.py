"""Small value types shared by every stage: a tensor's name, dtype and shape, and how to write them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence

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
