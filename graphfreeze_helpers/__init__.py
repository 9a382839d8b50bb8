"""graphfreeze_helpers: freeze TensorFlow 2 models to a single GraphDef, then inspect,
load, benchmark, optimize and export it.

The pipeline has one module per stage: ``data`` → ``model`` → ``freeze`` → ``summary`` →
``load`` → ``bench`` → ``optimize``/``export``. Importing this package does not import
TensorFlow; the stages that need it import it (quietly, :mod:`.tfimport`) when first called.

Stages:
    data, model          the tutorial's digits and small CNN
    freeze               FrozenGraph: a model's variables as constants, with its signature
    freeze_tf1           TF1 checkpoints, and SavedModels TF2 cannot revive, frozen in a v1 Session
    summary, safety      what a GraphDef holds and which ops reach outside the process (no TensorFlow)
    load                 LoadedGraph: a frozen .pb loaded into TensorFlow as a callable
    verify               outputs compared: Verification
    bench, contenders    the timing harness (TensorFlow-free) and what it times
    optimize, export     grappler passes; LiteRT, ONNX and OpenCV exports (opencv)
    quantize             quantized LiteRT (dynamic, float16, int8) and its check by accuracy
    openvino_ir          OpenVINO IR from the .pb, run at float32 unless told otherwise
    savedmodel           the .pb wrapped in a SavedModel with a serving_default signature
    runner               the exports run without TensorFlow (``python -m graphfreeze_helpers.runner``)
    plots, viewer, cli   pictures, Netron in a browser (no network), and the ``graphfreeze`` command
Shared by the stages:
    ops                  every catalogue of op types
    tensors              TensorInfo, tensor_name, node_name, format_shape
    graphfile            reading a .pb and its sidecar without TensorFlow
    tensorproto          TensorProto values and dtypes without TensorFlow
    tensorboard_log      a graph as a TensorBoard events file
    tfimport             importing TensorFlow quietly; to_tf_graph_def
    grappler             grappler run offline (optimize's passes, freeze_tf1's inlining); unused functions dropped
    files, formatting    atomic writes; tables, byte counts, progress bars
    errors               GraphFreezeError and its subclasses (with the command's exit codes)
    course               the notebooks' scaffolding (parameters, exercises, metrics, sweeps)
"""

from .errors import GraphFreezeError

__version__ = "0.1.0"
__all__ = ["GraphFreezeError", "__version__"]
