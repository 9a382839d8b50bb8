"""Freeze TF1 artifacts: a checkpoint (``.meta`` + variables) and SavedModels that TF2 cannot revive.

TF1's ``freeze_graph`` did this job, and the recipe is still TensorFlow's own:

1. restore the artifact into a v1 ``Session``: ``tf.compat.v1.train.import_meta_graph`` and
   ``Saver.restore`` for a checkpoint, ``tf.compat.v1.saved_model.loader.load`` for a SavedModel;
2. ``tf.compat.v1.graph_util.convert_variables_to_constants`` keeps only what the outputs
   need (the optimizer, the saver, the loss are left behind) and turns the variables into
   constants.

A :class:`SessionArtifact` holds the restored Session, so :mod:`.freeze` can verify the frozen
graph against a Session run of the original. Finding and checking the files needs no TensorFlow.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from . import safety
from .errors import GraphFormatError, InputError, ModelLoadError, TensorNameError
from .grappler import drop_unused_functions, run_passes
from .load import prepare_graph_def
from .ops import NOT_OUTPUT_OPS, TRAINING_OPS, TRAINING_PREFIXES
from .tensors import TensorInfo, node_name, parse_tensor_args, tensor_name
from .tfimport import import_tensorflow

CHECKPOINT_LOADER = "tf.compat.v1.train.import_meta_graph + Saver.restore (TF1 checkpoint, v1 Session)"
V1_SAVED_MODEL_LOADER = "tf.compat.v1.saved_model.loader.load (v1 Session)"
# name scopes of a TF1 training graph that hold no model output
_TRAINING_SCOPE = re.compile(r"^(gradients|save|init|report_uninitialized_variables|global_step)(_\d+)?(/|$)")
_GRADIENT_ROOT = re.compile(r"^(.*/)?gradients(_\d+)?/Shape$")
_INPUT_OPS = {"Placeholder"}
_COND_BOOKKEEPING = re.compile(r"(^|/)(switch_t|switch_f|pivot_t|pivot_f|pivot)$")


@dataclass(frozen=True)
class CheckpointFiles:
    """A TF1 checkpoint on disk: its ``.meta`` graph and the prefix of its variables (``model.ckpt``)."""

    meta: Path
    prefix: str


_VARIABLES_FILE = re.compile(r"\.(index|data-\d+-of-\d+)$")


def is_checkpoint(path: str | Path) -> bool:
    """True for a ``.meta`` (or ``.index``/``.data-*``) file, or a folder with a ``checkpoint``
    file and no ``saved_model.pb``."""
    path = Path(path)
    if path.is_dir():
        return (path / "checkpoint").is_file() and not (path / "saved_model.pb").is_file()
    return path.suffix == ".meta" or bool(_VARIABLES_FILE.search(path.name))


def _latest_prefix(folder: Path) -> str:
    """The prefix the ``checkpoint`` file names (``model_checkpoint_path``), relative to ``folder``.

    TF1's Saver often wrote an absolute path; when the folder was copied or moved since, the
    files with that name in ``folder`` (the one the user named) are used, not the old ones.
    """
    text = (folder / "checkpoint").read_text(encoding="utf-8", errors="replace")
    found = re.search(r'^model_checkpoint_path:\s*"(.*)"\s*$', text, re.MULTILINE)
    if not found:
        raise ModelLoadError(f"{str(folder / 'checkpoint')!r} names no model_checkpoint_path; give the .meta file")
    prefix = Path(found.group(1))
    if not prefix.is_absolute():
        return str(folder / prefix)
    local = folder / prefix.name
    return str(local if Path(f"{local}.meta").is_file() or Path(f"{local}.index").is_file() else prefix)


def find_checkpoint(path: str | Path) -> CheckpointFiles:
    """The ``.meta`` and variables of the checkpoint at ``path`` (its ``.meta``, ``.index`` or a
    ``.data-*`` file, or a checkpoint folder), checked: :class:`ModelLoadError` names any missing file."""
    path = Path(path)
    if not path.exists():
        raise ModelLoadError(f"checkpoint {str(path)!r} does not exist")
    if path.is_dir():
        prefix = _latest_prefix(path)
    else:
        prefix = str(path)[: -len(".meta")] if path.suffix == ".meta" else _VARIABLES_FILE.sub("", str(path))
    meta = Path(prefix + ".meta")
    if not meta.is_file():
        raise ModelLoadError(f"checkpoint {prefix!r} has no graph file {meta.name!r} beside its variables")
    index = Path(prefix + ".index")
    shards = sorted(index.parent.glob(index.name[: -len(".index")] + ".data-*-of-*"))
    if not index.is_file() or not shards:
        missing = index.name if not index.is_file() else f"{Path(prefix).name}.data-00000-of-*"
        raise ModelLoadError(
            f"checkpoint {str(meta)!r} has no variables file {missing!r} beside it; "
            "a .meta holds only the graph: copy the .index and .data-* files saved with it"
        )
    expected = int(shards[0].name.rsplit("-of-", 1)[1])
    if len(shards) < expected:
        raise ModelLoadError(f"checkpoint {prefix!r} has {len(shards)} of its {expected} .data-* files")
    return CheckpointFiles(meta, prefix)


def read_meta_graph(meta: str | Path) -> Any:
    """Parse a ``.meta`` file into a ``MetaGraphDef``; :class:`GraphFormatError` if it is not one."""
    tf = import_tensorflow()
    meta_graph = tf.compat.v1.MetaGraphDef()
    try:
        meta_graph.ParseFromString(Path(meta).read_bytes())
    except Exception as exc:  # protobuf's DecodeError, or a message that is not a MetaGraphDef
        raise GraphFormatError(f"{str(meta)!r} is not a TF1 MetaGraphDef (.meta): {type(exc).__name__}") from None
    if not meta_graph.graph_def.node:
        raise GraphFormatError(f"{str(meta)!r} holds no graph: is it a TF1 .meta file?")
    return meta_graph


def is_training_node(node: Any) -> bool:
    """An optimizer step, saver, initializer, summary or gradient node of a TF1 training graph."""
    return node.op in TRAINING_OPS or node.op.startswith(TRAINING_PREFIXES) or bool(_TRAINING_SCOPE.match(node.name))


def likely_outputs(graph_def: Any, losses: Sequence[str] = ()) -> list[str]:
    """Tensor names of the nodes no inference node consumes: the sinks left once the training
    parts (:func:`is_training_node`, whatever consumes them, and the ``losses``) are set aside.

    The losses are those named and those a ``gradients/Shape`` node reads (what ``tf.gradients``
    differentiated); nothing in a named loss's scope is listed. Neither are constants,
    placeholders, variables, shape arithmetic or v1 control flow's own nodes (:data:`NOT_OUTPUT_OPS`).
    """
    nodes = list(graph_def.node)
    consumers: dict[str, set[str]] = defaultdict(set)
    for node in nodes:
        for edge in node.input:
            consumers[node_name(edge)].add(node.name)
    training = {n.name for n in nodes if is_training_node(n)}
    losses_found = {node_name(x) for x in losses}
    losses_found |= {node_name(n.input[0]) for n in nodes if _GRADIENT_ROOT.match(n.name) and n.input}
    frontier = list(training | losses_found)
    while frontier:  # whatever consumes a training node is training too
        for consumer in consumers[frontier.pop()]:
            if consumer not in training:
                training.add(consumer)
                frontier.append(consumer)
    training |= losses_found
    loss_scopes = tuple(name.rpartition("/")[0] + "/" for name in losses_found if "/" in name)
    return [
        tensor_name(n.name)
        for n in nodes
        if n.name not in training
        and not (consumers[n.name] - training)
        and n.op not in NOT_OUTPUT_OPS
        and not n.name.endswith("/read")
        and not _COND_BOOKKEEPING.search(n.name)
        and not n.name.startswith(loss_scopes)
    ]


def _needs_outputs(what: str, candidates: Sequence[str]) -> InputError:
    shown = ", ".join(candidates[:12]) + (f" and {len(candidates) - 12} more" if len(candidates) > 12 else "")
    hint = f"likely outputs (sinks that are not training ops): {shown}" if candidates else "no likely output found"
    return InputError(f"{what} names no outputs; give --outputs NAME ...; {hint}")


@dataclass
class SessionArtifact:
    """A TF1 artifact restored into a v1 Session: its graph, inputs and outputs, ready to run or freeze."""

    graph: Any = field(repr=False)
    session: Any = field(repr=False)
    inputs: list[TensorInfo]
    outputs: list[TensorInfo]
    loader: str
    source: str
    cut: bool = False  # the inputs were chosen (--inputs): the frozen graph is cut there

    def run(self, *arrays: np.ndarray) -> list[np.ndarray]:
        """The outputs of a Session run of the restored artifact (inputs in :attr:`inputs` order)."""
        feed = {t.name: array for t, array in zip(self.inputs, arrays)}
        return list(self.session.run([t.name for t in self.outputs], feed_dict=feed))

    def frozen_graph_def(self) -> Any:
        """The graph the outputs need, variables as constants (TF1's ``convert_variables_to_constants``)."""
        tf = import_tensorflow()
        keep = sorted({t.op_name for t in self.outputs})
        graph_def = self.graph.as_graph_def()
        try:
            frozen = tf.compat.v1.graph_util.convert_variables_to_constants(self.session, graph_def, keep)
            if self.cut:  # the chosen inputs become placeholders; what only fed them goes
                frozen, _ = prepare_graph_def(frozen, self.inputs, self.outputs)
            drop_unused_functions(frozen)
            return inline_functions(frozen, keep) if len(frozen.library.function) else frozen
        except (ValueError, TypeError, KeyError, tf.errors.OpError) as exc:
            message = f"cannot make the variables of {self.source!r} constants: {_first_line(exc)}"
            raise ModelLoadError(message) from None

    def close(self) -> None:
        self.session.close()


def inline_functions(graph_def: Any, keep: Sequence[str]) -> Any:
    """``graph_def`` with its function calls inlined by grappler's ``function`` pass (a flat graph,
    as TF1 tools expect; a TF2 SavedModel read by the v1 loader calls its signature as a function).

    The call nodes named in ``keep`` stay, as ``IdentityN`` nodes with the same outputs.
    """
    inlined = run_passes(graph_def, keep, ["function"])
    drop_unused_functions(inlined)
    return inlined


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _tensor_infos(graph: Any, names: Sequence[str], what: str) -> list[TensorInfo]:
    known = {op.name for op in graph.get_operations()}
    infos = []
    for name in names:
        full = tensor_name(name)
        if node_name(full) not in known:
            close = difflib.get_close_matches(node_name(full), sorted(known), n=5)
            hint = f"; close names: {', '.join(close)}" if close else ""
            raise TensorNameError(f"no {what} {full!r} in the graph{hint}")
        try:
            infos.append(TensorInfo.from_tensor(graph.get_tensor_by_name(full)))
        except (KeyError, ValueError) as exc:
            raise TensorNameError(f"no {what} tensor {full!r}: {_first_line(exc)}") from None
    return infos


def _placeholders_needed(graph: Any, outputs: Sequence[TensorInfo]) -> list[TensorInfo]:
    """The Placeholders (not PlaceholderWithDefault) the outputs depend on, in graph order."""
    graph_def = graph.as_graph_def(add_shapes=False)
    by_name = {n.name: n for n in graph_def.node}
    seen: set[str] = set()
    stack = [t.op_name for t in outputs]
    while stack:
        name = stack.pop()
        if name in seen or name not in by_name:
            continue
        seen.add(name)
        stack.extend(node_name(edge) for edge in by_name[name].input)
    return [
        TensorInfo.from_tensor(graph.get_tensor_by_name(n.name + ":0"))
        for n in graph_def.node
        if n.name in seen and n.op in _INPUT_OPS
    ]


def restore_checkpoint(
    path: str | Path, outputs: Optional[Sequence[str]], inputs: Optional[Sequence[Any]] = None,
    *, allow_unsafe: bool = False,
) -> SessionArtifact:
    """Restore the TF1 checkpoint at ``path`` (``.meta`` or folder) into a v1 Session.

    Without ``outputs``, :class:`InputError` lists the likely outputs in one line. Device pins
    are cleared (the checkpoint may come from another machine). ``inputs`` (``"x"``,
    ``"Reshape[?,192]"``: any tensor, with an optional static shape) are fed instead of the
    placeholders the outputs need: the frozen graph is cut there. Before the graph is imported,
    what restoring and freezing it runs is scanned (:func:`.safety.check_checkpoint_graph`) and
    refused with :class:`UnsafeGraphError` unless ``allow_unsafe``.
    """
    files = find_checkpoint(path)
    meta_graph = read_meta_graph(files.meta)
    if not outputs:
        collections = meta_graph.collection_def
        losses = list(collections["losses"].node_list.value) if "losses" in collections else []
        raise _needs_outputs(f"checkpoint {str(files.meta)!r}", likely_outputs(meta_graph.graph_def, losses))
    safety.refuse_unsafe_checkpoint_graph(files.meta, outputs, allow_unsafe=allow_unsafe)
    tf = import_tensorflow()
    graph = tf.Graph()
    with graph.as_default():
        try:
            saver = tf.compat.v1.train.import_meta_graph(meta_graph, clear_devices=True)
        except Exception as exc:  # an op this TensorFlow does not know, a damaged graph
            raise ModelLoadError(f"cannot import the graph of {str(files.meta)!r}: {_first_line(exc)}") from None
        out_infos = _tensor_infos(graph, outputs, "output")
        in_args = parse_tensor_args(inputs) if inputs else []
        in_infos = [
            TensorInfo(info.name, info.dtype, arg.shape if arg.shape is not None else info.shape)
            for arg, info in zip(in_args, _tensor_infos(graph, [a.name for a in in_args], "input"))
        ]
        if saver is None:  # a graph saved without a Saver: make one for its variables
            saver = tf.compat.v1.train.Saver()
    session = tf.compat.v1.Session(graph=graph)
    try:
        with graph.as_default():  # outside it, Saver.restore takes the eager path and finds no variables
            saver.restore(session, files.prefix)
    except Exception as exc:  # NotFoundError, DataLossError, InvalidArgumentError (shape mismatch)
        session.close()
        raise ModelLoadError(f"cannot restore the variables of {files.prefix!r}: {_first_line(exc)}") from None
    if in_infos:
        return SessionArtifact(graph, session, in_infos, out_infos, CHECKPOINT_LOADER, str(path), cut=True)
    return SessionArtifact(
        graph, session, _placeholders_needed(graph, out_infos), out_infos, CHECKPOINT_LOADER, str(path)
    )


def _serving_tags(path: Path) -> list[str]:
    """The tags of the SavedModel's meta graph to load: the one tagged ``serve``, else the only one."""
    tf = import_tensorflow()
    from tensorflow.core.protobuf import saved_model_pb2

    saved = saved_model_pb2.SavedModel()
    try:
        saved.ParseFromString((path / "saved_model.pb").read_bytes())
    except Exception as exc:
        raise ModelLoadError(f"{str(path / 'saved_model.pb')!r} is not a SavedModel: {type(exc).__name__}") from None
    tag_sets = [list(m.meta_info_def.tags) for m in saved.meta_graphs]
    for tags in tag_sets:
        if tf.compat.v1.saved_model.tag_constants.SERVING in tags:
            return tags
    if len(tag_sets) == 1:
        return tag_sets[0]
    raise ModelLoadError(f"SavedModel {str(path)!r} has no 'serve' meta graph; its tag sets are {tag_sets}")


def load_v1_saved_model(path: str | Path, signature: str = "serving_default") -> SessionArtifact:
    """Load a SavedModel with TF's v1 loader into a Session, its ``signature``'s tensors as
    inputs (sorted by key, as :func:`~graphfreeze_helpers.freeze.positional_signature` orders
    them) and outputs (sorted by key)."""
    tf = import_tensorflow()
    path = Path(path)
    tags = _serving_tags(path)
    graph = tf.Graph()
    session = tf.compat.v1.Session(graph=graph)
    with graph.as_default():
        try:
            meta_graph = tf.compat.v1.saved_model.loader.load(session, tags, str(path))
        except Exception as exc:
            session.close()
            raise ModelLoadError(f"TF's v1 loader cannot read SavedModel {str(path)!r}: {_first_line(exc)}") from None
    signatures = meta_graph.signature_def
    if signature not in signatures:
        session.close()
        raise ModelLoadError(f"SavedModel has no signature {signature!r}; it has {sorted(signatures)}")
    found = signatures[signature]
    inputs = _tensor_infos(graph, [found.inputs[k].name for k in sorted(found.inputs)], "input")
    outputs = _tensor_infos(graph, [found.outputs[k].name for k in sorted(found.outputs)], "output")
    return SessionArtifact(graph, session, inputs, outputs, V1_SAVED_MODEL_LOADER, str(path))
