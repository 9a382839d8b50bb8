"""The benchmark harness, its registry, the TensorFlow contenders and ``graphfreeze bench``.

Nothing here checks a timing: the statistics are tested on a fake clock, and the real
contenders only for agreeing outputs and complete rows. Speed targets live in
``benchmarks/latency.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from graphfreeze_helpers import bench, contenders
from graphfreeze_helpers.bench import BenchResult, BenchRow, Contender, run_benchmark, timing_stats
from graphfreeze_helpers.errors import OutputExistsError
from graphfreeze_helpers.tensors import tensor_name

from conftest import ROOT, assert_one_line_error, run_cli

# --- statistics and the harness, on fake callables and a fake clock ---------------------


def test_timing_stats_match_hand_computed_percentiles():
    stats = timing_stats(np.arange(1, 101) * 1e-6)  # 1 .. 100 µs
    assert stats["median_us"] == pytest.approx(50.5)
    assert stats["p10_us"] == pytest.approx(10.9)  # linear interpolation: 1 + 0.1 * 99
    assert stats["p90_us"] == pytest.approx(90.1)
    assert stats["iqr_us"] == pytest.approx(75.25 - 25.75)
    assert stats["mean_us"] == pytest.approx(50.5)


def test_timing_stats_of_one_sample_and_of_none():
    assert timing_stats([2e-6]) == {"median_us": 2.0, "p10_us": 2.0, "p90_us": 2.0, "iqr_us": 0.0, "mean_us": 2.0}
    with pytest.raises(ValueError):
        timing_stats([])


class FakeMachine:
    """A clock that only moves when a fake contender 'runs', and a log of who ran."""

    def __init__(self) -> None:
        self.now = 0
        self.log: list[str] = []

    def clock(self) -> int:
        return self.now

    def contender(self, name: str, cost_ns: int, output=None) -> Contender:
        def make(batch: int):
            def run():
                self.now += cost_ns * batch
                self.log.append(name)
                return output

            return run

        return Contender(name, make)


def test_contenders_are_interleaved_in_blocks_that_fill_the_budget():
    machine = FakeMachine()
    a = machine.contender("A", 1_000, np.zeros(3))
    b = machine.contender("B", 3_000, np.zeros(3))
    result = run_benchmark(
        [a, b], [1], time_budget_s=100e-6, warmup=3, min_calls=1, block_s=10e-6, clock=machine.clock
    )
    # A 10 µs block is 10 calls of A (1 µs) or 3 calls of B (3 µs); the rounds rotate: A B, B A, A B ...
    assert result.schedule[:4] == [(1, "A", 10), (1, "B", 3), (1, "B", 3), (1, "A", 10)]
    timed = machine.log[6:]  # after 3 warm-up calls each
    assert timed[:26] == ["A"] * 10 + ["B"] * 3 + ["B"] * 3 + ["A"] * 10
    assert [name for _, name, _ in result.schedule] == ["A", "B", "B", "A"] * (len(result.schedule) // 4)
    # each round takes 19 µs of fake time; the budget of 100 µs needs 6 rounds
    assert len(result.schedule) == 12
    row_a, row_b = result.row("A", 1), result.row("B", 1)
    assert (row_a.calls, row_b.calls) == (60, 18)
    assert (row_a.median_us, row_a.p10_us, row_a.p90_us, row_a.iqr_us) == (1.0, 1.0, 1.0, 0.0)
    assert row_b.median_us == 3.0
    assert result.ratio("B", "A", 1) == 3.0
    assert result.samples[("A", 1)].shape == (60,)


def test_the_rounds_rotate_so_each_contender_takes_each_place_equally_often():
    assert bench.round_order(3, 0) == [0, 1, 2]
    assert bench.round_order(3, 1) == [1, 2, 0]
    assert bench.round_order(3, 2) == [2, 0, 1]
    assert bench.round_order(3, 3) == [0, 1, 2]
    machine = FakeMachine()
    names = ["A", "B", "C"]
    result = run_benchmark([machine.contender(n, 1_000) for n in names], [1], time_budget_s=0.0, warmup=0,
                           min_calls=6, block_s=1e-6, clock=machine.clock)
    order = [name for _, name, _ in result.schedule]
    assert order == ["A", "B", "C", "B", "C", "A", "C", "A", "B", "A", "B", "C", "B", "C", "A", "C", "A", "B"]
    for place in range(3):  # each contender takes each place in the round in two of the six rounds
        assert sorted(order[place::3]) == ["A", "A", "B", "B", "C", "C"]
    assert [r.calls for r in result.rows] == [6, 6, 6]


def test_min_calls_wins_over_a_spent_budget_and_batches_run_in_order():
    machine = FakeMachine()
    slow = machine.contender("slow", 50_000)
    result = run_benchmark([slow], [1, 4], time_budget_s=0.0, warmup=1, min_calls=7, block_s=1e-6, clock=machine.clock)
    assert [r.calls for r in result.rows] == [7, 7]
    assert [r.batch for r in result.rows] == [1, 4]
    assert result.median("slow", 4) == 200.0  # cost scales with batch in the fake
    assert result.row("slow", 1).max_abs_diff is None  # no outputs to compare


def test_outputs_are_compared_with_the_first_contender():
    machine = FakeMachine()
    contenders = [
        machine.contender("ref", 10, [np.zeros((2, 3))]),
        machine.contender("same", 10, np.zeros((2, 3))),
        machine.contender("off", 10, np.full((2, 3), 0.25)),
        machine.contender("shape", 10, np.zeros((3, 2))),
    ]
    result = run_benchmark(contenders, [2], time_budget_s=0.0, warmup=0, min_calls=1, clock=machine.clock)
    diffs = {r.contender: r.max_abs_diff for r in result.rows}
    assert diffs == {"ref": 0.0, "same": 0.0, "off": 0.25, "shape": None}
    assert result.worst_diff() == 0.25
    assert result.mismatches() == ["batch 2: shape: output 'output 0': shape (3, 2) here but (2, 3) in the reference"]
    assert "MISMATCH" in result.table()


def test_outputs_are_compared_by_name_when_both_sides_name_them():
    machine = FakeMachine()
    probs, classes = np.array([[0.25, 0.75]]), np.array([1])
    contenders = [
        Contender("ref", machine.contender("ref", 10, [probs, classes]).make, output_names=["probs:0", "classes:0"]),
        # a runtime that returns the same outputs in another order, and names them its way
        Contender("swapped", machine.contender("swapped", 10, [classes, probs]).make,
                  output_names=["classes", "probs"]),
        Contender("unnamed", machine.contender("unnamed", 10, [probs, classes]).make),
        Contender("missing", machine.contender("missing", 10, [probs]).make, output_names=["probs:0"]),
    ]
    result = run_benchmark(contenders, [1], time_budget_s=0.0, warmup=0, min_calls=1, clock=machine.clock)
    rows = {r.contender: r for r in result.rows}
    assert (rows["swapped"].max_abs_diff, rows["swapped"].mismatch) == (0.0, "")
    assert (rows["unnamed"].max_abs_diff, rows["unnamed"].mismatch) == (0.0, "")  # by position
    assert rows["missing"].max_abs_diff is None
    assert "output 'classes:0': missing" in rows["missing"].mismatch


@pytest.mark.parametrize(
    "kwargs",
    [
        {"contenders": []},
        {"batch_sizes": [0]},
        {"batch_sizes": []},
        {"min_calls": 0},
        {"time_budget_s": -1.0},
    ],
)
def test_bad_settings_are_refused(kwargs):
    machine = FakeMachine()
    args = {"contenders": [machine.contender("A", 1)], "batch_sizes": [1]}
    args.update(kwargs)
    with pytest.raises(ValueError):
        run_benchmark(args.pop("contenders"), args.pop("batch_sizes"), clock=machine.clock, **args)


def test_duplicate_names_are_refused():
    machine = FakeMachine()
    with pytest.raises(ValueError, match="unique"):
        run_benchmark([machine.contender("A", 1), machine.contender("A", 2)], [1], clock=machine.clock)


def _small_result() -> BenchResult:
    machine = FakeMachine()
    return run_benchmark(
        [machine.contender("A", 1_000, np.ones(2)), machine.contender("B", 2_500, np.ones(2))],
        [1, 8],
        time_budget_s=50e-6,
        warmup=2,
        min_calls=3,
        block_s=5e-6,
        clock=machine.clock,
    )


def test_csv_and_json_round_trip(tmp_path):
    result = _small_result()
    csv_path = result.to_csv(tmp_path / "bench.csv")
    json_path = result.to_json(tmp_path / "bench.json")
    assert BenchResult.from_csv(csv_path).rows == result.rows
    again = BenchResult.from_json(json_path)
    assert again.rows == result.rows
    assert again.environment == json.loads(json.dumps(result.environment))
    assert again.settings["batch_sizes"] == [1, 8]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bench.csv", "bench.json"]  # no temp files left


def test_writing_never_overwrites_without_force(tmp_path):
    result = _small_result()
    target = tmp_path / "bench.csv"
    target.write_text("keep me")
    with pytest.raises(OutputExistsError):
        result.to_csv(target)
    assert target.read_text() == "keep me"
    result.to_csv(target, force=True)
    assert target.read_text().startswith("contender,batch,median_us")


def test_table_html_and_records_show_every_row():
    result = _small_result()
    text = result.table()
    assert len(text.splitlines()) == 2 + 4
    assert "A" in text and "B" in text
    html = result._repr_html_()
    assert html.count("<tr>") == 1 + 4
    records = result.to_records(short=True)
    assert [set(r) for r in records] == [{"contender", "batch", "median_us", "p10_us", "p90_us", "calls"}] * 4
    assert bench.comparisons(result, "A")[0].startswith("batch 1: B takes 2.50x the time of A")
    with pytest.raises(KeyError, match="no row for contender 'C'"):
        result.row("C", 1)


def test_environment_records_the_machine():
    env = bench.environment()
    assert env["cores"] >= 1
    assert isinstance(env["cpu_model"], str) and env["cpu_model"]


def test_row_per_sample():
    row = BenchRow("A", 4, 100.0, 90.0, 110.0, 5.0, 101.0, 10)
    assert row.per_sample_us == 25.0


# --- the registry: the harness knows nothing of the contenders it times --------------------


def test_the_harness_imports_neither_tensorflow_nor_the_conversions():
    code = (
        "import sys\n"
        "from graphfreeze_helpers import bench\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras') or m in (\n"
        "    'graphfreeze_helpers.contenders', 'graphfreeze_helpers.optimize', 'graphfreeze_helpers.export',\n"
        "    'graphfreeze_helpers.opencv'))\n"
        "print(loaded, list(bench.FACTORIES))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[] []"  # nothing registered until graphfreeze_helpers.contenders is imported


def test_a_registered_factory_is_a_standard_contender():
    machine = FakeMachine()
    subject = bench.Subject()

    @bench.register("fake")
    def fake(subject: bench.Subject) -> Contender:
        return machine.contender("fake", 10)

    try:
        assert list(bench.FACTORIES)[-1] == "fake"
        assert [c.name for c in bench.standard_contenders(subject, ["fake"])] == ["fake"]
    finally:
        del bench.FACTORIES["fake"]
    with pytest.raises(ValueError, match="unknown contender.*'fake'"):
        bench.standard_contenders(subject, ["fake"])


# --- the TensorFlow contenders on a tiny model (outputs and completeness, not speed) ----


def test_every_contender_runs_and_agrees(saved_pb, trained_model):
    result = contenders.compare(
        saved_pb, trained_model, batch_sizes=[1, 3], contenders=contenders.TF_CONTENDERS, time_budget_s=0.02,
        warmup=2, min_calls=2,
    )
    assert result.contenders == list(contenders.TF_CONTENDERS)
    assert len(result.rows) == len(contenders.TF_CONTENDERS) * 2
    for row in result.rows:
        assert row.calls >= 2
        assert 0 < row.p10_us <= row.median_us <= row.p90_us
        assert row.max_abs_diff is not None and row.max_abs_diff <= 1e-5, row
    assert set(result.settings["notes"]) == set(contenders.TF_CONTENDERS)
    assert result.environment["tensorflow"].startswith("2.")
    assert "intra_op_threads" in result.environment


def test_graph_only_gives_the_frozen_contenders(saved_pb):
    subject = contenders.prepare(saved_pb)
    names = [c.name for c in bench.standard_contenders(subject)]
    assert names == ["frozen_prune", "frozen", "frozen_session", "optimized", "litert", "onnxruntime", "opencv_dnn",
                     "openvino"]  # litert_int8 needs calibration inputs
    with pytest.raises(ValueError, match="unknown contender"):
        bench.standard_contenders(subject, ["frozen", "turbo"])


def test_the_same_inputs_reach_every_contender(saved_pb):
    subject = contenders.prepare(saved_pb, seed=3)
    first = subject.inputs(5)
    assert first[0].shape == (5, 8, 8, 1)
    assert subject.inputs(5) is first  # cached: one set of arrays per batch size


# --- graphfreeze bench -----------------------------------------------------------------


def test_cli_bench_json(saved_pb, tmp_path):
    result = run_cli("bench", saved_pb, "--json", "--batch", "1,2", "--budget", "0.05", "--min-calls", "2",
                     "--runtimes", ",".join(contenders.FROZEN_CONTENDERS), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert {(r["contender"], r["batch"]) for r in rows} == {
        (name, batch) for name in contenders.FROZEN_CONTENDERS for batch in (1, 2)
    }
    for r in rows:
        assert set(r) == {"contender", "batch", "median_us", "p10_us", "p90_us", "calls"}
        assert r["calls"] >= 2 and r["median_us"] > 0
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.parametrize("value", ["0", "1,x", "", "-1", "1.5"])
def test_cli_bench_bad_batch_is_one_line(saved_pb, value):
    line = assert_one_line_error(run_cli("bench", saved_pb, "--batch", value), 2, "--batch")
    assert "like 1,256" in line


def test_cli_bench_missing_files_are_one_line(saved_pb, tmp_path):
    assert_one_line_error(run_cli("bench", tmp_path / "nope.pb"), 2, "does not exist")
    assert_one_line_error(run_cli("bench", saved_pb, "--model", tmp_path / "nope.keras"), 2, "does not exist")
    assert_one_line_error(run_cli("bench", saved_pb, "--budget", "0"), 2, "--budget")


def test_a_savedmodel_directory_as_the_model(saved_pb, trained_model, tmp_path):
    trained_model.export(str(tmp_path / "sm"), verbose=False)
    result = contenders.compare(
        saved_pb, tmp_path / "sm", batch_sizes=[2], contenders=["tf_function", "saved_model", "frozen"],
        time_budget_s=0.02, warmup=1, min_calls=2,
    )
    assert result.contenders == ["tf_function", "saved_model", "frozen"]
    assert all(row.max_abs_diff is not None and row.max_abs_diff <= 1e-5 for row in result.rows)
    assert "serving_default" in result.settings["notes"]["saved_model"]


# --- graphs we did not make (issue 12) ---------------------------------------------------


def test_bench_on_a_tf1_graph_with_two_outputs_a_uint8_image_and_is_training(tmp_path):
    """v1 cond and while, a uint8 image, an is_training default (left at False) and two outputs:
    every contender's outputs match the frozen graph's, by name."""
    import tf1_graphs

    graph = tf1_graphs.control_flow()
    subject = contenders.prepare(graph.write(tmp_path / "control_flow.pb"))
    (x,) = subject.inputs(3)
    assert x.dtype == np.uint8 and x.shape == (3, 8, 8, 3) and x.max() > 1  # an image, 0..255
    chosen = bench.standard_contenders(subject, ["frozen", "frozen_session", "optimized", "litert", "onnxruntime"])
    for contender in chosen:
        assert sorted(map(tensor_name, contender.output_names)) == sorted(graph.outputs), contender
    result = run_benchmark(chosen, [1, 3], time_budget_s=0.02, warmup=1, min_calls=2)
    for row in result.rows:
        assert row.mismatch == "" and row.max_abs_diff is not None and row.max_abs_diff <= 1e-5, row
    assert result.mismatches() == []


def test_bench_samples_inputs_the_graph_runs_on(tmp_path):
    """An input of unknown rank takes the shape its consumers tell; an integer length is never 0."""
    import tf1_graphs

    subject = contenders.prepare(tf1_graphs.regression().write(tmp_path / "regression.pb"))
    assert subject.inputs(3)[0].shape == (3, 4)  # not a guess of (3,), which the graph refuses
    result = contenders.compare(tmp_path / "regression.pb", batch_sizes=[2], contenders=["frozen", "optimized"],
                                time_budget_s=0.02, warmup=1, min_calls=2)
    assert all(row.max_abs_diff is not None and row.max_abs_diff <= 1e-5 for row in result.rows)
    lengths = contenders.prepare(tf1_graphs.length_nan().write(tmp_path / "length_nan.pb"))
    by_name = dict(zip([t.name for t in lengths.specs], lengths.inputs(2)))
    assert by_name["length:0"].dtype == np.int32 and by_name["length:0"] != 0


def test_cli_bench_on_a_tf1_graph_with_two_outputs(tmp_path):
    import tf1_graphs

    path = tf1_graphs.control_flow().write(tmp_path / "control_flow.pb")
    frozen_only = ",".join(contenders.FROZEN_CONTENDERS)
    result = run_cli("bench", path, "--batch", "1,2", "--budget", "0.05", "--min-calls", "2", "--runtimes", frozen_only)
    assert result.returncode == 0, result.stderr
    assert "MISMATCH" not in result.stdout and "frozen_session" in result.stdout
    picked = run_cli("bench", path, "--batch", "1", "--budget", "0.05", "--min-calls", "2", "--json",
                     "--outputs", "classes", "probabilities", "--runtimes", frozen_only)
    assert picked.returncode == 0, picked.stderr
    assert {r["contender"] for r in json.loads(picked.stdout)} == set(contenders.FROZEN_CONTENDERS)
