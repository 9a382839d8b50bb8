"""The workshop kit: solutions are marked, student copies hide them, and both halves still work.

- every notebook follows the exercise convention (docs/workshop.md);
- the student copy replaces exactly the ``solution`` cells with stubs;
- executed, the student copy runs up to the exercises: the first cell that fails is the
  first stub; in the same kernel each stub is then replaced by its solution, and every
  self-check after it must answer "Correct".

That last check runs on one real notebook (``STUDENT_RUN``) and on a toy one, not on all of
them: for the others it would repeat what nbval already runs. The convention puts every
solution after ``## Exercises``, so the student copy's cells before its first stub are the
notebook's own, which nbval executes; the stubs are checked to raise NotImplementedError
(``test_student_copy_replaces_exactly_the_solutions``); and nbval runs each solution with the
check after it, which raises ``ExerciseIncorrect`` on a wrong answer.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
sys.path.insert(0, str(ROOT / "tools"))

import make_student  # noqa: E402

from graphfreeze_helpers.course.exercises import STUB_MARKER  # noqa: E402

PATHS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
IDS = [p.stem for p in PATHS]
WITH_EXERCISES = PATHS  # every notebook ends with exercises, the index included
# The real notebook whose student copy is executed: cheap to run, and its checks use four kinds of check_*.
STUDENT_RUN = [NOTEBOOKS / "09_troubleshooting.ipynb"]


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=[p.stem for p in WITH_EXERCISES])
def test_notebook_follows_the_exercise_convention(path):
    assert make_student.problems(_read(path), path.name) == []


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_student_copy_replaces_exactly_the_solutions(path):
    original = _read(path)
    student = make_student.student_copy(original)
    assert len(student.cells) == len(original.cells)
    for before, after in zip(original.cells, student.cells):
        if "solution" in make_student.tags(before):
            assert STUB_MARKER in after.source and "raise NotImplementedError" in after.source
            assert "solution" not in make_student.tags(after) and "stub" in make_student.tags(after)
            code = [line for line in before.source.splitlines() if line.strip() and not line.startswith("#")]
            assert not [line for line in code if line in after.source.splitlines()], "solution code leaked"
        else:
            assert after.source == before.source and after.cell_type == before.cell_type


def _toy_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Toy"),
        cell("x = 41"),
        nbformat.v4.new_markdown_cell("## Exercises"),
        nbformat.v4.new_markdown_cell("### Exercise 99.1: add one\nSet `answer_1`.", metadata={"tags": ["exercise"]}),
        cell("# Set answer_1 to x + 1\nanswer_1 = x + 1", metadata={"tags": ["solution"]}),
        cell('from graphfreeze_helpers.course import check_equal\n'
             'check_equal("99.1", answer_1, 42, hint="add one to x")'),
    ]
    return nb


def test_convention_problems_are_reported_one_sentence_each():
    nb = _toy_notebook()
    assert make_student.problems(nb, "toy") == []
    nb.cells[5].source = "print('no check here')"
    nb.cells[1].metadata["tags"] = ["solution"]
    found = make_student.problems(nb, "toy")
    assert any("before '## Exercises'" in line for line in found)
    assert any("calling a check*(...)" in line for line in found)
    assert make_student.problems(nbformat.v4.new_notebook(), "empty") == [
        "empty: no '## Exercises' section; add one with at least one exercise"
    ]


def test_make_student_command_writes_copies_into_the_given_folder(tmp_path):
    source = tmp_path / "99_toy.ipynb"
    nbformat.write(_toy_notebook(), source)
    out = tmp_path / "student"
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "make_student.py"), "--out", str(out), str(source)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "1 student notebooks with 1 exercise stubs" in result.stdout
    written = _read(out / "99_toy.ipynb")
    assert written.cells[4].source.splitlines() == [
        "# Set answer_1 to x + 1",
        STUB_MARKER,
        'raise NotImplementedError("Exercise 99.1: write your solution in this cell, then run the check below it")',
    ]
    assert _read(source).cells[4].source.endswith("answer_1 = x + 1")  # the original is untouched
    assert sorted(p.name for p in out.iterdir()) == ["99_toy.ipynb"]  # no temporary files left


def _correct_shown(cell) -> bool:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "execute_result" and "Correct (" in output["data"].get("text/plain", ""):
            return True
    return False


def run_student_then_solutions(original: nbformat.NotebookNode, cwd: Path) -> dict:
    """Execute the student copy; return what happened at the stubs and the checks."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    student = make_student.student_copy(original)
    client = NotebookClient(student, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(cwd)}})
    stubs = {i for i, c in enumerate(student.cells) if "stub" in make_student.tags(c)}  # nbclient replaces cells
    report = {"first_error": None, "first_stub": None, "stub_errors": [], "checks": [], "failed_checks": []}
    with client.setup_kernel():
        for index, cell in enumerate(student.cells):
            if cell.cell_type != "code":
                continue
            if index in stubs:
                if report["first_stub"] is None:
                    report["first_stub"] = index
                try:
                    client.execute_cell(cell, index)
                except CellExecutionError as error:
                    report["first_error"] = index if report["first_error"] is None else report["first_error"]
                    report["stub_errors"].append((index, error.ename))
                solution = nbformat.from_dict(dict(original.cells[index]))
                client.execute_cell(solution, index)  # the real solution, in the same kernel
                continue
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as error:
                if report["first_error"] is None:
                    report["first_error"] = index
                if report["first_stub"] is None:
                    raise AssertionError(f"the student copy fails before the exercises, in cell {index}: "
                                         f"{error.ename}: {error.evalue}") from None
                report["failed_checks"].append((index, f"{error.ename}: {error.evalue}"))
                continue
            if index - 1 in stubs and make_student.CHECK_CALL.search(cell.source):
                report["checks"].append(index)
                if not _correct_shown(cell):
                    report["failed_checks"].append((index, "no 'Correct (...)' result shown"))
    return report


def test_the_runner_on_a_toy_notebook(tmp_path):
    report = run_student_then_solutions(_toy_notebook(), tmp_path)
    assert report["first_stub"] == 4 and report["first_error"] == 4
    assert report["stub_errors"] == [(4, "NotImplementedError")]
    assert report["checks"] == [5] and report["failed_checks"] == []

    wrong = _toy_notebook()
    wrong.cells[4].source = "answer_1 = x"
    failed = run_student_then_solutions(wrong, tmp_path)["failed_checks"]
    assert failed and "Not yet (99.1): you gave 41" in failed[0][1]


@pytest.mark.slow
@pytest.mark.parametrize("path", STUDENT_RUN, ids=[p.stem for p in STUDENT_RUN])
def test_student_copy_runs_to_the_exercises_and_solutions_pass_the_checks(path, tmp_path):
    original = _read(path)
    if make_student.problems(original, path.name):
        pytest.fail("the notebook breaks the exercise convention; see test_notebook_follows_the_exercise_convention")
    # The kernel works in a fresh copy of notebooks/, so the default artifacts_dir (../artifacts) is a
    # new temporary folder: nothing is read from, or written to, the repository's artifacts/.
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for notebook in NOTEBOOKS.glob("*.ipynb"):
        shutil.copyfile(notebook, folder / notebook.name)
    report = run_student_then_solutions(original, folder)
    assert report["first_error"] == report["first_stub"], "the first failing cell must be the first stub"
    assert all(ename == "NotImplementedError" for _, ename in report["stub_errors"]), report["stub_errors"]
    assert len(report["stub_errors"]) == len(make_student.exercise_ids(original))
    assert report["failed_checks"] == [], report["failed_checks"]
    assert len(report["checks"]) == len(make_student.exercise_ids(original))


# --- copies to work in: no outputs, never over your work, never in the git tree ------------------------


def _run_output(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``nb`` as JupyterLab saves it after a run: outputs, execution counts and timings."""
    for count, cell in enumerate((c for c in nb.cells if c.cell_type == "code"), start=1):
        cell.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "Correct (99.1): 42"},
                                               execution_count=count)]
        cell.execution_count = count
        cell.metadata["execution"] = {"iopub.status.idle": "2026-01-01T00:00:00Z"}
    return nb


@pytest.mark.parametrize("solutions", [False, True], ids=["student", "lab"])
def test_copies_are_written_without_outputs(tmp_path, solutions):
    source = tmp_path / "99_toy.ipynb"
    nbformat.write(_run_output(_toy_notebook()), source)
    written, kept = make_student.write_student_copies([source], tmp_path / "out", solutions=solutions)
    assert kept == [] and len(written) == 1
    copy = _read(written[0])
    code = [c for c in copy.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None and "execution" not in c.metadata for c in code)
    assert ("answer_1 = x + 1" in copy.cells[4].source) is solutions  # the lab copy keeps the solutions
    assert "Correct (" not in written[0].read_text()


def test_a_copy_with_your_work_is_kept_unless_forced(tmp_path):
    source = tmp_path / "99_toy.ipynb"
    nbformat.write(_toy_notebook(), source)
    out = tmp_path / "lab"
    command = [sys.executable, str(ROOT / "tools" / "make_student.py"), "--solutions", "--out", str(out), str(source)]
    assert subprocess.run(command, capture_output=True, text=True, timeout=120).returncode == 0
    worked = _run_output(_read(out / source.name))
    worked.cells[4].source = "answer_1 = 42  # my own answer"
    nbformat.write(worked, out / source.name)
    before = (out / source.name).read_text()

    again = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and (out / source.name).read_text() == before
    assert "kept" in again.stderr and "99_toy.ipynb" in again.stderr and "--force" in again.stderr

    forced = subprocess.run([*command, "--force"], capture_output=True, text=True, timeout=120)
    assert forced.returncode == 0 and "answer_1 = x + 1" in _read(out / source.name).cells[4].source


def _digests(folder: Path) -> dict[str, str]:
    import hashlib

    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def test_working_in_the_lab_copy_leaves_notebooks_untouched(tmp_path):
    before = _digests(NOTEBOOKS)
    out = tmp_path / "lab"
    written, kept = make_student.write_student_copies(PATHS, out, solutions=True)
    assert [p.name for p in written] == [p.name for p in PATHS] and kept == []
    for path in written:  # work through every copy, as JupyterLab would save it
        nbformat.write(_run_output(_read(path)), path)
    assert make_student.write_student_copies(PATHS, out, solutions=True)[1] == written  # your runs are kept
    assert _digests(NOTEBOOKS) == before


def test_lab_and_student_folders_are_git_ignored():
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout")
    names = ["lab/01_train_small_model.ipynb", "student/01_train_small_model.ipynb", "artifacts/digits_cnn.keras"]
    result = subprocess.run(["git", "check-ignore", "--no-index", *names], cwd=ROOT, capture_output=True, text=True)
    assert result.stdout.split() == names


def _make_dry_run(target: str) -> str:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    result = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("target, folder, copy", [
    ("lab", "lab/", "tools/make_student.py --solutions --out lab"),
    ("lab-student", "student/", "tools/make_student.py --out student"),
    ("lab-source", "notebooks/", None),
])
def test_make_lab_targets_open_their_folder_and_handle_root(target, folder, copy):
    commands = _make_dry_run(target)
    lab = next(line for line in commands.splitlines() if "jupyter lab" in line)
    assert lab.endswith(f" {folder}")
    assert ("--allow-root" in lab) == (os.geteuid() == 0)  # JupyterLab refuses root without it
    if copy:
        assert copy in commands and commands.index(copy) < commands.index("jupyter lab")
    listed = subprocess.run(["make", "help"], cwd=ROOT, capture_output=True, text=True, timeout=60).stdout
    assert re.search(rf"^  make {re.escape(target)}\s", listed, flags=re.M), listed
