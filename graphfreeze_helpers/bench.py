"""Measure latency fairly: contenders side by side, interleaved, on the same inputs.

This is the timing harness, and it knows nothing about TensorFlow or the conversions it
times. A :class:`Contender` is a name and a ``make(batch)`` function that does all the
setup for one batch size (build the inputs, load the graph, convert to tensors) and
returns a zero-argument ``run()`` that performs exactly one call. Only ``run()`` is timed.
For each batch size :func:`run_benchmark`

1. makes every contender and warms it up (``warmup`` calls, which also trigger tracing,
   graph optimization and lazy initialization); the first output is kept to check that
   all contenders agree;
2. times single calls in short blocks, in rounds that rotate ``A B C``, ``B C A``, ``C A B``...,
   so that a burst of load from elsewhere on the machine hits every contender alike and each
   contender takes each place in the round equally often (a fixed place alone moved a ratio
   by about 5%), until the time budget is used and every contender has at least ``min_calls`` calls;
3. reports the median, p10, p90 and IQR of the single-call times, in microseconds.

Contenders come from factories, ``factory(subject) -> Contender | None``, registered by
name in :data:`FACTORIES` with :func:`register`; a :class:`Subject` holds what they run
and the inputs they share. The standard factories (Keras, ``tf.function``, SavedModel,
the frozen graph, its optimized and exported forms) live in
:mod:`graphfreeze_helpers.contenders`, which registers them when imported; any
:class:`Contender` can also be passed to :func:`run_benchmark` directly.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence

import numpy as np

from . import files
from .formatting import progress_bar
from .freeze import runnable_sample_inputs, sample_inputs
from .verify import Verification, as_output_list

Run = Callable[[], Any]


@dataclass
class Contender:
    """One way of running the model: ``make(batch)`` does the setup and returns ``run()``.

    ``run()`` performs one call and returns the outputs (NumPy arrays, a list of them, or
    ``None`` when there is nothing to compare). ``note`` says what the timed call includes.
    ``output_names`` name the outputs ``run()`` returns, in its order (``probs:0``): outputs
    are compared by name where both sides name them (a runtime may reorder them), else by position.
    """

    name: str
    make: Callable[[int], Run]
    note: str = ""
    output_names: Optional[Sequence[str]] = None

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
    max_abs_diff: Optional[float] = None  # against the first contender at this batch size, outputs by name
    mismatch: str = ""  # in words, when outputs could not be compared: a shape, a missing output, NaN on one side

    @property
    def per_sample_us(self) -> float:
        return self.median_us / self.batch

    def short(self) -> dict[str, Any]:
        """The fields ``graphfreeze bench --json`` prints."""
        out = {k: getattr(self, k) for k in ("contender", "batch", "median_us", "p10_us", "p90_us", "calls")}
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()}


_FIELDS = [f.name for f in fields(BenchRow)]


def timing_stats(seconds: Sequence[float]) -> dict[str, float]:
    """Median, p10, p90, IQR (p75 - p25) and mean of call times given in seconds, in microseconds.

    Percentiles interpolate linearly between the sorted samples (NumPy's default).
    """
    return timing_stats_us(np.asarray(seconds, dtype=np.float64) * 1e6)


def timing_stats_us(microseconds: Sequence[float]) -> dict[str, float]:
    """:func:`timing_stats` for times already in microseconds."""
    us = np.asarray(microseconds, dtype=np.float64)
    if us.size == 0:
        raise ValueError("no call times to compute statistics of")
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
        raise KeyError(
            f"no row for contender {contender!r} at batch {batch}; have {self.contenders} x {self.batch_sizes}"
        )

    def median(self, contender: str, batch: int) -> float:
        return self.row(contender, batch).median_us

    def ratio(self, contender: str, baseline: str, batch: int) -> float:
        """``median(contender) / median(baseline)`` at ``batch``: below 1 means ``contender`` is faster."""
        return self.median(contender, batch) / self.median(baseline, batch)

    def worst_diff(self) -> float:
        """The largest output difference between any contender and the reference (0 if none measured)."""
        diffs = [r.max_abs_diff for r in self.rows if r.max_abs_diff is not None]
        return max(diffs, default=0.0)

    def mismatches(self) -> list[str]:
        """One line per row whose outputs could not be compared with the reference's, saying why."""
        return [f"batch {r.batch}: {r.contender}: {r.mismatch}" for r in self.rows if r.mismatch]

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
        files.write_files_atomically({Path(path): buffer.getvalue().encode()}, force=force)
        return Path(path)

    def to_json(self, path: str | Path, *, force: bool = False) -> Path:
        """Write rows, environment and settings as JSON (atomically; never overwrites without ``force``)."""
        record = {"rows": self.to_records(), "environment": self.environment, "settings": self.settings}
        text = json.dumps(record, indent=2, default=str) + "\n"
        files.write_files_atomically({Path(path): text.encode()}, force=force)
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
                        mismatch=raw.get("mismatch") or "",
                        **{k: float(raw[k]) for k in ("median_us", "p10_us", "p90_us", "iqr_us", "mean_us")},
                    )
                )
        return cls(rows=rows)

    def to_pandas(self) -> Any:
        """The rows as a ``pandas.DataFrame`` (pandas is optional: install it to use this)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError(
                "to_pandas needs pandas, which graphfreeze does not install; `pip install pandas`"
            ) from None
        return pd.DataFrame(self.to_records())

    # --- showing ----------------------------------------------------------------------
    def table(self) -> str:
        """A plain-text table, one line per contender and batch size."""
        head = (f"{'contender':<16} {'batch':>5} {'median µs':>10} {'p10':>9} {'p90':>9} {'IQR':>8} {'calls':>6} "
                f"{'max|diff|':>9}")
        lines = [head, "-" * len(head)]
        for r in sorted(self.rows, key=lambda r: (r.batch, self._order(r.contender))):
            diff = "MISMATCH" if r.mismatch else "-" if r.max_abs_diff is None else f"{r.max_abs_diff:.1e}"
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
            diff = html.escape(r.mismatch) if r.mismatch else "-" if r.max_abs_diff is None else f"{r.max_abs_diff:.1e}"
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


class _Progress:
    """The benchmark's progress bar, in seconds of the measuring budget; does nothing when disabled."""

    def __init__(self, total_s: float, enabled: bool) -> None:
        self.total_s = total_s
        self.done_s = 0.0
        self.bar = (
            progress_bar(total=round(total_s, 1), unit="s", desc="benchmark", mininterval=0.5,
                         bar_format="{l_bar}{bar}| {n:.1f}/{total:.1f} s{postfix}")
            if enabled else None
        )

    def setting_up(self, batch: int, name: str) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(f"batch {batch}: setting up {name}", refresh=False)

    def measured(self, batch: int, elapsed_ns: int) -> None:
        if self.bar is not None:
            step = min(elapsed_ns * 1e-9, max(self.total_s - self.done_s, 0.0))
            self.done_s += step
            self.bar.set_postfix_str(f"batch {batch}", refresh=False)
            self.bar.update(step)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _outputs(value: Any) -> Optional[list[np.ndarray]]:
    if value is None:
        return None
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()
    if isinstance(value, (list, tuple)):
        value = [v.numpy() if hasattr(v, "numpy") and not isinstance(v, np.ndarray) else v for v in value]
    return as_output_list(value)


@dataclass
class _Warm:
    """A contender made and warmed up at one batch size: its ``run``, first output and time per call."""

    run: Run
    output: Optional[list[np.ndarray]]
    estimate_ns: float


def _check_settings(
    names: Sequence[str], batch_sizes: Sequence[int], *, time_budget_s: float, warmup: int, min_calls: int,
    block_s: float, max_block_calls: int,
) -> None:
    if not names:
        raise ValueError("no contenders to benchmark")
    if len(set(names)) != len(names):
        raise ValueError(f"contender names must be unique, got {list(names)}")
    if not batch_sizes or any(b < 1 for b in batch_sizes):
        raise ValueError(f"batch sizes must be positive whole numbers, got {list(batch_sizes)}")
    if time_budget_s < 0 or warmup < 0 or min_calls < 1 or block_s <= 0 or max_block_calls < 1:
        raise ValueError("time_budget_s and warmup must be >= 0, min_calls and max_block_calls >= 1, block_s > 0")


def _warm_up(contender: Contender, batch: int, warmup: int, clock: Callable[[], int]) -> _Warm:
    """Make ``contender`` for ``batch`` and call it ``warmup`` times; the first call's output is kept."""
    run = contender.make(batch)
    started = clock()
    output = _outputs(run())  # the first call traces/initializes; its output is compared
    estimate_ns: float = clock() - started
    if warmup > 1:
        started = clock()
        for _ in range(warmup - 1):
            run()
        estimate_ns = (clock() - started) / (warmup - 1)
    return _Warm(run, output, estimate_ns)


def _diffs(
    outputs: Sequence[Optional[list[np.ndarray]]], names: Sequence[Optional[Sequence[str]]]
) -> list[tuple[Optional[float], str]]:
    """Each contender's largest difference from the first one with outputs, by name where both name
    them (:meth:`~.verify.Verification.from_outputs`), and what could not be compared, in words.

    ``(None, "")`` where there is nothing to compare, ``(None, why)`` where the outputs differ in
    shape or count, or are NaN on one side only (a number there would mislead).
    """
    first = next((i for i, out in enumerate(outputs) if out is not None), None)
    if first is None:
        return [(None, "")] * len(outputs)
    reference, reference_names = outputs[first], names[first]
    found: list[tuple[Optional[float], str]] = []
    for out, own in zip(outputs, names):
        if out is None:
            found.append((None, ""))
            continue
        named = reference_names is not None and own is not None
        check = Verification.from_outputs(reference, out, [], tolerance=0.0, rtol=0.0,
                                          names=reference_names if named else None,
                                          actual_names=own if named else None)
        problems = "; ".join(c.describe() for c in check.outputs if c.problem)
        found.append((None if problems else check.max_abs_diff, problems))
    return found


def _calls_per_block(estimate_ns: float, block_s: float, max_block_calls: int) -> int:
    """How many calls fill about ``block_s`` (at least one, at most ``max_block_calls``)."""
    return int(min(max_block_calls, max(1, block_s * 1e9 // max(estimate_ns, 1))))


def round_order(count: int, round_index: int) -> list[int]:
    """The order of ``count`` contenders in round ``round_index``: the round-robin rotated by one each round.

    Round 0 is ``0 1 2``, round 1 ``1 2 0``, round 2 ``2 0 1``: over ``count`` rounds each
    contender takes each place in the round once, so a place (first after the previous
    round's last, right after a runtime that filled the caches) favours none of them.
    """
    start = round_index % count if count else 0
    return list(range(start, count)) + list(range(start))


def _time_interleaved(
    runs: Sequence[Run], per_block: Sequence[int], *, share_ns: float, min_calls: int, clock: Callable[[], int],
    measured: Callable[[int], None],
) -> tuple[list[list[int]], list[int]]:
    """Time blocks of single calls in rotating rounds (:func:`round_order`) until ``share_ns`` is
    spent and each has ``min_calls``.

    Returns every call's time in nanoseconds, per run, and the order the blocks ran in (run indices).
    """
    times: list[list[int]] = [[] for _ in runs]
    order: list[int] = []
    spent_ns = 0
    rounds = 0
    while spent_ns < share_ns or min(len(t) for t in times) < min_calls:
        round_started = clock()
        for i in round_order(len(runs), rounds):
            run, sink = runs[i], times[i]
            for _ in range(per_block[i]):
                t0 = clock()
                run()
                sink.append(clock() - t0)
            order.append(i)
        elapsed = clock() - round_started
        spent_ns += elapsed
        rounds += 1
        measured(elapsed)
    return times, order


def _close(runs: Iterable[Run]) -> None:
    for run in runs:
        close = getattr(run, "close", None)
        if callable(close):
            close()


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
    names = [c.name for c in contenders]
    _check_settings(names, batch_sizes, time_budget_s=time_budget_s, warmup=warmup, min_calls=min_calls,
                    block_s=block_s, max_block_calls=max_block_calls)
    settings = {
        "time_budget_s": time_budget_s, "warmup": warmup, "min_calls": min_calls, "block_s": block_s,
        "batch_sizes": batch_sizes, "contenders": names,
    }
    result = BenchResult(rows=[], settings=settings)
    bar = _Progress(time_budget_s, progress)
    try:
        for batch in batch_sizes:
            _measure_batch(result, contenders, batch, bar, share_ns=time_budget_s * 1e9 / len(batch_sizes),
                           warmup=warmup, min_calls=min_calls, block_s=block_s, max_block_calls=max_block_calls,
                           clock=clock)
    finally:
        bar.close()
    result.environment = environment()
    return result


def _measure_batch(
    result: BenchResult, contenders: Sequence[Contender], batch: int, bar: _Progress, *, share_ns: float,
    warmup: int, min_calls: int, block_s: float, max_block_calls: int, clock: Callable[[], int],
) -> None:
    """One batch size: warm every contender up, time them interleaved, add their rows to ``result``."""
    warm = []
    for contender in contenders:
        bar.setting_up(batch, contender.name)
        warm.append(_warm_up(contender, batch, warmup, clock))
    runs = [w.run for w in warm]
    per_block = [_calls_per_block(w.estimate_ns, block_s, max_block_calls) for w in warm]
    times, order = _time_interleaved(runs, per_block, share_ns=share_ns, min_calls=min_calls, clock=clock,
                                     measured=lambda elapsed: bar.measured(batch, elapsed))
    names = [c.name for c in contenders]
    result.schedule.extend((batch, names[i], per_block[i]) for i in order)
    compared = _diffs([w.output for w in warm], [c.output_names for c in contenders])
    for name, sink, (diff, mismatch) in zip(names, times, compared):
        us = np.asarray(sink, dtype=np.float64) / 1000.0
        result.rows.append(BenchRow(name, batch, calls=len(sink), max_abs_diff=diff, mismatch=mismatch,
                                    **timing_stats_us(us)))
        result.samples[(name, batch)] = us
    _close(runs)


# --- what the contenders run, and the registry of their factories ----------------------------


@dataclass
class Subject:
    """What the contenders run: a live model and/or a frozen graph, and the inputs they share.

    ``inputs(batch)`` returns the same seeded NumPy arrays to every contender, sampled to fit
    each input's dtype and what ``graph_def`` tells of its shape; with a ``reference`` (the
    frozen graph) they are inputs it runs on (:func:`~.freeze.runnable_sample_inputs`). Build
    one with :func:`graphfreeze_helpers.contenders.prepare`.
    """

    model: Any = None  # a keras.Model or a loaded SavedModel (or None)
    model_path: Optional[Path] = None
    frozen: Any = None  # a load.LoadedGraph (method "import"), or None
    graph_path: Optional[Path] = None
    specs: list[Any] = field(default_factory=list)  # TensorInfo of the inputs
    graph_def: Any = field(default=None, repr=False)  # the frozen graph's, read for input shapes and ranges
    reference: Optional[Callable[..., Any]] = field(default=None, repr=False)  # what sampled inputs must run on
    seed: int = 0
    workdir: Optional[Path] = None
    calibration: Optional[list[np.ndarray]] = field(default=None, repr=False)  # real inputs: litert_int8 needs them
    # keyword arguments for a contender's factory, by contender name: {"openvino": {"precision": "bf16"}}
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    held: list[Any] = field(default_factory=list, repr=False)  # objects that must outlive the contenders
    _cache: dict[int, list[np.ndarray]] = field(default_factory=dict, repr=False)

    def inputs(self, batch: int) -> list[np.ndarray]:
        if batch not in self._cache:
            if self.reference is not None:
                self._cache[batch], _ = runnable_sample_inputs(self.specs, self.reference, graph_def=self.graph_def,
                                                               batch=batch, seed=self.seed)
            else:
                self._cache[batch] = sample_inputs(self.specs, batch=batch, seed=self.seed, graph_def=self.graph_def)
        return self._cache[batch]

    @property
    def is_keras(self) -> bool:
        keras = sys.modules.get("keras")  # a Keras model cannot exist unless Keras is imported
        return keras is not None and self.model is not None and isinstance(self.model, keras.Model)


Factory = Callable[[Subject], Optional[Contender]]
# Contender factories by name, in table order. A factory returns None when the subject lacks
# what it needs. graphfreeze_helpers.contenders registers the standard ones when imported.
FACTORIES: dict[str, Factory] = {}


def register(name: str) -> Callable[[Factory], Factory]:
    """Decorator: add a factory to :data:`FACTORIES` under ``name`` (registering a name again replaces it)."""

    def add(factory: Factory) -> Factory:
        FACTORIES[name] = factory
        return factory

    return add


def standard_contenders(subject: Subject, names: Optional[Sequence[str]] = None) -> list[Contender]:
    """The contenders in ``names`` (default: every one in :data:`FACTORIES`) that fit ``subject``."""
    wanted = list(FACTORIES) if names is None else list(names)
    unknown = [n for n in wanted if n not in FACTORIES]
    if unknown:
        raise ValueError(f"unknown contender(s) {unknown}; known are {list(FACTORIES)} "
                         "(import graphfreeze_helpers.contenders for the standard ones)")
    made = [FACTORIES[n](subject, **subject.options.get(n, {})) for n in wanted]
    return [c for c in made if c is not None]


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
