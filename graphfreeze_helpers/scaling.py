"""How the pipeline's costs grow with the model: MLPs of a chosen size, commands timed in fresh processes.

    model = mlp_for_params(10_000_000)             # Dense layers on a (None, 1024) input, ~10M params
    cost = measure_command(["graphfreeze", "inspect", "m.pb", "--json"], stage="inspect", params=10_000_000)
    growth_exponent([1e6, 1e7, 1e8], [2.0, 9.0, 80.0])   # slope on log-log axes: 1.0 is linear
    plot_cost_curves(costs)                        # seconds and peak memory against parameters, log-log

``benchmarks/scale.py`` measures every stage this way; notebook 08 runs a small sweep in
its own process. A stage's peak memory is the child's own ``ru_maxrss`` (``os.wait4``),
so one stage's peak never hides another's.
"""

from __future__ import annotations

import math
import os
import subprocess
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any, Optional, Sequence

import numpy as np

from .freeze import freeze
from .load import load_frozen
from .tfimport import import_tensorflow

INPUT_WIDTH = 1024  # the (None, 1024) input of the scale MLPs
DEPTH = 4  # hidden Dense layers
OUTPUTS = 10


@dataclass(frozen=True)
class Cost:
    """One stage at one model size: wall time, the process's peak resident memory, and whether it worked."""

    stage: str
    params: int
    seconds: float
    peak_bytes: int
    ok: bool = True
    note: str = ""  # the last line of stderr when the stage failed or refused
    written_bytes: int = 0  # the size of what the stage wrote (the .pb), when that is the point

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def hidden_width(params: int, *, inputs: int = INPUT_WIDTH, depth: int = DEPTH, outputs: int = OUTPUTS) -> int:
    """The hidden width ``h`` that gives an MLP of about ``params`` parameters:
    ``inputs*h + (depth-1)*h*h + outputs*h`` weights plus ``depth*h + outputs`` biases."""
    a = depth - 1
    b = inputs + outputs + depth
    c = outputs - params
    if a == 0:
        return max(1, round(-c / b))
    return max(1, int((-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)))


def mlp_for_params(params: int, *, inputs: int = INPUT_WIDTH, depth: int = DEPTH, outputs: int = OUTPUTS,
                   seed: int = 0) -> Any:
    """An untrained Keras MLP, ``(None, inputs)`` → ``depth`` ReLU layers → ``outputs``, of about ``params`` weights."""
    import_tensorflow()
    import keras

    keras.utils.set_random_seed(seed)
    width = hidden_width(params, inputs=inputs, depth=depth, outputs=outputs)
    x = keras.Input((inputs,), name="x")
    y = x
    for _ in range(depth):
        y = keras.layers.Dense(width, activation="relu")(y)
    return keras.Model(x, keras.layers.Dense(outputs)(y), name=f"mlp_{params}")


def measure_command(command: Sequence[str], *, stage: str, params: int, timeout: Optional[float] = None,
                    cwd: Optional[str] = None, env: Optional[dict[str, str]] = None) -> Cost:
    """Run ``command`` in a fresh process: its wall time and its own peak RSS (``os.wait4``'s ``ru_maxrss``)."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(list(command), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                   cwd=cwd, env=env)
        timer = threading.Timer(timeout, process.kill) if timeout else None
        if timer is not None:
            timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            if timer is not None:
                timer.cancel()
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
        err.seek(0)
        lines = [line for line in err.read().decode("utf-8", "replace").splitlines() if line.strip()]
    ok = process.returncode == 0
    note = "" if ok else (lines[-1] if lines else f"exit {process.returncode}")
    return Cost(stage, params, seconds, int(usage.ru_maxrss) * 1024, ok, note)


def time_stages(sizes: Sequence[int], folder: Any, *, batch: int = 4) -> list[Cost]:
    """A small sweep in this process: for each size, an MLP frozen (verified), saved, then loaded and called
    once on ``batch`` rows. Seconds only (``peak_bytes`` 0: one process cannot tell each stage's own peak);
    ``written_bytes`` of ``save`` is the ``.pb``'s size."""
    costs = []
    for params in sizes:
        model = mlp_for_params(params)
        start = time.perf_counter()
        frozen = freeze(model)
        costs.append(Cost("freeze", params, time.perf_counter() - start, 0))
        start = time.perf_counter()
        path = frozen.save(f"{folder}/mlp_{params}.pb", force=True)
        costs.append(Cost("save", params, time.perf_counter() - start, 0, written_bytes=os.path.getsize(path)))
        del frozen, model
        start = time.perf_counter()
        load_frozen(path)(np.zeros((batch, INPUT_WIDTH), np.float32))
        costs.append(Cost("load and run", params, time.perf_counter() - start, 0))
    return costs


def growth_table(costs: Sequence[Cost]) -> list[dict[str, Any]]:
    """One row per stage: its seconds at each size and the fitted exponent of time (and of bytes written)."""
    rows = []
    for stage in dict.fromkeys(c.stage for c in costs):
        mine = sorted((c for c in costs if c.stage == stage and c.ok), key=lambda c: c.params)
        row: dict[str, Any] = {"stage": stage}
        row.update({f"{c.params / 1e6:g}M params (s)": round(c.seconds, 3) for c in mine})
        row["time exponent"] = round(growth_exponent([c.params for c in mine], [c.seconds for c in mine]), 2)
        wrote = any(c.written_bytes for c in mine)
        row["bytes exponent"] = (round(growth_exponent([c.params for c in mine], [c.written_bytes for c in mine]), 2)
                                 if wrote else None)
        rows.append(row)
    return rows


def growth_exponent(params: Sequence[float], values: Sequence[float]) -> float:
    """The least-squares slope of ``log(values)`` against ``log(params)``: 1.0 grows linearly, 0 not at all."""
    points = [(math.log(p), math.log(v)) for p, v in zip(params, values) if p > 0 and v > 0]
    if len(points) < 2:
        return float("nan")
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    if spread == 0:
        return float("nan")
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread


def plot_cost_curves(costs: Sequence[Cost], *, title: str = "cost against model size") -> Any:
    """Seconds and peak memory of each stage against parameters, on log-log axes (a matplotlib Figure)."""
    import matplotlib

    if not os.environ.get("DISPLAY") and "inline" not in matplotlib.get_backend():
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    memory = any(c.peak_bytes for c in costs)  # measured in fresh processes, else seconds only
    figure, axes = plt.subplots(1, 2 if memory else 1, figsize=(11 if memory else 6, 4.2), squeeze=False)
    left = axes[0][0]
    stages = list(dict.fromkeys(c.stage for c in costs))
    for stage in stages:
        points = sorted((c.params, c.seconds, c.peak_bytes) for c in costs if c.stage == stage and c.ok)
        if not points:
            continue
        style = "--" if stage.startswith("bare") else "-"
        left.plot([p for p, _, _ in points], [s for _, s, _ in points], style, marker="o", label=stage)
        if memory:
            axes[0][1].plot([p for p, _, _ in points], [m / 2**30 for _, _, m in points], style, marker="o",
                            label=stage)
    labelled = [(left, "seconds")] + ([(axes[0][1], "peak RSS (GiB)")] if memory else [])
    for axis, label in labelled:
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("parameters")
        axis.set_ylabel(label)
        axis.grid(True, which="both", alpha=0.3)
    left.legend(fontsize=8)
    figure.suptitle(title)
    figure.tight_layout()
    return figure
