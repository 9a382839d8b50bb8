"""Grappler, TensorFlow's graph optimizer, run offline on a GraphDef: the recipe :mod:`.optimize`
(inference passes) and :mod:`.freeze_tf1` (inlining the function calls of a v1-loaded SavedModel)
share.

TensorFlow has no public TF2 API for this. The recipe:

1. the GraphDef goes into a ``MetaGraphDef``, whose ``train_op`` collection names the nodes
   that must survive (grappler treats them as fetch nodes);
2. a ``RewriterConfig`` lists the passes (``rewrite_options.optimizers``), for graphs of any
   size (``min_graph_nodes = -1``), two rounds of them;
3. ``tf_optimizer.OptimizeGraph`` returns the rewritten GraphDef.

:func:`drop_unused_functions`, which reads the GraphDef alone, then removes the library
functions no node calls any more (the ones grappler inlined).
"""

from __future__ import annotations

from typing import Any, Sequence

from .tfimport import import_tensorflow, to_tf_graph_def


def run_passes(graph_def: Any, fetch: Sequence[str], passes: Sequence[str], *, device: str = "") -> Any:
    """The GraphDef grappler's ``passes`` make of ``graph_def``, keeping the ``fetch`` node names alive.

    ``device``: placed on every node while grappler runs (the remapper only fuses placed
    nodes); the result's placement is cleared either way. ``graph_def`` is not changed.
    """
    import_tensorflow()
    from tensorflow.core.protobuf import config_pb2, meta_graph_pb2, rewriter_config_pb2
    from tensorflow.python.grappler import tf_optimizer

    meta = meta_graph_pb2.MetaGraphDef()
    meta.graph_def.CopyFrom(to_tf_graph_def(graph_def))
    if device:
        for node in meta.graph_def.node:
            node.device = device
    meta.collection_def["train_op"].node_list.value.extend(fetch)
    config = config_pb2.ConfigProto()
    rewrite = config.graph_options.rewrite_options
    rewrite.optimizers[:] = list(passes)
    rewrite.min_graph_nodes = -1  # optimize even tiny graphs
    rewrite.meta_optimizer_iterations = rewriter_config_pb2.RewriterConfig.TWO
    optimized = tf_optimizer.OptimizeGraph(config, meta)
    for node in optimized.node:
        node.device = ""
    return optimized


def called_functions(node: Any) -> set[str]:
    """Names a node may call: its op (a library function used as an op) and its function attrs."""
    called = {node.op}
    for value in node.attr.values():
        if value.HasField("func"):
            called.add(value.func.name)
        called.update(f.name for f in value.list.func)
    return called


def drop_unused_functions(graph_def: Any) -> int:
    """Remove, in place, the library functions (and their gradients) that no node calls, directly
    or through another function; return how many were removed. An emptied library is cleared.

    Reads the GraphDef alone: TensorFlow is not needed.
    """
    library = {f.signature.name: f for f in graph_def.library.function}
    used: set[str] = set()
    stack = [name for node in graph_def.node for name in called_functions(node) if name in library]
    while stack:
        name = stack.pop()
        if name in used:
            continue
        used.add(name)
        stack.extend(c for n in library[name].node_def for c in called_functions(n) if c in library)
    kept = [f for f in graph_def.library.function if f.signature.name in used]
    removed = len(graph_def.library.function) - len(kept)
    if not kept:
        graph_def.ClearField("library")
    elif removed:
        del graph_def.library.function[:]
        graph_def.library.function.extend(kept)
        kept_grads = [g for g in graph_def.library.gradient if g.function_name in used]
        del graph_def.library.gradient[:]
        graph_def.library.gradient.extend(kept_grads)
    return removed


__all__ = ["called_functions", "drop_unused_functions", "run_passes"]
