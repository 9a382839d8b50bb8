"""What the CLI promises to answer before TensorFlow starts, proved through ``sys.modules``.

The README says arguments and files are checked before TensorFlow starts; ``inspect`` and
``scan`` never start it, nor does ``check-opencv --no-compare``. Every case below runs
``cli.main([...])`` in one fresh Python process (no TensorFlow in it at the start), and after
each case that process reports its exit code, its stderr and whether ``tensorflow`` or
``keras`` is in ``sys.modules``. The graphs are written with TensorBoard's protos, so this
file never imports TensorFlow either.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from google.protobuf import text_format
from tensorboard.compat.proto import graph_pb2

GRAPH = """
node { name: "image" op: "Placeholder"
  attr { key: "dtype" value { type: DT_FLOAT } }
  attr { key: "shape" value { shape { dim { size: -1 } dim { size: 8 } dim { size: 8 } dim { size: 1 } } } } }
node { name: "Relu" op: "Relu" input: "image" attr { key: "T" value { type: DT_FLOAT } } }
"""
UNSAFE = GRAPH + 'node { name: "contents" op: "ReadFile" input: "image" }'

# (id, argv with {placeholders}, exit code, text the one stderr line holds)
REFUSALS = [
    # freeze: arguments, the model's path and the output names
    ("freeze-missing-model", ["freeze", "{nope}", "-o", "{out}"], 2, "does not exist"),
    ("freeze-bad-tolerance", ["freeze", "{model}", "-o", "{out}", "--tolerance", "nan"], 2, ">= 0"),
    ("freeze-existing-output", ["freeze", "{model}", "-o", "{existing}"], 2, "already exists"),
    ("freeze-json-output", ["freeze", "{model}", "-o", "{tmp}/m.json"], 2, "its own sidecar"),
    ("freeze-bad-input-file", ["freeze", "{model}", "-o", "{out}", "--input", "{not_npy}"], 2, ".npy"),
    ("freeze-usage", ["freeze"], 2, "required"),
    ("freeze-tolerance-not-a-number", ["freeze", "{model}", "-o", "{out}", "--tolerance", "abc"], 2, "invalid float"),
    # run: every check up to the first call into TensorFlow
    ("run-missing-graph", ["run", "{nope}", "--input", "{x}", "-o", "{out_npy}"], 2, "does not exist"),
    ("run-existing-output", ["run", "{graph}", "--input", "{x}", "-o", "{existing}"], 2, "already exists"),
    ("run-bad-input-file", ["run", "{graph}", "--input", "{not_npy}", "-o", "{out_npy}"], 2, ".npy"),
    ("run-bad-graph-file", ["run", "{zip}", "--input", "{x}", "-o", "{out_npy}"], 2, "zip"),
    ("run-unsafe-graph", ["run", "{unsafe}", "--input", "{x}", "-o", "{out_npy}"], 3, "ReadFile"),
    ("run-wrong-shape", ["run", "{graph}", "--input", "{x_wrong}", "-o", "{out_npy}"], 2, "wants shape"),
    ("run-wrong-name", ["run", "{graph}", "--input", "{x}", "-o", "{out_npy}", "--inputs", "imagee"], 2,
     "did you mean 'image:0'"),
    ("run-several-outputs-to-npy", ["run", "{graph}", "--input", "{x}", "-o", "{out_npy}", "--outputs", "Relu",
                                    "image"], 2, ".npz"),
    # optimize
    ("optimize-missing-graph", ["optimize", "{nope}", "-o", "{out}"], 2, "does not exist"),
    ("optimize-output-is-input", ["optimize", "{graph}", "-o", "{graph}"], 2, "is the input graph"),
    ("optimize-bad-tolerance", ["optimize", "{graph}", "-o", "{out}", "--tolerance", "-1"], 2, ">= 0"),
    ("optimize-existing-output", ["optimize", "{graph}", "-o", "{existing}"], 2, "already exists"),
    ("optimize-json-output", ["optimize", "{graph}", "-o", "{tmp}/m.json"], 2, "its own sidecar"),
    ("optimize-bad-input-file", ["optimize", "{graph}", "-o", "{out}", "--input", "{not_npy}"], 2, ".npy"),
    ("optimize-bad-graph-file", ["optimize", "{zip}", "-o", "{out}"], 2, "zip"),
    ("optimize-bad-target", ["optimize", "{graph}", "-o", "{out}", "--target", "gpu"], 2, "invalid choice"),
    # export
    ("export-missing-graph", ["export", "{nope}", "--to", "tflite"], 2, "does not exist"),
    ("export-bad-format", ["export", "{graph}", "--to", "coreml"], 2, "invalid choice"),
    ("export-bad-tolerance", ["export", "{graph}", "--to", "onnx", "-o", "{tmp}/m.onnx", "--tolerance", "nan"], 2,
     ">= 0"),
    ("export-existing-output", ["export", "{graph}", "--to", "tflite", "-o", "{existing}"], 2, "already exists"),
    ("export-opencv-output-is-input", ["export", "{graph}", "--to", "opencv", "-o", "{graph}"], 2,
     "is the input graph"),
    ("export-opencv-json-output", ["export", "{graph}", "--to", "opencv", "-o", "{tmp}/m.json"], 2,
     "its own sidecar"),
    ("export-bad-input-file", ["export", "{graph}", "--to", "onnx", "-o", "{tmp}/m.onnx", "--input", "{not_npy}"],
     2, ".npy"),
    ("export-bad-graph-file", ["export", "{zip}", "--to", "tflite", "-o", "{tmp}/m.tflite"], 2, "zip"),
    # bench
    ("bench-missing-graph", ["bench", "{nope}"], 2, "does not exist"),
    ("bench-directory-graph", ["bench", "{tmp}"], 2, "is a directory"),
    ("bench-missing-model", ["bench", "{graph}", "--model", "{nope}"], 2, "does not exist"),
    ("bench-bad-batch", ["bench", "{graph}", "--batch", "1,0"], 2, "--batch"),
    ("bench-bad-budget", ["bench", "{graph}", "--budget", "0"], 2, "--budget"),
    ("bench-bad-min-calls", ["bench", "{graph}", "--min-calls", "0"], 2, "--min-calls"),
    ("bench-bad-graph-file", ["bench", "{zip}"], 2, "zip"),
    ("bench-unsafe-graph", ["bench", "{unsafe}"], 3, "ReadFile"),
    # check-opencv
    ("check-opencv-missing-graph", ["check-opencv", "{nope}"], 2, "does not exist"),
    ("check-opencv-directory-graph", ["check-opencv", "{tmp}"], 2, "is a directory"),
    ("check-opencv-bad-timeout", ["check-opencv", "{graph}", "--timeout", "0"], 2, "--timeout"),
    ("check-opencv-bad-tolerance", ["check-opencv", "{graph}", "--tolerance", "-1"], 2, ">= 0"),
    ("check-opencv-bad-top", ["check-opencv", "{graph}", "--top", "-1"], 2, "--top"),
    ("check-opencv-bad-input-file", ["check-opencv", "{graph}", "--input", "{not_npy}"], 2, ".npy"),
    ("check-opencv-bad-graph-file", ["check-opencv", "{zip}"], 2, "zip"),
    # view (Netron) never starts TensorFlow; a bad graph or port is refused before any server starts
    ("view-missing-graph", ["view", "{nope}", "--no-browser"], 2, "does not exist"),
    ("view-bad-graph-file", ["view", "{zip}", "--no-browser"], 2, "zip"),
    ("view-bad-port", ["view", "{graph}", "--no-browser", "--port", "70000"], 2, "65535"),
    # inspect and scan never start TensorFlow, whatever the graph
    ("inspect-bad-graph-file", ["inspect", "{zip}"], 2, "zip"),
    ("scan-bad-graph-file", ["scan", "{zip}"], 2, "zip"),
    ("scan-unsafe-graph", ["scan", "{unsafe}"], 3, None),
    ("inspect-bad-grep", ["inspect", "{graph}", "--grep", "(("], 2, "regular expression"),
    ("inspect-shape-unknown-input", ["inspect", "{graph}", "--flops", "--shape", "nope=[1,8,8,1]"], 2, "no such input"),
    # edit: names, values and shapes are checked against the graph before TensorFlow starts
    ("edit-existing-output", ["edit", "{graph}", "-o", "{existing}", "--strip", "devices"], 2, "already exists"),
    ("edit-set-unknown-name", ["edit", "{graph}", "-o", "{out}", "--set", "nope=1"], 2, "not in the graph"),
    ("edit-set-not-a-placeholder", ["edit", "{graph}", "-o", "{out}", "--set", "Relu=1"], 2, "is a Relu"),
    ("edit-set-wrong-dtype", ["edit", "{graph}", "-o", "{out}", "--set", "image=yes"], 2, "give a number"),
    ("edit-shape-rank", ["edit", "{graph}", "-o", "{out}", "--shape", "image=[1,8]"], 2, "rank"),
    ("edit-bad-shape", ["edit", "{graph}", "-o", "{out}", "--shape", "image=[1,x]"], 2, "whole number"),
    ("edit-unknown-output", ["edit", "{graph}", "-o", "{out}", "--outputs", "nope"], 2, "no output tensor"),
    ("edit-bad-strip", ["edit", "{graph}", "-o", "{out}", "--strip", "all"], 2, "--strip takes"),
    ("edit-nothing", ["edit", "{graph}", "-o", "{out}"], 2, "no edit given"),
    ("edit-unsafe-graph", ["edit", "{unsafe}", "-o", "{out}", "--strip", "devices"], 3, "ReadFile"),
    ("command-unknown", ["bogus"], 2, "invalid choice"),
]

# Commands that succeed without TensorFlow: (id, argv, exit code, text stdout holds)
SUCCESSES = [
    ("inspect-graph", ["inspect", "{graph}"], 0, "image:0"),
    ("inspect-graph-json", ["inspect", "{graph}", "--json"], 0, '"Relu"'),
    ("inspect-flops-structure", ["inspect", "{graph}", "--flops", "--structure", "--shape", "image=[2,8,8,1]"], 0,
     "image (Placeholder) (2, 8, 8, 1)"),
    ("inspect-grep-json", ["inspect", "{graph}", "--grep", "relu", "--flops", "--json"], 0, '"not_counted"'),
    ("scan-clean-graph", ["scan", "{graph}"], 0, "clean"),
    ("scan-unsafe-graph-json", ["scan", "{unsafe}", "--json"], 3, '"ReadFile"'),
    ("check-opencv-no-compare", ["check-opencv", "{graph}", "--no-compare", "--json"], 0, '"ok": true'),
]

PROBE = r"""
import contextlib, io, json, sys, traceback

def loaded():
    return sorted(m for m in ("tensorflow", "keras") if m in sys.modules)

assert not loaded(), f"the fresh process already holds {loaded()}"
from graphfreeze_helpers.cli import main

results = {}
for case, argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    except BaseException:
        code, err = None, io.StringIO(traceback.format_exc())
    results[case] = {"code": code, "stdout": out.getvalue(), "stderr": err.getvalue(), "loaded": loaded()}
    if loaded():  # the cases after this one would prove nothing
        break
print(json.dumps(results))
"""


def _write_graph(path: Path, text: str) -> Path:
    path.write_bytes(text_format.Parse(text, graph_pb2.GraphDef()).SerializeToString())
    return path


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict:
    """Every case, run in order in one fresh process."""
    tmp = tmp_path_factory.mktemp("tf_free")
    files = {
        "tmp": tmp,
        "nope": tmp / "nope.pb",
        "out": tmp / "out.pb",
        "out_npy": tmp / "y.npy",
        "graph": _write_graph(tmp / "graph.pb", GRAPH),
        "unsafe": _write_graph(tmp / "unsafe.pb", UNSAFE),
        "model": tmp / "model.keras",
        "existing": tmp / "existing.pb",
        "not_npy": tmp / "not.npy",
        "zip": tmp / "archive.pb",
        "x": tmp / "x.npy",
        "x_wrong": tmp / "x_wrong.npy",
    }
    files["model"].write_bytes(b"never read: every case stops before Keras would load it")
    files["existing"].write_bytes(b"keep")
    files["not_npy"].write_text("not numpy")
    files["zip"].write_bytes(b"PK\x03\x04zipzip")
    np.save(files["x"], np.zeros((1, 8, 8, 1), np.float32))
    np.save(files["x_wrong"], np.zeros((3, 8, 8), np.float32))
    cases = [(case, [arg.format(**files) for arg in argv]) for case, argv, *_ in REFUSALS + SUCCESSES]
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(cases)], capture_output=True, text=True,
                          cwd=tmp, timeout=600, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    found["_files"] = sorted(p.name for p in tmp.iterdir())
    return found


def _result(results: dict, case: str) -> dict:
    culprit = [name for name, found in results.items() if name != "_files" and found["loaded"]]
    assert case in results, f"{case} did not run: an earlier case, {culprit}, loaded TensorFlow"
    return results[case]


@pytest.mark.parametrize("case, argv, code, text", REFUSALS, ids=[c[0] for c in REFUSALS])
def test_refusal_comes_before_tensorflow(results, case, argv, code, text):
    result = _result(results, case)
    assert result["loaded"] == [], f"{argv} imported {result['loaded']} before refusing: {result['stderr']}"
    assert result["code"] == code, result["stderr"]
    lines = result["stderr"].splitlines()
    if text is not None and code == 3 and "unsafe" in case:  # a refused graph: then one line per op
        assert lines[0].startswith("graphfreeze: error: refusing"), result["stderr"]
        assert all(line.startswith("graphfreeze: refused: ") for line in lines[1:]), result["stderr"]
        assert text.lower() in "\n".join(lines).lower(), result["stderr"]
    elif text is not None:
        assert len(lines) == 1 and lines[0].startswith("graphfreeze: error: "), result["stderr"]
        assert text.lower() in lines[0].lower(), lines[0]


@pytest.mark.parametrize("case, argv, code, text", SUCCESSES, ids=[c[0] for c in SUCCESSES])
def test_command_runs_without_tensorflow(results, case, argv, code, text):
    result = _result(results, case)
    assert result["loaded"] == [], f"{argv} imported {result['loaded']}"
    assert result["code"] == code, result["stderr"]
    assert text in result["stdout"], result["stdout"]


def test_refusals_leave_no_files(results):
    assert results["_files"] == sorted(
        ["graph.pb", "unsafe.pb", "model.keras", "existing.pb", "not.npy", "archive.pb", "x.npy", "x_wrong.npy"]
    )
