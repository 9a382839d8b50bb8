"""nbval runs every notebook in a fresh temporary copy of ``notebooks/``, and requires the errors it teaches.

nbval (``--nbval-lax`` in pytest's addopts) starts each notebook's kernel in the notebook's
own folder, so the default ``artifacts_dir = "../artifacts"`` would be the repository's
``artifacts/``: a run would reuse whatever model an earlier run or test left there, and
write over it. Here each collected notebook is given a kernel whose working folder is
``<tmp>/<notebook>/notebooks/``, a fresh copy of the notebooks folder; the cells still come
from the repository's notebook. The defaults then resolve inside that temporary folder
(``../artifacts`` is ``<tmp>/<notebook>/artifacts``), as they would in a fresh clone, so no
run depends on another test, on the order of the tests, or on stale files.

nbval lets a cell tagged ``raises-exception`` fail but does not require it to; here such a
cell must raise the exception its metadata names (``{"graphfreeze": {"raises": "OSError"}}``,
see ``graphfreeze_helpers.course.sweep.expected_error``), or its test fails.

It lives at the top of the repository because pytest applies a conftest's collection hooks
only to files under the conftest's folder, and the notebooks are not under ``tests/``.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"


def _fresh_notebooks_copy(stem: str) -> Path:
    """``<tmp>/<stem>/notebooks/``: the committed notebooks, nothing else, in a new temporary folder."""
    copy = Path(tempfile.mkdtemp(prefix=f"nbval-{stem}-")) / "notebooks"
    copy.mkdir()
    for notebook in NOTEBOOKS.glob("*.ipynb"):
        shutil.copyfile(notebook, copy / notebook.name)
    return copy


def _run_in_fresh_copy(collector) -> None:
    """Wrap the collector's setup (which starts the kernel in ``collector.path``'s folder)."""
    start_kernel = collector.setup

    def setup() -> None:
        copy = _fresh_notebooks_copy(collector.path.stem)
        collector.addfinalizer(lambda: shutil.rmtree(copy.parent, ignore_errors=True))
        collector.path = copy / collector.path.name  # the cells were read at collection, from the repository
        start_kernel()

    collector.setup = setup


@pytest.hookimpl(hookwrapper=True)
def pytest_collect_file(file_path, parent):
    outcome = yield
    try:
        from nbval.plugin import IPyNbFile
    except ImportError:  # nbval not installed: nothing to redirect
        return
    for collector in outcome.get_result() or []:
        if isinstance(collector, IPyNbFile) and Path(file_path).resolve().parent == NOTEBOOKS:
            _run_in_fresh_copy(collector)


def _require_expected_error(item, expected: str) -> None:
    """Wrap the nbval item's run: after it, the cell's outputs must hold an error named ``expected``."""
    run_cell = item.runtest

    def runtest() -> None:
        run_cell()
        raised = [out.get("ename") for out in item.test_outputs if out.get("output_type") == "error"]
        if expected not in raised:
            raise AssertionError(f"the cell is tagged raises-exception and must raise {expected}, "
                                 f"but it raised {', '.join(raised) or 'nothing'}")

    item.runtest = runtest


def pytest_collection_modifyitems(items):
    try:
        from nbval.plugin import IPyNbCell
    except ImportError:
        return
    from graphfreeze_helpers.course.sweep import EXPECTED_ERROR_TAG, expected_error

    for item in items:
        if isinstance(item, IPyNbCell) and EXPECTED_ERROR_TAG in item.cell.get("metadata", {}).get("tags", []):
            expected = expected_error(item.cell)
            if expected:
                _require_expected_error(item, expected)
