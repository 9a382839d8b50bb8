"""Every script in benchmarks/ still runs: each in its quick mode (tiny sizes, few repeats, no speed target).

The speed targets themselves are checked by ``make bench``, never here: a quick run on a shared
machine measures nothing worth asserting. What a quick run proves is that the script still
works against the library's API and prints each ratio it exists to print.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted((ROOT / "benchmarks").glob("*.py"))

# The ratio lines each script prints; a new script adds its own here.
RATIO_LINES = {
    "latency.py": [
        r"^quick  batch 1: frozen / tf_function = \d+\.\d\d \(target <= ",
        r"^quick  batch 1: frozen_prune / frozen = \d+\.\d\d \(target >= ",
    ],
    "deploy.py": [
        r"^quick  batch 1: keras_eager / (litert|onnxruntime) = \d+\.\dx ",
        r"^quick  batch 1: (litert|onnxruntime) / numpy = \d+\.\d\d ",
        r"^quick  batch 1: optimized / frozen = \d+\.\d\d \(target <= ",
        r"^quick  MobileNetV2 nodes after optimize: \d+ / \d+ = \d+\.\d% ",
        r"^PASS  the NumPy forward pass matches Keras",
        r"^--quantize int8 +int8 +\d+\.\d\d% +-?\d+\.\d\d +[\d,]+ +\d+\.\d\d +\d+\.\d +\d+\.\d\d  (all three|none|\w+)",
        r"^--quantize int8 --strip +int8 +\d+\.\d\d% +-?\d+\.\d\d +[\d,]+ +\d+\.\d\d +- +- ",
        r"^--quantize int8 --keep-float conv0 +float +\d+\.\d\d% ",
        r"^# the targets are judged on the smallest full-integer int8 file, export --quantize int8 --per-tensor "
        r"--strip:$",
        r"^quick  int8 LiteRT test accuracy \d+\.\d\d% vs float \d+\.\d\d%: -?\d+\.\d\d points lost \(target <= ",
        r"^quick  int8 / float LiteRT size = \d+\.\d\d \([\d,]+ vs [\d,]+ bytes; target <= ",
        r"^quick  batch \d+: litert_int8_small / litert = \d+\.\d\d \(",
        r"^info  the default int8 \(export --quantize int8, per-channel scales\) (misses|meets) .*int8 / float LiteRT "
        r"size = \d+\.\d\d .*; stripped, size \d+\.\d\d$",
        r"^info  int8 file [\d,]+ bytes = [\d,]+ constants \+ [\d,]+ quantization \+ [\d,]+ names \+ [\d,]+ metadata "
        r"\+ -?[\d,]+ rest$",
        r"^info  export --quantize int8 --keep-float conv0: float32 in and out, .*litert_int8_conv0_float / litert = "
        r"\d+\.\d\d \(",
        r"^info  batch \d+, same run: the first block alone \(3x3 conv, 1 -> \d+ channels\): litert_int8 / litert = "
        r"\d+\.\d\d \(",
        r"^info  the same MobileNetV2 \([\d,]+ parameters\): default int8 / float LiteRT size = 0\.\d\d \(",
    ],
    "legacy_load.py": [
        r"^quick  batch 1: loader / session_callable = \d+\.\d\d \(target <= ",
        r"^info  batch 1: wrap_prune / loader = \d+\.\d\d$",
    ],
    "training.py": [
        r"^quick  lowest test accuracy \d\.\d{4} \(target >= ",
        r"^quick  slowest training \d+\.\d s = \d+\.\d\d of the budget \(target <= ",
        r"^quick  distinct accuracies over 2 runs: \d+ \(target == 1",
    ],
    "scale.py": [
        r"^quick  \S+: freeze / bare_freeze time = \d+\.\d\d \(target <= 1\.2\)$",
        r"^quick  \S+: freeze / bare_freeze peak RSS = \d+\.\d\d \(target <= 0\.6\)$",
        r"^quick  \S+: run / bare_run time = \d+\.\d\d \(target <= 0\.3\)$",
        r"^quick  \S+: run / bare_run peak RSS = \d+\.\d\d \(target <= 0\.5\)$",
        r"^freeze +\d+\.\ds +\d+\.\d\dG ",
    ],
    "inspect_speed.py": [
        r"^tutorial +\d+\.\dMB +\d+\.\d{3} +\d+\.\d{3} +\d+\.\d{3} +0\.200  quick$",
    ],
    "scan_speed.py": [
        r"^quick  large: \d+\.\d MB in \d+\.\d{3} s CPU = \d+\.\d MB/s = \d+\.\d\d x the target \(target > 50 ",
        r"^quick  functions: \d+\.\d MB in \d+\.\d{3} s CPU = \d+\.\d MB/s = \d+\.\d\d x the target \(target > 50 ",
        r"^info  tiny functions: .* functions/s ",
        r"^info  distinct functions: \d+\.\d MB in \d+\.\d{3} s CPU = \d+\.\d MB/s ",
    ],
}


def test_every_benchmark_script_is_covered():
    assert sorted(RATIO_LINES) == sorted(script.name for script in SCRIPTS)


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS, ids=[script.stem for script in SCRIPTS])
def test_quick_mode_runs_and_prints_its_ratios(script, tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run([sys.executable, str(script), "--quick"], capture_output=True, text=True, cwd=tmp_path,
                            env=env, timeout=600, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    for pattern in RATIO_LINES[script.name]:
        assert re.search(pattern, result.stdout, flags=re.M), f"{script.name} printed no {pattern!r}:\n{result.stdout}"
    assert not re.search(r"^(PASS|FAIL) .*target", result.stdout, flags=re.M), "quick mode checks no speed target"
    assert os.listdir(tmp_path) == [], "a quick run leaves no files behind"
