"""Every parameter of every notebook: papermill infers its type, and a wrong value stops the validation cell.

tests/test_notebooks.py already checks the form of the parameters cell (``name: type =
literal  # comment``), that ``papermill --help-notebook`` lists each one with its help, and
that the next code cell raises ``ValueError``; it also runs one bad value through make run's
papermill driver. Here we add, for *every* parameter of *every* notebook:

- ``papermill.inspect_notebook`` infers the declared type (so ``--help-notebook`` shows it);
- a value of the wrong type, as ``papermill -p`` produces from a shell (``-p epochs three``
  gives the string ``"three"``, ``-p artifacts_dir 42`` gives the int ``42``), is rejected by
  the first code cell after the parameters with a ``ValueError`` of one line that names the
  parameter, before anything is written;
- hand-picked values of the right type that are still wrong (``BAD_VALUES``, such as
  ``epochs = 0``) are rejected there too, with the words given;
- the defaults pass that cell.

One kernel serves every notebook: its namespace is reset (``%reset -f``), the notebook's setup
cells run, then its parameters and validation cells once per case. The whole check costs one
TensorFlow start-up, not one per notebook (it took 8-15 s per notebook with a kernel each).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
IDS = [p.stem for p in NOTEBOOKS]

# A value of the wrong type for each declared type, as papermill's command line would pass it.
WRONG_TYPE: dict[str, Any] = {"int": "three", "float": "fast", "str": 42, "bool": "yes", "list": "1,8"}
# Values of the right type that the validation cell must still reject: stem -> [(overrides, words the
# ValueError must contain)].
BAD_VALUES: dict[str, list[tuple[dict[str, Any], str]]] = {
    "01_train_small_model": [({"epochs": 0}, "epochs must be at least 1, got 0")],
    "02_freeze_the_graph": [({"model_path": "no/such/model.keras"}, "model_path 'no/such/model.keras' does not exist")],
    "05_compare_latency": [({"batch_sizes": [1, 0]}, "batch_sizes must be a non-empty list of whole numbers >= 1")],
    "06_optimize_for_inference": [({"target": "fast"}, "target must be one of ['portable', 'tensorflow'], got 'fast'")],
    "07_deploy_without_tensorflow": [({"batch": 0}, "batch must be at least 1, got 0")],
    "10_legacy_graphs": [({"refine_steps": 0}, "refine_steps must be at least 1, got 0")],
    "11_quantize": [({"large_batch": 1}, "large_batch must be at least 2, got 1")],
}


def _tags(cell: Any) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def declared(path: Path) -> tuple[nbformat.NotebookNode, int, dict[str, str]]:
    """The notebook, the index of its parameters cell and ``{name: annotation}`` in order."""
    nb = nbformat.read(path, as_version=4)
    index = next(i for i, c in enumerate(nb.cells) if "parameters" in _tags(c))
    types = {}
    for statement in ast.parse(nb.cells[index].source).body:
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            types[statement.target.id] = ast.unparse(statement.annotation)
    return nb, index, types


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_papermill_infers_every_declared_type(path: Path):
    import papermill

    _, _, types = declared(path)
    inferred = {name: info["inferred_type_name"] for name, info in papermill.inspect_notebook(str(path)).items()}
    assert inferred == types, "papermill --help-notebook must show each parameter's type"


def test_wrong_type_values_cover_every_type_used():
    used = {t for path in NOTEBOOKS for t in declared(path)[2].values()}
    assert used <= set(WRONG_TYPE), f"no wrong-type value for {sorted(used - set(WRONG_TYPE))}"


def test_bad_values_name_parameters_of_existing_notebooks():
    for stem, cases in BAD_VALUES.items():
        path = ROOT / "notebooks" / f"{stem}.ipynb"
        assert path.is_file(), f"{path.name} is listed in BAD_VALUES but does not exist"
        for bad, _ in cases:
            assert set(bad) <= set(declared(path)[2]), f"{stem} has no parameter(s) {sorted(set(bad))}"


def _cases(path: Path) -> list[tuple[str, Any]]:
    return [(name, WRONG_TYPE[annotation]) for name, annotation in declared(path)[2].items()]


@pytest.fixture(scope="module")
def kernel():
    """One kernel, started in notebooks/, for every notebook's cases."""
    from nbclient import NotebookClient

    client = NotebookClient(nbformat.v4.new_notebook(), timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS[0].parent)}})
    with client.setup_kernel():
        yield client


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_wrong_types_and_bad_values_fail_in_the_validation_cell_with_one_sentence(path: Path, tmp_path: Path, kernel):
    from nbclient.exceptions import CellExecutionError

    nb, index, types = declared(path)
    validation = next(i for i in range(index + 1, len(nb.cells)) if nb.cells[i].cell_type == "code")
    parameters_source, validation_source = nb.cells[index].source, nb.cells[validation].source  # nbclient
    # replaces the notebook's cells with the ones it executes, so keep the originals' sources
    artifacts = tmp_path / "artifacts"
    reset = nbformat.v4.new_code_cell("%reset -f")  # nothing left from the last notebook
    kernel.nb = nbformat.v4.new_notebook(cells=[reset])
    kernel.execute_cell(reset, 0)
    kernel.nb = nb
    problems: list[str] = []
    for i in range(index):
        if nb.cells[i].cell_type == "code":
            kernel.execute_cell(nb.cells[i], i)

    def attempt(overrides: dict[str, Any]) -> str | None:
        """Run parameters + overrides, then the validation cell; return 'ename: evalue' or None."""
        source = parameters_source + "\n" + "\n".join(f"{k} = {v!r}" for k, v in overrides.items())
        kernel.execute_cell(nbformat.v4.new_code_cell(source), index)
        try:
            kernel.execute_cell(nbformat.v4.new_code_cell(validation_source), validation)
        except CellExecutionError as error:
            return f"{error.ename}: {error.evalue}"
        return None

    folders = [name for name in types if name.endswith("_dir")]  # artifacts_dir, 08's out_dir: temporary
    default = attempt({name: str(artifacts / name) for name in folders})
    if default is not None:
        problems.append(f"the defaults fail the validation cell: {default}")
    cases = [({name: value}, name, f"{name}={value!r} ({types[name]} expected)") for name, value in _cases(path)]
    cases += [(bad, words, f"{bad} (a bad value)") for bad, words in BAD_VALUES.get(path.stem, [])]
    for bad, words, shown in cases:
        scratch = tmp_path / f"bad-{len(problems)}-{'-'.join(bad)}"
        outcome = attempt({**{folder: str(scratch / folder) for folder in folders if folder not in bad}, **bad})
        if outcome is None:
            problems.append(f"{shown}: accepted by the validation cell")
            continue
        ename, _, message = outcome.partition(": ")
        if ename != "ValueError":
            problems.append(f"{shown}: raised {outcome.splitlines()[0][:150]}, not a ValueError")
        elif "\n" in message.strip() or words not in message:
            problems.append(f"{shown}: the message must be one line containing {words!r}: {message[:150]!r}")
        if scratch.exists() and any(scratch.iterdir()):
            problems.append(f"{shown}: files were written before the parameters were validated")
    assert not problems, f"{path.name}:\n  " + "\n  ".join(problems)
