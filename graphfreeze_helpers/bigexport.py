"""Export a large graph to ONNX without tf2onnx ever seeing its weights.

tf2onnx runs grappler over the GraphDef, then builds its own graph and an ONNX proto, each
holding the constants again: converting a 200 MB frozen MLP took 78 s and 11.5 GB, so a
1 GB graph would need far more memory than a 24 GB machine has.

:func:`onnx_from_large_graph` converts the graph with its large constants cut out
(:func:`.bigload.split_constants`: each becomes a placeholder of the same name), listing
those placeholders as extra inputs so tf2onnx maps them like any input, and then turns each
such input of the ONNX graph into an initializer holding the value. ONNX Runtime folds
whatever the converter put between an initializer and its consumer (a transpose) when it
loads the model. The result is checked against the frozen graph like any export.
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

from . import bigload
from .errors import GraphFormatError, TooLargeError
from .tensors import TensorInfo

ONNX_MAX_BYTES = 2**31 - 1  # one ONNX ModelProto is one protobuf message: below 2 GiB


def onnx_from_large_graph(
    graph_def: Any, inputs: Sequence[TensorInfo], outputs: Sequence[TensorInfo], *, opset: int
) -> bytes:
    """The serialized ONNX model of ``graph_def``, its large constants as initializers (see the module)."""
    import tf2onnx
    from onnx import numpy_helper

    small, values = bigload.split_constants(graph_def)
    size = sum(array.nbytes for array in values.values())
    if size > ONNX_MAX_BYTES:
        raise TooLargeError(
            f"the ONNX model would hold {size / 2**30:.2f} GiB of weights, above the {ONNX_MAX_BYTES / 2**30:.2f} GiB "
            "one ONNX file can hold (protobuf's limit); export with --to tflite or keep the frozen graph"
        )
    fed = [f"{name}:0" for name in values]
    loggers = [logging.getLogger(name) for name in ("tensorflow", "tf2onnx", "absl")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        model, _ = tf2onnx.convert.from_graph_def(
            small, input_names=[t.name for t in inputs] + fed, output_names=[t.name for t in outputs], opset=opset
        )
    except Exception as exc:  # tf2onnx raises ValueError, TypeError, RuntimeError...
        raise GraphFormatError(f"tf2onnx conversion failed: {str(exc).strip().splitlines()[0]}") from None
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)
    del small
    graph = model.graph
    weights = set(fed)
    kept = [value for value in graph.input if value.name not in weights]
    present = [value.name for value in graph.input if value.name in weights]
    del graph.input[:]
    graph.input.extend(kept)
    for name in present:  # one value at a time: its array is dropped once the initializer holds it
        graph.initializer.append(numpy_helper.from_array(values.pop(name[: -len(":0")]), name))
    return model.SerializeToString()
