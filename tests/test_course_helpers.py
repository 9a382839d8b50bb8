"""graphfreeze_helpers.course: metrics, tables and named checks that the notebooks use."""

from __future__ import annotations

import json

from graphfreeze_helpers.course import metrics


def test_record_metrics_merges_and_survives_a_damaged_file(tmp_path):
    metrics.record_metrics(tmp_path, accuracy=0.9)
    record = metrics.record_metrics(tmp_path / "", nodes=52)
    assert record == {"accuracy": 0.9, "nodes": 52}
    assert json.loads((tmp_path / metrics.METRICS_FILE).read_text()) == record
    (tmp_path / metrics.METRICS_FILE).write_text("{broken")
    assert metrics.record_metrics(tmp_path, size=1) == {"size": 1}


def test_table_shows_numbers_one_way_as_text_and_html():
    from graphfreeze_helpers.course import Table

    table = Table(["contender", "µs", "ratio", "diff", "ok"],
                  [["frozen", 1234.56, 0.9821, 1.2e-7, True], ["tf_function", 87.25, 12.47, 0, None]],
                  title="batch 1")
    text = repr(table)
    assert text.splitlines()[0] == "batch 1"
    assert "1,235" in text and "0.982" in text and "1.2e-07" in text and "True" in text
    assert "87.2" in text and "12.5" in text and " - " in text + " "
    html = table._repr_html_()
    assert "<table>" in html and "1,235" in html and "tf_function" in html
    assert table.column("µs") == [1234.56, 87.25]
    assert repr(Table(["a"], [[1]])) == "  a\n  1"  # no title, no empty first line
    import pytest

    with pytest.raises(ValueError, match="every row needs 5 values"):
        Table(["a", "b", "c", "d", "e"], [[1, 2]])


def test_assert_agree_names_the_output_that_differs_and_shows_the_rest():
    import numpy as np
    import pytest

    from graphfreeze_helpers.course import assert_agree

    outputs = {"keras": np.zeros(3), "frozen": np.full(3, 1e-7), "bad": np.array([0.0, 0.5, 0.0])}
    with pytest.raises(AssertionError, match=r"^bad differs from keras by 0.5 > 1e-05$"):
        assert_agree(outputs, reference="keras", tolerance=1e-5)
    table = assert_agree({k: v for k, v in outputs.items() if k != "bad"}, reference="keras", tolerance=1e-5)
    assert table.column("output") == ["keras", "frozen"] and table.column("max |diff| from keras")[1] == 1e-7
    with pytest.raises(AssertionError, match="^nan differs"):
        assert_agree({"keras": np.zeros(1), "nan": np.full(1, np.nan)}, reference="keras", tolerance=1.0)


def test_the_library_never_imports_the_course_subpackage():
    """Course scaffolding sits apart: it imports the library, never the other way round."""
    import ast
    from pathlib import Path

    package = Path(__file__).resolve().parent.parent / "graphfreeze_helpers"
    offenders = []
    for module in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(module.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom):
                names = [f"{'.' * node.level}{node.module or ''}"] + [f"{'.' * node.level}{a.name}" for a in node.names
                                                                     if not node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            offenders += [f"{module.name}: {name}" for name in names
                          if name.lstrip(".").split(".")[0] == "course" or "graphfreeze_helpers.course" in name]
    assert offenders == []
