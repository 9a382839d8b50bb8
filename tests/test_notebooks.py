"""The notebooks: their committed form, and papermill runs with non-default parameters.

nbval already runs every notebook once with its defaults (pytest addopts; in a temporary copy of
``notebooks/``, see the top-level ``conftest.py``). Here we check
what a committed notebook must look like, run each one again through papermill with cheap
non-default parameters into ``build/papermill/``, and check that bad parameters stop in the
validation cell with a clear message.

To give your notebook non-default parameters, add an entry to ``NOTEBOOK_PARAMS`` below;
notebooks not listed get only ``artifacts_dir`` (a fresh temporary folder), so no run reads
what another test or an earlier run left in the repository's ``artifacts/``. A cell tagged
``raises-exception`` must raise the exception named in its metadata (checked here, by
``run_notebook`` and, for nbval, by the repository's top-level ``conftest.py``).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
BUILD = ROOT / "build" / "papermill"

# Non-default parameters for the papermill run: notebook stem -> overrides. Keep them cheap.
# ``artifacts_dir`` is always set to a fresh temporary folder and need not be listed.
NOTEBOOK_PARAMS: dict[str, dict[str, Any]] = {
    "01_train_small_model": {"epochs": 2, "width": 8, "depth": 1, "batch_size": 64, "seed": 1, "min_accuracy": 0.0},
    "02_freeze_the_graph": {"train_epochs": 1, "tolerance": 1e-4},
    "04_load_and_run_frozen_graph": {"method": "prune", "tolerance": 1e-4},
    "05_compare_latency": {"batch_sizes": [1, 16], "time_budget_s": 2.0, "min_calls": 3, "warmup": 2},
    "06_optimize_for_inference": {"target": "tensorflow", "mobilenet": True, "mobilenet_size": 32},
    "07_deploy_without_tensorflow": {"batch": 4, "time_budget_s": 0.5, "tolerance": 1e-4},
    "10_legacy_graphs": {"seed": 1, "batch": 4, "refine_steps": 2, "time_budget_s": 0.5},
    "11_quantize": {"calibration_samples": 50, "time_budget_s": 0.5, "large_batch": 64},
}
# Notebooks that start from the tutorial model (ensure_tutorial_model trains it when artifacts_dir lacks it) get
# a copy of one trained once per session with 2 epochs, instead of each training its own with the defaults
# (20 epochs) in its fresh artifacts_dir. Notebook 02 still trains it in the run (train_epochs above).
USES_TUTORIAL_MODEL = {"03_inspect_graph_nodes", "04_load_and_run_frozen_graph", "05_compare_latency",
                       "06_optimize_for_inference", "07_deploy_without_tensorflow", "11_quantize"}
# Parameters naming other folders a notebook writes to, given a fresh temporary folder like artifacts_dir.
TEMPORARY_FOLDERS: dict[str, list[str]] = {"08_parameter_sweep": ["out_dir"]}

# Files a notebook must have written into its artifacts_dir after the papermill run above.
EXPECTED_ARTIFACTS: dict[str, list[str]] = {
    "01_train_small_model": ["digits_cnn.keras", "digits_cnn_savedmodel/saved_model.pb", "metrics.json"],
    "02_freeze_the_graph": ["digits_cnn_frozen.pb", "digits_cnn_frozen.json", "frozen_graph.pb", "metrics.json"],
    "04_load_and_run_frozen_graph": ["digits_cnn_frozen.pb", "metrics.json"],
    "05_compare_latency": ["latency_bench.csv", "latency_bench.json", "metrics.json"],
    "06_optimize_for_inference": ["digits_cnn_optimized.pb", "digits_cnn_optimized.json", "metrics.json"],
    "07_deploy_without_tensorflow": ["digits_cnn.tflite", "digits_cnn.onnx", "y_tflite.npy", "y_onnx.npy",
                                     "metrics.json"],
    "10_legacy_graphs": ["legacy/legacy.pb", "legacy/legacy_optimized.pb", "legacy/legacy.onnx",
                         "legacy/legacy.tflite", "legacy/checkpoint/model.ckpt.meta",
                         "legacy/legacy_from_checkpoint.pb", "legacy/legacy_from_checkpoint.json"],
    "11_quantize": ["digits_cnn_int8.tflite", "digits_cnn_float16.tflite", "digits_cnn_dynamic.tflite", "metrics.json"],
}

# An expected error shows its type, its message and the one notebook line that raised it, not 40 frames.
MAX_TRACEBACK_LINES = 12
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# A cell that draws a chart (a plot helper, draw_graph or draw_graph_pair, a result's .plot() or pyplot) must
# show it as an image.
IMAGE = {"image/png", "image/svg+xml"}
CHART = re.compile(r"\bplot_\w+\(|\.plot\(|\bdraw_graph\w*\(|\bplt\.")
HEADINGS = ["## Overview", "## Prerequisites", "## Setup", "## Summary", "### What's next", "## Exercises",
            "## Resources"]
PARAMETER_LINE = re.compile(r"^(?P<code>[a-z_][a-z0-9_]*: [a-z]+ = .+?)  # (?P<comment>\S.*)$")
TYPES = {"int": (int,), "float": (float, int), "str": (str,), "bool": (bool,), "list": (list,)}


def _load_tool(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"_tools_{name}", ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


run_notebooks = _load_tool("run_notebooks")
nbtool = _load_tool("nbtool")
NOTEBOOKS = run_notebooks.discover(NOTEBOOK_DIR)
IDS = [p.stem for p in NOTEBOOKS]


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _tags(cell: Any) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _parameters_index(nb: nbformat.NotebookNode) -> int:
    indices = [i for i, cell in enumerate(nb.cells) if "parameters" in _tags(cell)]
    assert len(indices) == 1, f"expected exactly one cell tagged 'parameters', found {len(indices)}"
    return indices[0]


def parse_parameters(source: str) -> dict[str, Any]:
    """``{name: default}`` from a parameters cell; every line must be ``name: type = literal  # comment``."""
    found: dict[str, Any] = {}
    for number, line in enumerate(source.splitlines(), 1):
        match = PARAMETER_LINE.match(line)
        assert match, f"parameters line {number} {line!r} is not `name: type = literal  # comment`"
        assert "=" not in match["comment"], (
            f"parameters line {number}: papermill cannot parse a comment containing '=': {line!r}"
        )
        (statement,) = ast.parse(match["code"]).body
        assert isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name), line
        value = statement.value
        if isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.USub):
            value = value.operand
        literal = isinstance(value, ast.Constant) or (  # a list of constants is a literal too (batch_sizes)
            isinstance(value, ast.List) and all(isinstance(item, ast.Constant) for item in value.elts)
        )
        assert literal, f"parameters line {number}: the default must be a literal: {line!r}"
        annotation = ast.unparse(statement.annotation)
        assert annotation in TYPES, f"parameters line {number}: type {annotation!r} is not one of {sorted(TYPES)}"
        default = ast.literal_eval(statement.value)
        assert isinstance(default, TYPES[annotation]) and not (annotation != "bool" and isinstance(default, bool)), (
            f"parameters line {number}: default {default!r} is not a {annotation}"
        )
        found[statement.target.id] = default
    return found


# --- the committed form ---------------------------------------------------------------------------------


def test_notebooks_are_found():
    assert len(NOTEBOOKS) >= 4, f"expected at least 00, 01, 02 and 04 under notebooks/, found {IDS}"
    assert IDS[0] == "00_index"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_committed_form(path: Path):
    nb = _read(path)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", "the kernelspec must be python3"
    with_outputs = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not with_outputs, f"cells {with_outputs} have committed outputs; run `make canon`"
    assert nbtool.dumps(nbtool.canonical(_read(path), path.stem)) == path.read_text(), (
        f"{path.name} is not canonical; run `make canon`"
    )
    for index, cell in enumerate(nb.cells):
        expected = cell.get("metadata", {}).get("graphfreeze", {}).get("raises")
        if "raises-exception" in _tags(cell) or expected:
            assert cell.cell_type == "code", f"cell {index} is tagged raises-exception but is not code"
            assert "raises-exception" in _tags(cell), f"cell {index} names an exception but is not tagged to raise"
            assert isinstance(expected, str) and expected.isidentifier(), (
                f"cell {index} is tagged raises-exception: name the exception it must raise in its metadata, "
                '{"graphfreeze": {"raises": "OSError"}} '
                '(in tools/nbtool.py\'s percent format: # %% tags=["raises-exception"] raises="OSError")'
            )
            prose = next(c.source for c in reversed(nb.cells[:index]) if c.cell_type == "markdown")
            assert f"`{expected}`" in prose, (
                f"cell {index} must raise {expected}; the markdown cell before it must name it, as `{expected}`"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_structure_follows_style(path: Path):
    nb = _read(path)
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert markdown and markdown[0].startswith("# "), "the first cell must be the '# Title' and one sentence"
    text = "\n".join(markdown)
    positions = []
    for heading in HEADINGS:
        match = re.search(rf"(?m)^{re.escape(heading)}\s*$", text)
        assert match, f"missing the heading {heading!r}"
        positions.append(match.start())
    assert positions == sorted(positions), f"headings out of order; expected {HEADINGS}"
    assert re.search(r"Time to learn\*?\*?:\s*\d+ minutes", text), "Prerequisites must say 'Time to learn: N minutes'"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_one_typed_commented_parameters_cell(path: Path):
    import papermill

    nb = _read(path)
    index = _parameters_index(nb)
    cell = nb.cells[index]
    assert cell.cell_type == "code"
    defaults = parse_parameters(cell.source)
    assert defaults.get("artifacts_dir") == "../artifacts", "every notebook needs artifacts_dir: str = '../artifacts'"
    documented = papermill.inspect_notebook(str(path))
    assert list(documented) == list(defaults), "papermill --help-notebook must list every parameter"
    assert all(p["help"] for p in documented.values()), "every parameter needs its comment"
    setup = [i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and c.source.startswith("## Setup")]
    assert setup and setup[0] < index, "the parameters cell comes after ## Setup"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_validation_cell_follows_parameters(path: Path):
    nb = _read(path)
    index = _parameters_index(nb)
    following = [c for c in nb.cells[index + 1:] if c.cell_type == "code"]
    assert following, "no code cell after the parameters cell"
    assert following[0].source.startswith("check_params(\n    globals(),") or following[0].source.startswith(
        "check_params(globals()"), (
        "the first code cell after the parameters must start with check_params(globals(), name=rule, ...) "
        "(graphfreeze_helpers.course): one call that checks every type, then each rule, raising ValueError"
    )


def test_index_time_to_learn_matches_each_notebook():
    """00_index's table repeats every notebook's own 'Time to learn'; they must agree."""
    index = "\n".join(c.source for c in _read(NOTEBOOK_DIR / "00_index.ipynb").cells if c.cell_type == "markdown")
    rows = dict(re.findall(r"\]\((\d\d_[a-z0-9_]+)\.ipynb\) \|[^|\n]*\| (\d+) min \|", index))
    assert len(rows) >= 3, "the index table lost its Time to learn column"
    wrong = []
    for stem, minutes in rows.items():
        path = NOTEBOOK_DIR / f"{stem}.ipynb"
        if not path.is_file():
            continue  # the notebook itself checks that every link exists
        prose = "\n".join(c.source for c in _read(path).cells if c.cell_type == "markdown")
        own = re.search(r"Time to learn\**: (\d+) minutes", prose)
        if not own or own[1] != minutes:
            wrong.append(f"{stem}: index says {minutes} min, notebook says {own[1] if own else 'nothing'}")
    assert not wrong, "update the table in 00_index: " + "; ".join(wrong)


def test_parse_parameters_rejects_bad_lines():
    assert parse_parameters('epochs: int = 3  # passes\nname: str = "x"  # a name') == {"epochs": 3, "name": "x"}
    for bad in ("epochs = 3  # untyped", "epochs: int = 3", "epochs: int = 1 + 2  # computed",
                'path: str = ""  # empty = default', "epochs: int = 0.5  # wrong type", "flag: int = True  # bool"):
        with pytest.raises(AssertionError):
            parse_parameters(bad)


# --- papermill with non-default parameters ----------------------------------------------------------


@pytest.fixture(scope="session")
def tutorial_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from graphfreeze_helpers.model import ensure_tutorial_model

    return ensure_tutorial_model(tmp_path_factory.mktemp("tutorial"), epochs=2)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_papermill_runs_with_other_parameters(path: Path, tmp_path: Path, request: pytest.FixtureRequest):
    artifacts = tmp_path / "artifacts"
    if path.stem in USES_TUTORIAL_MODEL:
        artifacts.mkdir()
        shutil.copy(request.getfixturevalue("tutorial_model"), artifacts / "digits_cnn.keras")
    parameters = {**NOTEBOOK_PARAMS.get(path.stem, {}), "artifacts_dir": str(artifacts)}
    parameters.update({name: str(tmp_path / name) for name in TEMPORARY_FOLDERS.get(path.stem, [])})
    nb = run_notebooks.execute(path, BUILD / path.name, parameters)
    injected = [c for c in nb.cells if "injected-parameters" in _tags(c)]
    assert len(injected) == 1 and str(artifacts) in injected[0].source
    blank = [index for index, cell in enumerate(nb.cells) if cell.cell_type == "code" and CHART.search(cell.source)
             and not any(IMAGE & set(output.get("data", {})) for output in cell.outputs)]
    assert not blank, f"cells {blank} draw a chart but show no image (a Figure repr or nothing instead)"
    for index, cell in enumerate(nb.cells):  # run_notebook checks this too; here it is spelled out
        if "raises-exception" in _tags(cell):
            expected = cell.metadata["graphfreeze"]["raises"]
            raised = [o.ename for o in cell.outputs if o.output_type == "error"]
            assert raised == [expected], f"cell {index} must raise {expected}, raised {raised or 'nothing'}"
            error = next(o for o in cell.outputs if o.output_type == "error")
            shown = ANSI.sub("", "\n".join(error.traceback)).splitlines()
            assert len(shown) <= MAX_TRACEBACK_LINES, (  # start_tensorflow(short_tracebacks=True) in the setup cell
                f"cell {index}'s expected {expected} shows {len(shown)} lines; keep it to the type, the message and "
                "the notebook line that raised it"
            )
    for name in EXPECTED_ARTIFACTS.get(path.stem, []):
        assert (artifacts / name).exists(), f"{path.name} did not write {name} into artifacts_dir"
    assert not (NOTEBOOK_DIR / "artifacts").exists(), "a notebook wrote next to the notebooks"
    metrics_file = artifacts / "metrics.json"
    metrics = json.loads(metrics_file.read_text()) if metrics_file.is_file() else {}
    if path.stem == "01_train_small_model":
        assert metrics["epochs"] == 2
    if path.stem == "02_freeze_the_graph":
        assert metrics["read_variable_ops_after"] == 0 and metrics["nodes_after"] > 0
    if path.stem == "04_load_and_run_frozen_graph":
        assert metrics["load_max_abs_diff"] <= 1e-4 and metrics["load_predictions_equal"] is True
    if path.stem == "05_compare_latency":
        assert metrics["latency_us_frozen_b1"] > 0 and metrics["latency_prune_over_frozen_b1"] > 0
    if path.stem == "06_optimize_for_inference":  # the prose: about a thousand nodes, fewer than a quarter left
        assert 800 <= metrics["mobilenet_nodes_before"] <= 1300, metrics["mobilenet_nodes_before"]
        assert metrics["mobilenet_nodes_after"] <= 0.25 * metrics["mobilenet_nodes_before"]


@pytest.mark.slow
def test_a_bad_parameter_stops_the_run_in_the_validation_cell(tmp_path: Path):
    """make run's driver reports where papermill stopped; every notebook's own bad values are checked in
    tests/test_notebook_parameters.py, in one shared kernel."""
    from graphfreeze_helpers.course.sweep import NotebookRunError

    path = NOTEBOOK_DIR / "01_train_small_model.ipynb"
    with pytest.raises(NotebookRunError) as caught:
        run_notebooks.execute(path, BUILD / "01-bad-epochs.ipynb", {"epochs": 0, "artifacts_dir": str(tmp_path)})
    error = caught.value
    assert error.ename == "ValueError", f"expected ValueError, got {error.ename}: {error.evalue}"
    assert "epochs must be at least 1, got 0" in error.evalue
    nb = _read(path)
    validation = next(i for i, c in enumerate(nb.cells[_parameters_index(nb) + 1:], _parameters_index(nb) + 1)
                      if c.cell_type == "code")
    assert error.cell_index == validation + 1, "the error must come from the validation cell (papermill adds one cell)"
    assert not any(tmp_path.iterdir()), "nothing may be written before the parameters are validated"


# --- tools/run_notebooks.py (make run) ------------------------------------------------------------------


def _tiny_notebook(path: Path, *cells: tuple[str, list[str]]) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for source, tags in cells:
        cell = nbformat.v4.new_code_cell(source)
        if tags:
            cell.metadata["tags"] = tags
        nb.cells.append(cell)
    nbformat.write(nb, path)
    return path


def test_discover_takes_numbered_notebooks_in_order_and_skips_drafts(tmp_path: Path):
    for name in ("02_b.ipynb", "01_a.ipynb", "_03_draft.ipynb", "notes.ipynb", "04_c.py"):
        (tmp_path / name).write_text("{}")
    assert [p.name for p in run_notebooks.discover(tmp_path)] == ["01_a.ipynb", "02_b.ipynb"]
    draft = _tiny_notebook(tmp_path / "_draft.ipynb", ("x = 1", []))
    assert run_notebooks.main([str(draft), "--out", str(tmp_path / "out"), "--artifacts", str(tmp_path)]) == 2


def test_summary_names_every_figure_and_missing_ones():
    lines = run_notebooks.summary({"test_accuracy": 0.93, "nodes_before": 52, "nodes_after": 52,
                                   "read_variable_ops_before": 12, "read_variable_ops_after": 0,
                                   "freeze_max_abs_diff": 1e-7, "load_max_abs_diff": 5e-7, "extra": 1.5})
    text = "\n".join(lines)
    assert "0.9300" in text and "52 before, 52 after (ReadVariableOp 12 -> 0)" in text
    assert "5e-07" in text and "not recorded" in text and "extra=1.5" in text  # .pb size was not given
    assert all("recorded" in line for line in run_notebooks.summary({})[:4])


def test_runner_accepts_expected_errors_and_names_the_failing_cell(tmp_path: Path, capsys):
    ok = _tiny_notebook(tmp_path / "01_ok.ipynb", ("1 / 0", ["raises-exception"]), ("x = 1", []))
    bad = _tiny_notebook(tmp_path / "02_bad.ipynb", ("y = 2", []), ("raise RuntimeError('boom')", []), ("z = 3", []))
    args = ["--out", str(tmp_path / "out"), "--artifacts", str(tmp_path / "art")]
    assert run_notebooks.main([str(ok), *args]) == 0
    assert run_notebooks.main([str(ok), str(bad), *args]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("run_notebooks: error: 02_bad.ipynb failed in cell 2 (In [")
    assert "RuntimeError: boom" in err[0]  # cell 2 counted from 1 in the source, without papermill's injected cell
    executed = _read(tmp_path / "out" / "02_bad.ipynb")
    assert executed.cells[-1].execution_count is None, "the run must stop at the failing cell"
