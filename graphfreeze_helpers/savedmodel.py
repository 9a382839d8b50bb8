"""Wrap a frozen graph in a SavedModel with a ``serving_default`` signature, for tools that take only that.

TF Serving, TF-TRT (``trt.TrtGraphConverterV2``), the TensorFlow.js converter and
``saved_model_cli`` read a SavedModel directory, not a ``.pb``. A frozen graph becomes one
without a checkpoint: the GraphDef is imported inside a ``tf.function`` whose arguments are
the graph's inputs, that function returns ``{output name: tensor}``, and
``tf.saved_model.save`` writes it as the ``serving_default`` signature. The weights stay
constants in the function's graph, so the ``variables/`` folder is empty.

Signature names: an input is called after its node (``image`` for ``image:0``), an output
after its tensor (``Identity`` for ``Identity:0``; ``Identity_1`` for ``Identity:1``), as the
sidecar (or ``--inputs``/``--outputs``) names them. The result is loaded back with
``tf.saved_model.load`` and its signature run against the frozen graph.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from . import files, graphfile
from .errors import GraphFormatError, InputError, OutputExistsError
from .freeze import FrozenGraph
from .load import LoadedGraph
from .optimize import check_against
from .tensors import TensorInfo
from .tfimport import import_tensorflow, to_tf_graph_def
from .verify import DEFAULT_RTOL, DEFAULT_TOLERANCE, Verification

SIGNATURE = "serving_default"


def signature_key(name: str) -> str:
    """A tensor name as a signature key: ``image:0`` → ``image``, ``Identity:1`` → ``Identity_1``, ``a/b`` → ``a_b``."""
    node, _, index = name.partition(":")
    key = re.sub(r"[^A-Za-z0-9_]", "_", node) or "tensor"
    return key if index in ("", "0") else f"{key}_{index}"


def unique_keys(tensors: Sequence[TensorInfo]) -> list[str]:
    keys: list[str] = []
    for t in tensors:
        key = signature_key(t.name)
        keys.append(key if key not in keys else f"{key}_{len(keys)}")
    return keys


@dataclass
class SavedModelExport:
    """A SavedModel folder (written to ``path``), its signature's keys, and its check against the frozen graph."""

    path: Path
    input_keys: list[str]
    output_keys: list[str]
    verification: Optional[Verification] = None
    format: str = "savedmodel"

    @property
    def bytes(self) -> int:
        return sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file())

    @property
    def max_abs_diff(self) -> Optional[float]:
        return None if self.verification is None else self.verification.max_abs_diff

    @property
    def sha256(self) -> str:
        """Of ``saved_model.pb``, the graph and signatures (the weights are constants inside it)."""
        return files.sha256_bytes((self.path / "saved_model.pb").read_bytes())

    @property
    def ops(self) -> dict[str, int]:
        """The signature's keys, in and out: a SavedModel's ops are the frozen graph's."""
        return {}

    def __repr__(self) -> str:
        check = f", {self.verification!r}" if self.verification else ""
        return (f"SavedModelExport({str(self.path)!r}, signature {SIGNATURE!r}: {self.input_keys} -> "
                f"{self.output_keys}{check})")


def serving_function(frozen: FrozenGraph) -> Any:
    """The ``tf.function`` a SavedModel serves: the GraphDef imported inside it, outputs as a dict."""
    tf = import_tensorflow()
    graph_def = to_tf_graph_def(frozen.graph_def)
    in_names, out_names = [t.name for t in frozen.inputs], [t.name for t in frozen.outputs]
    out_keys = unique_keys(frozen.outputs)
    specs = [tf.TensorSpec(t.shape, t.dtype or None, name=key) for t, key in zip(frozen.inputs, unique_keys(
        frozen.inputs))]

    @tf.function(input_signature=specs)
    def serve(*args: Any) -> dict[str, Any]:
        found = tf.graph_util.import_graph_def(graph_def, input_map=dict(zip(in_names, args)),
                                               return_elements=out_names, name="frozen")
        return dict(zip(out_keys, found))

    return serve


def check_target(path: Path, *, force: bool) -> None:
    """The folder may be written: new, or (with ``force``) an earlier SavedModel, never another folder or a file."""
    if not path.exists():
        if not path.parent.is_dir():
            raise InputError(f"output directory {str(path.parent)!r} does not exist; create it first")
        return
    if not force:
        raise OutputExistsError(f"output {str(path)!r} already exists; pass --force (force=True) to overwrite it")
    if not (path / "saved_model.pb").is_file():
        raise InputError(f"output {str(path)!r} exists and is not a SavedModel; --force replaces only a SavedModel")


def write_saved_model(frozen: FrozenGraph, path: str | Path) -> tuple[list[str], list[str]]:
    """Write the SavedModel to the new folder ``path``; returns the signature's input and output keys."""
    if graphfile.has_v1_control_flow(frozen.graph_def):
        raise GraphFormatError("the graph has TF1 control flow (Switch/Merge/Enter/Exit), which cannot be imported "
                               "inside a tf.function; a SavedModel export needs a graph without it")
    tf = import_tensorflow()
    serve = serving_function(frozen)
    module = tf.Module()
    module.serve = serve
    tf.saved_model.save(module, str(path), signatures={SIGNATURE: serve.get_concrete_function()})
    return unique_keys(frozen.inputs), unique_keys(frozen.outputs)


def check_signature(
    path: str | Path, frozen: FrozenGraph, input_keys: Sequence[str], output_keys: Sequence[str], *,
    inputs: Optional[Sequence[Any]] = None, reference: Optional[Callable[..., Any]] = None,
    tolerance: float = DEFAULT_TOLERANCE, rtol: float = DEFAULT_RTOL,
) -> Verification:
    """``tf.saved_model.load`` the SavedModel and run its ``serving_default`` against ``reference`` (default: the
    frozen graph) on ``inputs``: VerificationError beyond ``tolerance + rtol * |reference|``."""
    tf = import_tensorflow()
    signature = tf.saved_model.load(str(path)).signatures[SIGNATURE]
    if reference is None:
        reference = LoadedGraph(frozen.graph_def, frozen.inputs, frozen.outputs)

    def candidate(*arrays: Any) -> list[Any]:
        out = signature(**{key: tf.constant(a) for key, a in zip(input_keys, arrays)})
        return [out[key].numpy() for key in output_keys]

    return check_against(reference, candidate, frozen, inputs, tolerance=tolerance, rtol=rtol,
                         what=f"the SavedModel's {SIGNATURE} signature", against="the frozen graph")


def export_saved_model(
    frozen: FrozenGraph,
    path: str | Path,
    *,
    inputs: Optional[Sequence[Any]] = None,
    reference: Optional[Callable[..., Any]] = None,
    tolerance: float = DEFAULT_TOLERANCE,
    rtol: float = DEFAULT_RTOL,
    check: bool = True,
    force: bool = False,
) -> SavedModelExport:
    """Write ``frozen`` as a SavedModel folder at ``path`` with a ``serving_default`` signature.

    It is written beside ``path`` first and, with ``check``, loaded with ``tf.saved_model.load``
    and its signature run against ``reference`` (:func:`check_signature`); only a SavedModel that
    passes is renamed to ``path``. Never replaces anything but an earlier SavedModel, and that only with ``force``.
    """
    path = Path(path)
    check_target(path, force=force)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        built = staging / "model"
        input_keys, output_keys = write_saved_model(frozen, built)
        verification = None
        if check:
            verification = check_signature(built, frozen, input_keys, output_keys, inputs=inputs,
                                           reference=reference, tolerance=tolerance, rtol=rtol)
        if path.exists():  # an earlier SavedModel, replaced with force (check_target)
            shutil.rmtree(path)
        os.rename(built, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return SavedModelExport(path, input_keys, output_keys, verification)


__all__ = ["SIGNATURE", "SavedModelExport", "check_signature", "check_target", "export_saved_model",
           "serving_function", "signature_key", "unique_keys", "write_saved_model"]
