"""Measure latency fairly: contenders side by side, interleaved, on the same inputs.

The harness (:func:`run_benchmark`) knows nothing about TensorFlow. A :class:`Contender` is
a name and a ``make(batch)`` function that does all the setup for one batch size (build
the inputs, load the graph, convert to tensors) and returns a zero-argument ``run()`` that
performs exactly one call. Only ``run()`` is timed. For each batch size the harness

1. makes every contender and warms it up (``warmup`` calls, which also trigger tracing,
   graph optimization and lazy initialization); the first output is kept to check that
   all contenders agree;
2. times single calls in short blocks, round-robin ``A B C A B C ...``, so that a burst of
   load from elsewhere on the machine hits every contender alike, until the time budget is
   used and every contender has at least ``min_calls`` calls;
3. reports the median, p10, p90 and IQR of the single-call times, in microseconds.

The TensorFlow contenders (:func:`standard_contenders`) all follow the same rules, so
their times compare like for like:

- **Input**: prepared once per batch size, outside the timed region, as the type each API
  takes natively: a ``tf.constant`` for everything that accepts a tensor, a NumPy array for
  ``Session.run``'s ``feed_dict`` (which would convert a tensor to NumPy anyway).
- **Output**: every ``run()`` returns NumPy arrays, so the device-to-host copy
  (``.numpy()``) is inside the timed region for all of them; ``predict`` and
  ``Session.run`` return NumPy by themselves.

More contenders (an optimized graph, LiteRT, ONNX Runtime, ...) plug in as factories:
a function ``factory(subject) -> Contender | None`` added to :data:`FACTORIES`, or any
:class:`Contender` passed to :func:`run_benchmark` directly. The harness does not change.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import platform
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence

import numpy as np

from . import _io
from .freeze import positional_signature
from .verify import as_output_list, max_abs_diff

Run = Callable[[], Any]


@dataclass
class Contender:
    """One way of running the model: ``make(batch)`` does the setup and returns ``run()``.

    ``run()`` performs one call and returns the outputs (NumPy arrays, a list of them, or
    ``None`` when there is nothing to compare). ``note`` says what the timed call includes.
    """

    name: str
    make: Callable[[int], Run]
    note: str = ""

    def __repr__(self) -> str:
        return f"Contender({self.name!r}" + (f", {self.note!r})" if self.note else ")")


@dataclass
class BenchRow:
    """Statistics of the single-call times of one contender at one batch size (microseconds)."""

    contender: str
    batch: int
    median_us: float
    p10_us: float
    p90_us: float
    iqr_us: float
    mean_us: float
    calls: int
    max_abs_diff: Optional[float] = None  # against the first contender at this batch size

    @property
    def per_sample_us(self) -> float:
        return self.median_us / self.batch

    def short(self) -> dict[str, Any]:
        """The fields ``graphfreeze bench --json`` prints."""
        out = {k: getattr(self, k) for k in ("contender", "batch", "median_us", "p10_us", "p90_us", "calls")}
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()}


_FIELDS = [f.name for f in fields(BenchRow)]


def summarize(seconds: Sequence[float]) -> dict[str, float]:
    """Median, p10, p90, IQR (p75 - p25) and mean of call times given in seconds, in microseconds.

    Percentiles interpolate linearly between the sorted samples (NumPy's default).
    """
    return summarize_us(np.asarray(seconds, dtype=np.float64) * 1e6)


def summarize_us(microseconds: Sequence[float]) -> dict[str, float]:
    """:func:`summarize` for times already in microseconds."""
    us = np.asarray(microseconds, dtype=np.float64)
    if us.size == 0:
        raise ValueError("no samples to summarize")
    p10, p25, p50, p75, p90 = np.percentile(us, [10, 25, 50, 75, 90])
    return {
        "median_us": float(p50),
        "p10_us": float(p10),
        "p90_us": float(p90),
        "iqr_us": float(p75 - p25),
        "mean_us": float(us.mean()),
    }


@dataclass
class BenchResult:
    """A table of :class:`BenchRow` plus the environment and the settings it was measured with."""

    rows: list[BenchRow]
    environment: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    samples: dict[tuple[str, int], np.ndarray] = field(default_factory=dict, repr=False, compare=False)
    schedule: list[tuple[int, str, int]] = field(default_factory=list, repr=False, compare=False)

    # --- looking things up ------------------------------------------------------------
    @property
    def contenders(self) -> list[str]:
        return list(dict.fromkeys(r.contender for r in self.rows))

    @property
    def batch_sizes(self) -> list[int]:
        return sorted({r.batch for r in self.rows})

    def row(self, contender: str, batch: int) -> BenchRow:
        for r in self.rows:
            if r.contender == contender and r.batch == batch:
                return r
        raise KeyError(f"no row for contender {contender!r} at batch {batch}; have {self.contenders} x {self.batch_sizes}")

    def median(self, contender: str, batch: int) -> float:
        return self.row(contender, batch).median_us

    def ratio(self, contender: str, baseline: str, batch: int) -> float:
        """``median(contender) / median(baseline)`` at ``batch``: below 1 means ``contender`` is faster."""
        return self.median(contender, batch) / self.median(baseline, batch)

    def worst_diff(self) -> float:
        """The largest output difference between any contender and the reference (0 if none measured)."""
        diffs = [r.max_abs_diff for r in self.rows if r.max_abs_diff is not None]
        return max(diffs, default=0.0)

    def to_records(self, short: bool = False) -> list[dict[str, Any]]:
        return [r.short() if short else asdict(r) for r in self.rows]

    # --- writing and reading ----------------------------------------------------------
    def to_csv(self, path: str | Path, *, force: bool = False) -> Path:
        """Write the rows as CSV (atomically; never overwrites without ``force``)."""
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=_FIELDS, lineterminator="\n")
        writer.writeheader()
        for r in self.rows:
            writer.writerow({k: ("" if v is None else v) for k, v in asdict(r).items()})
        _io.write_files_atomically({Path(path): buffer.getvalue().encode()}, force=force)
        return Path(path)

    def to_json(self, path: str | Path, *, force: bool = False) -> Path:
        """Write rows, environment and settings as JSON (atomically; never overwrites without ``force``)."""
        record = {"rows": self.to_records(), "environment": self.environment, "settings": self.settings}
        text = json.dumps(record, indent=2, default=str) + "\n"
        _io.write_files_atomically({Path(path): text.encode()}, force=force)
        return Path(path)

    @classmethod
    def from_json(cls, path: str | Path) -> "BenchResult":
        record = json.loads(Path(path).read_text())
        return cls(
            rows=[BenchRow(**r) for r in record["rows"]],
            environment=record.get("environment", {}),
            settings=record.get("settings", {}),
        )

    @classmethod
    def from_csv(cls, path: str | Path) -> "BenchResult":
        rows = []
        with open(path, newline="") as handle:
            for raw in csv.DictReader(handle):
                rows.append(
                    BenchRow(
                        contender=raw["contender"],
                        batch=int(raw["batch"]),
                        calls=int(raw["calls"]),
                        max_abs_diff=float(raw["max_abs_diff"]) if raw.get("max_abs_diff") else None,
                        **{k: float(raw[k]) for k in ("median_us", "p10_us", "p90_us", "iqr_us", "mean_us")},
                    )
                )
        return cls(rows=rows)

    def to_pandas(self) -> Any:
        """The rows as a ``pandas.DataFrame`` (pandas is optional: install it to use this)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("to_pandas needs pandas, which graphfreeze does not install; `pip install pandas`") from None
        return pd.DataFrame(self.to_records())

    # --- showing ----------------------------------------------------------------------
    def table(self) -> str:
        """A plain-text table, one line per contender and batch size."""
        head = f"{'contender':<16} {'batch':>5} {'median µs':>10} {'p10':>9} {'p90':>9} {'IQR':>8} {'calls':>6} {'max|diff|':>9}"
        lines = [head, "-" * len(head)]
        for r in sorted(self.rows, key=lambda r: (r.batch, self._order(r.contender))):
            diff = "-" if r.max_abs_diff is None else f"{r.max_abs_diff:.1e}"
            lines.append(
                f"{r.contender:<16} {r.batch:>5} {r.median_us:>10.1f} {r.p10_us:>9.1f} {r.p90_us:>9.1f}"
                f" {r.iqr_us:>8.1f} {r.calls:>6} {diff:>9}"
            )
        return "\n".join(lines)

    def _order(self, name: str) -> int:
        return self.contenders.index(name)

    def __repr__(self) -> str:
        env = self.environment
        where = f"{env.get('cpu_model', '?')}, {env.get('cores', '?')} cores" if env else "environment not recorded"
        return f"BenchResult({len(self.rows)} rows; {where})\n{self.table()}"

    def _repr_html_(self) -> str:
        head = "".join(
            f"<th>{h}</th>"
            for h in ("contender", "batch", "median µs", "p10 µs", "p90 µs", "IQR µs", "calls", "max |diff|")
        )
        body = []
        for r in sorted(self.rows, key=lambda r: (r.batch, self._order(r.contender))):
            diff = "-" if r.max_abs_diff is None else f"{r.max_abs_diff:.1e}"
            body.append(
                f"<tr><td><code>{html.escape(r.contender)}</code></td><td>{r.batch}</td>"
                f"<td><b>{r.median_us:,.1f}</b></td><td>{r.p10_us:,.1f}</td><td>{r.p90_us:,.1f}</td>"
                f"<td>{r.iqr_us:,.1f}</td><td>{r.calls}</td><td>{diff}</td></tr>"
            )
        env = self.environment
        caption = (
            f"<p>{html.escape(str(env.get('cpu_model', '?')))}, {env.get('cores', '?')} cores, "
            f"TensorFlow {env.get('tensorflow', '?')}, threads intra {env.get('intra_op_threads', '?')} / "
            f"inter {env.get('inter_op_threads', '?')} (0 = TensorFlow decides)</p>"
            if env
            else ""
        )
        return f"<table><tr>{head}</tr>{''.join(body)}</table>{caption}"


# --- the environment -----------------------------------------------------------------------


def environment() -> dict[str, Any]:
    """CPU model, cores, Python/NumPy and, if TensorFlow is loaded, its version and thread settings.

    TensorFlow is not imported here: a benchmark of plain Python callables stays TF-free.
    """
    env: dict[str, Any] = {
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
    }
    if hasattr(os, "sched_getaffinity"):
        env["cores_available"] = len(os.sched_getaffinity(0))
    tf = sys.modules.get("tensorflow")
    if tf is not None and hasattr(tf, "config"):
        env["tensorflow"] = tf.__version__
        env["intra_op_threads"] = tf.config.threading.get_intra_op_parallelism_threads()
        env["inter_op_threads"] = tf.config.threading.get_inter_op_parallelism_threads()
    keras = sys.modules.get("keras")
    if keras is not None and hasattr(keras, "__version__"):
        env["keras"] = keras.__version__
    return env


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


# --- the harness ---------------------------------------------------------------------------


def _progress(total: float, enabled: bool) -> Any:
    if not enabled:
        return None
    from .runtime import progress_bar

    return progress_bar(total=round(total, 1), unit="s", desc="benchmark", mininterval=0.5,
                        bar_format="{l_bar}{bar}| {n:.1f}/{total:.1f} s{postfix}")


def _outputs(value: Any) -> Optional[list[np.ndarray]]:
    if value is None:
        return None
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()
    if isinstance(value, (list, tuple)):
        value = [v.numpy() if hasattr(v, "numpy") and not isinstance(v, np.ndarray) else v for v in value]
    return as_output_list(value)


def run_benchmark(
    contenders: Sequence[Contender],
    batch_sizes: Iterable[int] = (1,),
    *,
    time_budget_s: float = 2.0,
    warmup: int = 10,
    min_calls: int = 10,
    block_s: float = 0.02,
    max_block_calls: int = 200,
    progress: bool = False,
    clock: Callable[[], int] = time.perf_counter_ns,
) -> BenchResult:
    """Time every contender at every batch size, interleaved; return a :class:`BenchResult`.

    ``time_budget_s`` is the measuring time of the whole sweep (setup and warm-up come on
    top), shared equally by the batch sizes. It is a target: ``min_calls`` wins if a
    contender is too slow to reach it within the budget. A block is about ``block_s`` of one
    contender's calls (at least one call), each call timed on its own.
    """
    contenders = list(contenders)
    batch_sizes = [int(b) for b in batch_sizes]
    if not contenders:
        raise ValueError("no contenders to benchmark")
    names = [c.name for c in contenders]
    if len(set(names)) != len(names):
        raise ValueError(f"contender names must be unique, got {names}")
    if not batch_sizes or any(b < 1 for b in batch_sizes):
        raise ValueError(f"batch sizes must be positive whole numbers, got {batch_sizes}")
    if time_budget_s < 0 or warmup < 0 or min_calls < 1 or block_s <= 0 or max_block_calls < 1:
        raise ValueError("time_budget_s and warmup must be >= 0, min_calls and max_block_calls >= 1, block_s > 0")

    settings = {
        "time_budget_s": time_budget_s, "warmup": warmup, "min_calls": min_calls, "block_s": block_s,
        "batch_sizes": batch_sizes, "contenders": names,
    }
    result = BenchResult(rows=[], settings=settings)
    share_ns = time_budget_s * 1e9 / len(batch_sizes)
    bar = _progress(time_budget_s, progress)
    done_s = 0.0
    try:
        for batch in batch_sizes:
            runs: list[Run] = []
            reference: Optional[list[np.ndarray]] = None
            diffs: list[Optional[float]] = []
            per_block: list[int] = []
            for contender in contenders:
                if bar is not None:
                    bar.set_postfix_str(f"batch {batch}: setting up {contender.name}", refresh=False)
                run = contender.make(batch)
                started = clock()
                out = _outputs(run())  # the first call traces/initializes; its output is compared
                estimate_ns = clock() - started
                if warmup > 1:
                    started = clock()
                    for _ in range(warmup - 1):
                        run()
                    estimate_ns = (clock() - started) / (warmup - 1)
                if out is not None and reference is None:
                    reference = out
                diffs.append(None if out is None or reference is None else max_abs_diff(reference, out))
                runs.append(run)
                per_block.append(int(min(max_block_calls, max(1, block_s * 1e9 // max(estimate_ns, 1)))))
            times: list[list[int]] = [[] for _ in contenders]  # nanoseconds
            spent_ns = 0
            while spent_ns < share_ns or min(len(t) for t in times) < min_calls:
                round_started = clock()
                for i, run in enumerate(runs):
                    calls = per_block[i]
                    sink = times[i]
                    for _ in range(calls):
                        t0 = clock()
                        run()
                        sink.append(clock() - t0)
                    result.schedule.append((batch, names[i], calls))
                elapsed = clock() - round_started
                spent_ns += elapsed
                if bar is not None:
                    step = min(elapsed * 1e-9, max(time_budget_s - done_s, 0.0))
                    done_s += step
                    bar.set_postfix_str(f"batch {batch}", refresh=False)
                    bar.update(step)
            for name, sink, diff in zip(names, times, diffs):
                us = np.asarray(sink, dtype=np.float64) / 1000.0
                result.rows.append(BenchRow(name, batch, calls=len(sink), max_abs_diff=diff, **summarize_us(us)))
                result.samples[(name, batch)] = us
            for run in runs:
                close = getattr(run, "close", None)
                if callable(close):
                    close()
    finally:
        if bar is not None:
            bar.close()
    result.environment = environment()
    return result


# --- TensorFlow contenders -----------------------------------------------------------------


@dataclass
class Subject:
    """What the contenders run: a live model and/or a frozen graph, and the inputs they share.

    ``inputs(batch)`` returns the same seeded NumPy arrays to every contender. Build one with
    :func:`prepare`.
    """

    model: Any = None  # a keras.Model or a loaded SavedModel (or None)
    model_path: Optional[Path] = None
    frozen: Any = None  # a load.FrozenFunction (method "import"), or None
    graph_path: Optional[Path] = None
    specs: list[Any] = field(default_factory=list)  # TensorInfo of the inputs
    seed: int = 0
    workdir: Optional[Path] = None
    _cache: dict[int, list[np.ndarray]] = field(default_factory=dict, repr=False)
    _keep: list[Any] = field(default_factory=list, repr=False)  # objects that must outlive the contenders

    def inputs(self, batch: int) -> list[np.ndarray]:
        if batch not in self._cache:
            from .freeze import sample_inputs

            self._cache[batch] = sample_inputs(self.specs, batch=batch, seed=self.seed)
        return self._cache[batch]

    @property
    def is_keras(self) -> bool:
        if self.model is None:
            return False
        import keras

        return isinstance(self.model, keras.Model)


def load_graph(path: str | Path, *, allow_unsafe: bool = False, graph_def: Any = None) -> Any:
    """The one place where the benchmark loads a frozen graph (the project's loader; unsafe graphs refused).

    ``graph_def``: the graph already read from ``path`` (see :func:`.load.load_frozen`).
    """
    from .load import load_frozen

    return load_frozen(path, allow_unsafe=allow_unsafe, graph_def=graph_def)


def prepare(
    graph: str | Path | None = None,
    model: Any = None,
    *,
    seed: int = 0,
    workdir: str | Path | None = None,
    allow_unsafe: bool = False,
    graph_def: Any = None,
) -> Subject:
    """Load what the contenders need: a frozen ``.pb`` and/or a model (object or path).

    ``graph_def``: the graph already read from ``graph``, so the file is not read again.
    """
    from .runtime import import_tensorflow
    from .tensors import TensorInfo

    import_tensorflow()
    if graph is None and model is None:
        raise ValueError("give a frozen graph, a model, or both")
    subject = Subject(seed=seed, workdir=Path(workdir) if workdir is not None else None)
    if model is not None:
        if isinstance(model, (str, Path)):
            from .freeze import load_model

            subject.model_path = Path(model)
            model = load_model(model)
        subject.model = model
    if graph is not None:
        subject.graph_path = Path(graph)
        subject.frozen = load_graph(graph, allow_unsafe=allow_unsafe, graph_def=graph_def)
        subject.specs = list(subject.frozen.inputs)
    elif subject.is_keras:
        subject.specs = [TensorInfo(t.name, t.dtype, (None, *tuple(t.shape)[1:])) for t in model.inputs]
    else:
        specs, _ = positional_signature(model.signatures["serving_default"])
        subject.specs = [TensorInfo.from_tensor(spec) for spec in specs]
    return subject


def _constants(subject: Subject, batch: int) -> list[Any]:
    from .runtime import import_tensorflow

    tf = import_tensorflow()
    return [tf.constant(a) for a in subject.inputs(batch)]


def _numpy(outputs: Any) -> Any:
    if isinstance(outputs, dict):
        return [outputs[k].numpy() for k in sorted(outputs)]
    if isinstance(outputs, (list, tuple)):
        return [o.numpy() for o in outputs]
    return outputs.numpy()


def _model_call(subject: Subject) -> Callable[[list[Any]], Any]:
    model = subject.model
    if len(subject.specs) == 1:
        return lambda xs: model(xs[0], training=False)
    return lambda xs: model(list(xs), training=False)


def keras_eager(subject: Subject) -> Optional[Contender]:
    if not subject.is_keras:
        return None
    call = _model_call(subject)

    def make(batch: int) -> Run:
        xs = _constants(subject, batch)
        return lambda: _numpy(call(xs))

    return Contender("keras_eager", make, "model(x, training=False) eagerly, then .numpy()")


def keras_predict(subject: Subject) -> Optional[Contender]:
    if not subject.is_keras:
        return None
    model = subject.model

    def make(batch: int) -> Run:
        xs = _constants(subject, batch)
        x = xs[0] if len(xs) == 1 else list(xs)
        return lambda: model.predict(x, batch_size=batch, verbose=0)

    return Contender("keras_predict", make, "model.predict(x, batch_size=batch, verbose=0), returns NumPy")


def tf_function(subject: Subject) -> Optional[Contender]:
    """The model's own ``tf.function`` traced once to a concrete function (what gets frozen)."""
    if subject.model is None:
        return None
    from .runtime import import_tensorflow

    tf = import_tensorflow()
    if subject.is_keras:
        call = _model_call(subject)
        specs = [tf.TensorSpec(t.shape, t.dtype) for t in subject.specs]
        concrete = tf.function(lambda *xs: call(xs), input_signature=specs).get_concrete_function()
        note = "tf.function(model(x, training=False)) concrete function, then .numpy()"
    else:
        _, concrete = positional_signature(subject.model.signatures["serving_default"])
        note = "the SavedModel's serving_default signature, then .numpy()"

    def make(batch: int) -> Run:
        xs = _constants(subject, batch)
        return lambda: _numpy(concrete(*xs))

    return Contender("tf_function", make, note)


def saved_model(subject: Subject) -> Optional[Contender]:
    """``model.export`` (Keras) then ``tf.saved_model.load`` and its ``serve`` endpoint."""
    if subject.model is None:
        return None
    from .runtime import import_tensorflow

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
    subject._keep.append(loaded)

    def make(batch: int) -> Run:
        xs = _constants(subject, batch)
        return lambda: _numpy(serve(*xs))

    return Contender("saved_model", make, note)


def frozen_prune(subject: Subject) -> Optional[Contender]:
    """The loader everyone copies: ``wrap_function`` + ``prune``, the pruned function called bare."""
    if subject.frozen is None:
        return None
    from .load import FrozenFunction

    pruned = FrozenFunction(subject.frozen.graph_def, subject.frozen.inputs, subject.frozen.outputs, method="prune")
    function = pruned.function

    def make(batch: int) -> Run:
        xs = _constants(subject, batch)
        return lambda: _numpy(function(*xs))

    return Contender("frozen_prune", make, "wrap_function + prune, pruned(x) called bare, then .numpy()")


def frozen(subject: Subject) -> Optional[Contender]:
    """The project's loader (``load_frozen``, method ``"import"``)."""
    if subject.frozen is None:
        return None
    function = subject.frozen.function

    def make(batch: int) -> Run:
        xs = _constants(subject, batch)
        return lambda: _numpy(function(*xs))

    return Contender("frozen", make, "load_frozen(path).function(x), then .numpy()")


def frozen_session(subject: Subject) -> Optional[Contender]:
    """A ``tf.compat.v1.Session`` on the frozen graph, ``sess.run(outputs, feed_dict)``."""
    if subject.frozen is None:
        return None
    from .runtime import import_tensorflow

    tf = import_tensorflow()
    graph = tf.Graph()
    with graph.as_default():
        # tf.compat.v1: a Session is the TF1 way to run a GraphDef; TF2 has no Session.
        tf.compat.v1.import_graph_def(subject.frozen.graph_def, name="")
    feeds = [graph.get_tensor_by_name(t.name) for t in subject.frozen.inputs]
    fetches = [graph.get_tensor_by_name(t.name) for t in subject.frozen.outputs]
    session = tf.compat.v1.Session(graph=graph)
    subject._keep.append(session)
    single = len(fetches) == 1

    def make(batch: int) -> Run:
        xs = subject.inputs(batch)
        feed = dict(zip(feeds, xs))
        if single:
            return lambda: session.run(fetches[0], feed_dict=feed)
        return lambda: session.run(fetches, feed_dict=feed)

    return Contender("frozen_session", make, "tf.compat.v1.Session.run(output, feed_dict={input: numpy})")


def optimized(subject: Subject) -> Optional[Contender]:
    """The frozen graph after ``optimize`` (offline grappler, portable target), run like ``frozen``."""
    from .optimize import optimized_contender

    return optimized_contender(subject)


def litert(subject: Subject) -> Optional[Contender]:
    """The frozen graph exported to ``.tflite`` and run by LiteRT (no TensorFlow in the timed call)."""
    from .export import litert_contender

    return litert_contender(subject)


def onnxruntime(subject: Subject) -> Optional[Contender]:
    """The frozen graph exported to ``.onnx`` and run by ONNX Runtime (no TensorFlow in the timed call)."""
    from .export import onnxruntime_contender

    return onnxruntime_contender(subject)


def opencv_dnn(subject: Subject) -> Optional[Contender]:
    """The frozen graph's OpenCV export run by OpenCV DNN, in-process only after a subprocess check passed."""
    from .opencv import opencv_dnn_contender

    return opencv_dnn_contender(subject)


# The standard contenders, in table order. A later stage adds its own factory here (or passes
# Contender objects to run_benchmark); a factory returns None when the subject lacks what it needs.
FACTORIES: dict[str, Callable[[Subject], Optional[Contender]]] = {
    "keras_eager": keras_eager,
    "keras_predict": keras_predict,
    "tf_function": tf_function,
    "saved_model": saved_model,
    "frozen_prune": frozen_prune,
    "frozen": frozen,
    "frozen_session": frozen_session,
    "optimized": optimized,
    "litert": litert,
    "onnxruntime": onnxruntime,
    "opencv_dnn": opencv_dnn,
}
FROZEN_CONTENDERS = ("frozen", "frozen_prune", "frozen_session")
# The seven ways of running a model with TensorFlow alone that notebook 05 compares.
TF_CONTENDERS = (
    "keras_eager", "keras_predict", "tf_function", "saved_model", "frozen_prune", "frozen", "frozen_session",
)


def standard_contenders(subject: Subject, names: Optional[Sequence[str]] = None) -> list[Contender]:
    """The contenders in ``names`` (default: every one in :data:`FACTORIES`) that fit ``subject``."""
    wanted = list(FACTORIES) if names is None else list(names)
    unknown = [n for n in wanted if n not in FACTORIES]
    if unknown:
        raise ValueError(f"unknown contender(s) {unknown}; known are {list(FACTORIES)}")
    made = [FACTORIES[n](subject) for n in wanted]
    return [c for c in made if c is not None]


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
) -> BenchResult:
    """Prepare the subject, make the standard contenders and run them: one call for the CLI and notebooks.

    A graph the safety scan flags is refused unless ``allow_unsafe=True``. ``graph_def``: the
    graph already read from ``graph`` (the CLI reads it first to answer a bad file at once).
    """
    subject = prepare(graph, model, seed=seed, allow_unsafe=allow_unsafe, graph_def=graph_def)
    chosen = standard_contenders(subject, contenders)
    result = run_benchmark(
        chosen, batch_sizes, time_budget_s=time_budget_s, warmup=warmup, min_calls=min_calls, progress=progress
    )
    result.settings["notes"] = {c.name: c.note for c in chosen}
    result.settings["graph"] = str(subject.graph_path) if subject.graph_path else None
    result.settings["model"] = str(subject.model_path) if subject.model_path else None
    return result


def comparisons(result: BenchResult, baseline: str = "frozen") -> list[str]:
    """One line per batch size and contender: its median as a multiple of ``baseline``'s."""
    lines: list[str] = []
    if baseline not in result.contenders:
        return lines
    for batch in result.batch_sizes:
        base = result.median(baseline, batch)
        for other in result.contenders:
            if other != baseline:
                lines.append(
                    f"batch {batch}: {other} takes {result.ratio(other, baseline, batch):.2f}x the time of "
                    f"{baseline} ({result.median(other, batch):,.0f} vs {base:,.0f} µs per call)"
                )
    return lines
