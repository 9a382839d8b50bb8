"""The contenders: every way of running the model that the benchmark times, and the one-call :func:`compare`.

Each factory takes a :class:`~graphfreeze_helpers.bench.Subject` and returns a
:class:`~graphfreeze_helpers.bench.Contender`, or ``None`` when the subject lacks what it
needs (no model, no frozen graph, a converter not installed). Importing this module
registers them in :data:`graphfreeze_helpers.bench.FACTORIES`, in table order: the harness
in :mod:`~graphfreeze_helpers.bench` knows nothing of them (tf2onnx's ``handler.py``
registry is the model), and this module is the one that imports the conversions it times.

The TensorFlow contenders all follow the same rules, so their times compare like for like:

- **Input**: prepared once per batch size, outside the timed region, as the type each API
  takes natively: a ``tf.constant`` for everything that accepts a tensor, a NumPy array for
  ``Session.run``'s ``feed_dict`` (which would convert a tensor to NumPy anyway) and for
  the TF-free runtimes.
- **Output**: every ``run()`` returns NumPy arrays, so the device-to-host copy
  (``.numpy()``) is inside the timed region for all of them; ``predict``, ``Session.run``
  and the TF-free runtimes return NumPy by themselves.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence

from .bench import FACTORIES, BenchResult, Contender, Run, Subject, register, run_benchmark, standard_contenders
from .errors import GraphFormatError, InputError, RefusedError
from .export import export, io_names
from .freeze import FrozenGraph, keras_call, load_model, positional_signature, trace_keras
from .load import NUMPY_METHODS, LoadedGraph, load_frozen
from .opencv import diagnose_opencv, export_opencv
from .openvino_ir import output_names
from .optimize import optimize
from .quantize import check_calibration
from .runner import OPENVINO_PRECISIONS, OpenCVRunner, OpenVINORunner, Runner, load_runner
from .tensors import TensorInfo
from .tfimport import import_tensorflow

# The contenders that need only the frozen graph and TensorFlow.
FROZEN_CONTENDERS = ("frozen", "frozen_prune", "frozen_session")
# The contenders that need the model the graph was frozen from (bench --model).
MODEL_CONTENDERS = ("keras_eager", "keras_predict", "tf_function", "saved_model")
# Why a contender is not there when its factory returns None: what it needs.
NEEDS = {
    **{name: "needs the model the graph was frozen from (--model)" for name in MODEL_CONTENDERS},
    "litert": "needs ai-edge-litert (pip install 'graphfreeze[export]')",
    "litert_int8": "needs calibration inputs (--calibration X.npy: a few hundred real inputs) and ai-edge-litert",
    "onnxruntime": "needs tf2onnx and onnxruntime (pip install 'graphfreeze[export]')",
    "opencv_dnn": "OpenCV DNN cannot read this graph, or is not installed (graphfreeze check-opencv GRAPH.pb says why)",
    "openvino": "needs openvino (pip install 'graphfreeze[export]')",
}
# The seven ways of running a model with TensorFlow alone that notebook 05 compares.
TF_CONTENDERS = (
    "keras_eager", "keras_predict", "tf_function", "saved_model", "frozen_prune", "frozen", "frozen_session",
)


# --- the subject ---------------------------------------------------------------------------


def load_graph(
    path: str | Path,
    *,
    allow_unsafe: bool = False,
    graph_def: Any = None,
    inputs: Optional[Sequence[Any]] = None,
    outputs: Optional[Sequence[Any]] = None,
) -> LoadedGraph:
    """The one place where the benchmark loads a frozen graph (the project's loader; unsafe graphs refused).

    ``graph_def``: the graph already read from ``path``; ``inputs``/``outputs``: tensor names
    (``"image[?,224,224,3]"``), see :func:`.load.load_frozen`.
    """
    return load_frozen(path, allow_unsafe=allow_unsafe, graph_def=graph_def, inputs=inputs, outputs=outputs)


def prepare(
    graph: str | Path | None = None,
    model: Any = None,
    *,
    seed: int = 0,
    workdir: str | Path | None = None,
    allow_unsafe: bool = False,
    graph_def: Any = None,
    inputs: Optional[Sequence[Any]] = None,
    outputs: Optional[Sequence[Any]] = None,
    calibration: Any = None,
) -> Subject:
    """Load what the contenders need: a frozen ``.pb`` and/or a model (object or path).

    ``graph_def``: the graph already read from ``graph``, so the file is not read again;
    ``inputs``/``outputs``: the graph's tensor names, when its own are not wanted;
    ``calibration``: real inputs (an array, a list or ``{name: array}``) for the ``litert_int8`` contender.
    """
    import_tensorflow()
    if graph is None and model is None:
        raise ValueError("give a frozen graph, a model, or both")
    subject = Subject(seed=seed, workdir=Path(workdir) if workdir is not None else None)
    if model is not None:
        if isinstance(model, (str, Path)):
            subject.model_path = Path(model)
            model = load_model(model, allow_unsafe=allow_unsafe)
        subject.model = model
    if graph is not None:
        subject.graph_path = Path(graph)
        subject.frozen = load_graph(graph, allow_unsafe=allow_unsafe, graph_def=graph_def, inputs=inputs,
                                    outputs=outputs)
        subject.specs = list(subject.frozen.inputs)
        subject.graph_def = subject.frozen.graph_def
        subject.reference = subject.frozen
        if calibration is not None:
            subject.calibration = check_calibration(subject.frozen.inputs, calibration)
    elif subject.is_keras:
        subject.specs = [TensorInfo(t.name, t.dtype, (None, *tuple(t.shape)[1:])) for t in model.inputs]
    else:
        specs, _ = positional_signature(model.signatures["serving_default"])
        subject.specs = [TensorInfo.from_tensor(spec) for spec in specs]
    return subject


def compare(
    graph: str | Path | None = None,
    model: Any = None,
    *,
    batch_sizes: Iterable[int] = (1,),
    contenders: Optional[Sequence[str]] = None,
    time_budget_s: float = 2.0,
    warmup: int = 10,
    min_calls: int = 10,
    progress: bool = False,
    seed: int = 0,
    allow_unsafe: bool = False,
    graph_def: Any = None,
    inputs: Optional[Sequence[Any]] = None,
    outputs: Optional[Sequence[Any]] = None,
    calibration: Any = None,
    precision: str = "f32",
    skip_unavailable: bool = False,
) -> BenchResult:
    """Prepare the subject, make the standard contenders and run them: one call for the CLI and notebooks.

    ``skip_unavailable``: leave out a contender that cannot run this subject instead of raising,
    with the reason in ``result.settings["skipped"]`` (:func:`available_contenders`).

    A graph the safety scan flags is refused unless ``allow_unsafe=True``. ``graph_def``: the
    graph already read from ``graph`` (the CLI reads it first to answer a bad file at once);
    ``inputs``/``outputs``: the frozen graph's tensor names (see :func:`.load.load_frozen`);
    ``calibration``: real inputs, which add the ``litert_int8`` contender; ``precision``: the
    ``openvino`` contender's inference precision (:data:`~.runner.OPENVINO_PRECISIONS`, float32 by default).
    """
    if precision not in OPENVINO_PRECISIONS:
        raise InputError(f"unknown OpenVINO precision {precision!r}; choose one of {list(OPENVINO_PRECISIONS)}")
    subject = prepare(graph, model, seed=seed, allow_unsafe=allow_unsafe, graph_def=graph_def, inputs=inputs,
                      outputs=outputs, calibration=calibration)
    subject.options["openvino"] = {"precision": precision}
    skipped: dict[str, str] = {}
    if skip_unavailable:
        chosen, skipped = available_contenders(subject, contenders)
        if not chosen:
            why = "; ".join(f"{name}: {reason}" for name, reason in skipped.items())
            raise GraphFormatError(f"no runtime can run this graph: {why}")
    else:
        chosen = standard_contenders(subject, contenders)
    result = run_benchmark(
        chosen, batch_sizes, time_budget_s=time_budget_s, warmup=warmup, min_calls=min_calls, progress=progress
    )
    result.settings["notes"] = {c.name: c.note for c in chosen}
    result.settings["graph"] = str(subject.graph_path) if subject.graph_path else None
    result.settings["model"] = str(subject.model_path) if subject.model_path else None
    result.settings["skipped"] = skipped
    return result


def available_contenders(
    subject: Subject, names: Optional[Sequence[str]] = None
) -> tuple[list[Contender], dict[str, str]]:
    """The contenders in ``names`` that can run ``subject``, and why each other one cannot, in one line.

    Default: every registered contender, without the model-only ones when there is no model.
    Each factory converts and verifies before anything is timed; one that raises (a converter
    that cannot take the graph, an export that fails its check) or returns None is left out,
    with its error's first line or what it needs (:data:`NEEDS`).
    """
    wanted = list(FACTORIES) if names is None else list(names)
    if names is None and subject.model is None:
        wanted = [name for name in wanted if name not in MODEL_CONTENDERS]
    unknown = [name for name in wanted if name not in FACTORIES]
    if unknown:
        raise InputError(f"unknown runtime(s) {unknown}; choose from {list(FACTORIES)}")
    made: list[Contender] = []
    skipped: dict[str, str] = {}
    for name in wanted:
        try:
            contender = FACTORIES[name](subject, **subject.options.get(name, {}))
        except Exception as exc:  # converters raise their own types; any of them means "not this graph"
            text = str(exc).strip()
            skipped[name] = f"cannot run this graph: {text.splitlines()[0] if text else type(exc).__name__}"
            continue
        if contender is None:
            skipped[name] = NEEDS.get(name, "does not apply to this graph")
        else:
            made.append(contender)
    return made, skipped


# --- the two shapes of a contender ---------------------------------------------------------


def _numpy(outputs: Any) -> Any:
    if isinstance(outputs, dict):
        return [outputs[k].numpy() for k in sorted(outputs)]
    if isinstance(outputs, (list, tuple)):
        return [o.numpy() for o in outputs]
    return outputs.numpy()


def tensor_contender(
    name: str, subject: Subject, function: Callable[..., Any], note: str,
    output_names: Optional[Sequence[str]] = None,
) -> Contender:
    """A contender that calls ``function(*tensors)`` on the batch as ``tf.constant``s and returns NumPy.

    ``output_names``: the names of what ``function`` returns, in order, to compare by name.
    """

    def make(batch: int) -> Run:
        tf = import_tensorflow()
        xs = [tf.constant(a) for a in subject.inputs(batch)]
        return lambda: _numpy(function(*xs))

    return Contender(name, make, note, output_names)


def output_tensor_names(graph: Any) -> list[str]:
    """The output tensor names of a :class:`~.load.LoadedGraph` or :class:`~.freeze.FrozenGraph`, in order."""
    return [t.name for t in graph.outputs]


def loaded_contender(name: str, subject: Subject, loaded: LoadedGraph, note: str) -> Contender:
    """A contender that calls a :class:`~graphfreeze_helpers.load.LoadedGraph`'s ``function`` as it takes it.

    A ``"session"`` graph (v1 control flow) is a ``Session`` callable, fed NumPy like
    ``frozen_session``; every other method is a TensorFlow function fed ``tf.constant``s.
    """
    if loaded.method not in NUMPY_METHODS:
        return tensor_contender(name, subject, loaded.function, note, output_tensor_names(loaded))

    def make(batch: int) -> Run:
        xs = loaded.check_inputs(subject.inputs(batch))
        function = loaded.function

        def run() -> Any:
            out = function(*xs)
            return out[0] if len(out) == 1 else out

        return run

    return Contender(name, make, note, output_tensor_names(loaded))


def runner_contender(
    name: str, subject: Subject, load: Callable[[int], Runner], note: str, *,
    positions: Optional[Sequence[int]] = None, output_names: Optional[Sequence[str]] = None,
) -> Contender:
    """A contender that runs a TF-free :class:`~graphfreeze_helpers.runner.Runner` (``load(batch)``) on NumPy.

    The runner is loaded, and run once (resizing and allocating for the batch size),
    outside the timed region. ``positions``: which of the subject's inputs each runner input
    is (default: the same order); ``output_names``: the names of the runner's outputs, in order.
    """

    def make(batch: int) -> Run:
        runner = load(batch)
        given = subject.inputs(batch)
        xs = runner.check_inputs([given[p] for p in positions] if positions is not None else given)
        runner.run(xs)

        def run() -> Any:
            out = runner.run(xs)
            return out[0] if len(out) == 1 else out

        return run

    return Contender(name, make, note, output_names)


def _frozen_graph(subject: Subject) -> FrozenGraph:
    loaded = subject.frozen
    return FrozenGraph.from_loaded(loaded, source=str(subject.graph_path or ""))


# --- the factories, in table order -----------------------------------------------------------


@register("keras_eager")
def keras_eager(subject: Subject) -> Optional[Contender]:
    """The Keras model called eagerly, ``model(x, training=False)``."""
    if not subject.is_keras:
        return None
    return tensor_contender("keras_eager", subject, keras_call(subject.model),
                            "model(x, training=False) eagerly, then .numpy()")


@register("keras_predict")
def keras_predict(subject: Subject) -> Optional[Contender]:
    """Keras' batch-prediction API, ``model.predict``."""
    if not subject.is_keras:
        return None
    model = subject.model
    tf = import_tensorflow()

    def make(batch: int) -> Run:
        xs = [tf.constant(a) for a in subject.inputs(batch)]
        x = xs[0] if len(xs) == 1 else list(xs)
        return lambda: model.predict(x, batch_size=batch, verbose=0)

    return Contender("keras_predict", make, "model.predict(x, batch_size=batch, verbose=0), returns NumPy")


@register("tf_function")
def tf_function(subject: Subject) -> Optional[Contender]:
    """The model's own ``tf.function`` traced once to a concrete function (what gets frozen)."""
    if subject.model is None:
        return None
    if subject.is_keras:
        concrete = trace_keras(subject.model)
        note = "tf.function(model(x, training=False)) concrete function, then .numpy()"
    else:
        _, concrete = positional_signature(subject.model.signatures["serving_default"])
        note = "the SavedModel's serving_default signature, then .numpy()"
    return tensor_contender("tf_function", subject, concrete, note)


@register("saved_model")
def saved_model(subject: Subject) -> Optional[Contender]:
    """``model.export`` (Keras) then ``tf.saved_model.load`` and its ``serve`` endpoint."""
    if subject.model is None:
        return None
    tf = import_tensorflow()
    if subject.is_keras:
        with tempfile.TemporaryDirectory(dir=subject.workdir, prefix="graphfreeze-bench-") as scratch:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                subject.model.export(str(Path(scratch) / "export"), verbose=False)
            loaded = tf.saved_model.load(str(Path(scratch) / "export"))
        serve = loaded.serve
        note = "model.export -> tf.saved_model.load -> .serve(x), then .numpy()"
    else:
        loaded = subject.model if subject.model_path is None else tf.saved_model.load(str(subject.model_path))
        _, serve = positional_signature(loaded.signatures["serving_default"])
        note = "tf.saved_model.load -> signatures['serving_default'], then .numpy()"
    subject.held.append(loaded)
    return tensor_contender("saved_model", subject, serve, note)


@register("frozen_prune")
def frozen_prune(subject: Subject) -> Optional[Contender]:
    """The loader everyone copies: ``wrap_function`` + ``prune``, the pruned function called bare."""
    if subject.frozen is None:
        return None
    pruned = LoadedGraph(subject.frozen.graph_def, subject.frozen.inputs, subject.frozen.outputs, method="prune")
    return tensor_contender("frozen_prune", subject, pruned.function,
                            "wrap_function + prune, pruned(x) called bare, then .numpy()", output_tensor_names(pruned))


@register("frozen")
def frozen(subject: Subject) -> Optional[Contender]:
    """The project's loader (``load_frozen``, method ``"import"``)."""
    if subject.frozen is None:
        return None
    if subject.frozen.method == "session":
        note = "load_frozen(path).function(x): v1 control flow, so a Session callable (NumPy in and out)"
    else:
        note = "load_frozen(path).function(x), then .numpy()"
    return loaded_contender("frozen", subject, subject.frozen, note)


@register("frozen_session")
def frozen_session(subject: Subject) -> Optional[Contender]:
    """A ``tf.compat.v1.Session`` on the frozen graph, ``sess.run(outputs, feed_dict)``."""
    if subject.frozen is None:
        return None
    tf = import_tensorflow()
    graph = tf.Graph()
    with graph.as_default():
        # tf.compat.v1: a Session is the TF1 way to run a GraphDef; TF2 has no Session.
        tf.compat.v1.import_graph_def(subject.frozen.graph_def, name="")
    feeds = [graph.get_tensor_by_name(t.name) for t in subject.frozen.inputs]
    fetches = [graph.get_tensor_by_name(t.name) for t in subject.frozen.outputs]
    session = tf.compat.v1.Session(graph=graph)
    subject.held.append(session)
    fetch = fetches[0] if len(fetches) == 1 else fetches

    def make(batch: int) -> Run:
        feed = dict(zip(feeds, subject.inputs(batch)))
        return lambda: session.run(fetch, feed_dict=feed)

    return Contender("frozen_session", make, "tf.compat.v1.Session.run(output, feed_dict={input: numpy})",
                     output_tensor_names(subject.frozen))


@register("optimized")
def optimized(subject: Subject, *, target: str = "portable") -> Optional[Contender]:
    """The frozen graph after ``optimize`` (offline grappler), run like ``frozen``.

    Setup (optimizing, verifying, tracing) happens here, outside the timed region.
    """
    if subject.frozen is None:
        return None
    result = optimize(_frozen_graph(subject), target=target, inputs=subject.inputs(2))
    loaded = LoadedGraph(result.graph_def, result.frozen.inputs, result.frozen.outputs)
    note = f"optimize(target={target!r}): {result.nodes_before} -> {result.nodes_after} nodes, then like frozen"
    return loaded_contender("optimized", subject, loaded, note)


def _export_contender(subject: Subject, to: str, name: str, num_threads: Optional[int]) -> Optional[Contender]:
    """The frozen graph exported ``to`` tflite or onnx, run by ``name`` from NumPy (no TensorFlow)."""
    if subject.frozen is None:
        return None
    try:  # the export extra may be missing: then there is nothing to time
        if to == "onnx":
            import onnxruntime  # noqa: F401
            import tf2onnx  # noqa: F401
        else:
            import ai_edge_litert  # noqa: F401
    except ImportError:
        return None
    frozen = _frozen_graph(subject)
    exported = export(frozen, to, inputs=subject.inputs(2), reference=subject.frozen)
    # the runtime may take the inputs and give the outputs in an order of its own: match them by name
    positions, names = io_names(load_runner(exported.data, kind=name), frozen.inputs, frozen.outputs)
    threads = f", {num_threads} thread(s)" if num_threads else ""
    return runner_contender(
        name, subject, lambda batch: load_runner(exported.data, kind=name, num_threads=num_threads),
        f"{to} export run by {name} from NumPy (no TensorFlow){threads}", positions=positions, output_names=names,
    )


@register("litert")
def litert(subject: Subject, *, num_threads: Optional[int] = None) -> Optional[Contender]:
    """The frozen graph exported to ``.tflite`` and run by LiteRT (no TensorFlow in the timed call)."""
    return _export_contender(subject, "tflite", "litert", num_threads)


@register("litert_int8")
def litert_int8(subject: Subject, *, num_threads: Optional[int] = None) -> Optional[Contender]:
    """The frozen graph exported to full-integer int8 ``.tflite``, calibrated on ``subject.calibration``, run by LiteRT.

    Verified before it is timed, on (up to 64 of) the calibration inputs, by the stated int8
    tolerance (:data:`~graphfreeze_helpers.quantize.QUANTIZED_TOLERANCE`): a quantized model
    cannot match the float one to 1e-5. ``None`` without calibration inputs.
    """
    if subject.frozen is None or subject.calibration is None:
        return None
    try:
        import ai_edge_litert  # noqa: F401
    except ImportError:
        return None
    frozen = _frozen_graph(subject)
    exported = export(frozen, "tflite", quantize="int8", calibration=subject.calibration,
                      inputs=[a[:64] for a in subject.calibration], reference=subject.frozen)
    positions, names = io_names(load_runner(exported.data, kind="litert"), frozen.inputs, frozen.outputs)
    threads = f", {num_threads} thread(s)" if num_threads else ""
    return runner_contender(
        "litert_int8", subject, lambda batch: load_runner(exported.data, kind="litert", num_threads=num_threads),
        f"int8 .tflite ({exported.bytes:,} bytes; {exported.quantized_check.summary()}), float in and "
        f"out{threads}",
        positions=positions, output_names=names,
    )


@register("onnxruntime")
def onnxruntime(subject: Subject, *, num_threads: Optional[int] = None) -> Optional[Contender]:
    """The frozen graph exported to ``.onnx`` and run by ONNX Runtime (no TensorFlow in the timed call)."""
    return _export_contender(subject, "onnx", "onnxruntime", num_threads)


@register("opencv_dnn")
def opencv_dnn(subject: Subject, *, num_threads: Optional[int] = None) -> Optional[Contender]:
    """The OpenCV export of the frozen graph, run by OpenCV DNN in-process only after a subprocess check passed.

    Returns ``None`` without OpenCV, without a frozen graph, or when OpenCV cannot read the
    graph. At each batch size the same graph first passes :func:`~.opencv.diagnose_opencv` in
    a subprocess, so a crash cannot take the benchmark down.
    """
    if subject.frozen is None:
        return None
    try:
        import cv2  # noqa: F401
    except ImportError:
        return None
    try:
        exported = export_opencv(_frozen_graph(subject), inputs=subject.inputs(2), reference=subject.frozen)
    except (RefusedError, GraphFormatError):
        return None

    def load(batch: int) -> Runner:
        diagnose_opencv(exported.frozen, inputs=subject.inputs(batch), name=f"the OpenCV export at batch {batch}"
                        ).raise_if_failed()
        return OpenCVRunner(exported.data, num_threads=num_threads, inputs=exported.frozen.inputs,
                            outputs=exported.frozen.outputs)

    note = (f"OpenCV DNN on the OpenCV export ({exported.nodes_before} -> {exported.nodes_after} nodes), "
            "NHWC->NCHW blob in the timed call; checked in a subprocess first")
    return runner_contender("opencv_dnn", subject, load, note, output_names=output_tensor_names(exported.frozen))


@register("openvino")
def openvino(subject: Subject, *, num_threads: Optional[int] = None, precision: str = "f32") -> Optional[Contender]:
    """The frozen graph as OpenVINO IR, run by OpenVINO's CPU plugin at ``precision`` (float32 unless told).

    The IR is verified against the frozen graph at float32 before it is timed (``export``); the
    note says that check's difference and the precision the plugin then computes in, which
    can differ from the one asked for (``"default"`` lets it pick bfloat16 where the CPU has it,
    and a CPU without bfloat16 computes ``"bf16"`` in float32). The timed outputs' difference,
    at that precision, is the benchmark's ``max|diff|``. ``None`` without OpenVINO.
    """
    if subject.frozen is None:
        return None
    try:
        import openvino as _ov  # noqa: F401
    except ImportError:
        return None
    frozen = _frozen_graph(subject)
    exported = export(frozen, "openvino", inputs=subject.inputs(2), reference=subject.frozen)
    model = (exported.xml, exported.bin)
    probe = OpenVINORunner(model, precision=precision)
    positions = [next((i for i, t in enumerate(frozen.inputs) if t.name == name), k)
                 for k, name in enumerate(probe.input_names)]
    threads = f", {num_threads} thread(s)" if num_threads else ""
    return runner_contender(
        "openvino", subject, lambda batch: OpenVINORunner(model, num_threads=num_threads, precision=precision),
        f"OpenVINO IR on the CPU plugin in {probe.precision} (INFERENCE_PRECISION_HINT {precision}), from NumPy"
        f"{threads}; the IR checked at f32 first: max |diff| {exported.max_abs_diff:.2g}",
        positions=positions, output_names=output_names(probe, frozen),
    )


__all__ = [
    "FROZEN_CONTENDERS",
    "MODEL_CONTENDERS",
    "NEEDS",
    "TF_CONTENDERS",
    "available_contenders",
    "compare",
    "frozen",
    "frozen_prune",
    "frozen_session",
    "keras_eager",
    "keras_predict",
    "litert",
    "litert_int8",
    "load_graph",
    "loaded_contender",
    "onnxruntime",
    "opencv_dnn",
    "openvino",
    "optimized",
    "output_tensor_names",
    "prepare",
    "runner_contender",
    "saved_model",
    "tensor_contender",
    "tf_function",
]
