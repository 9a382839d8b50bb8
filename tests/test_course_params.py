"""graphfreeze_helpers.course.params: the checks every notebook's validation cell makes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from graphfreeze_helpers.course.params import (
    Rule,
    at_least,
    between,
    check_params,
    check_types,
    existing_path,
    folder,
    int_list,
    make_folder,
    one_of,
    positive,
    satisfies,
)

PARAMETERS = {"epochs": "int", "tolerance": "float", "name": "str", "flag": "bool", "sizes": "list"}
GOOD = {"epochs": 3, "tolerance": 1e-5, "name": "x", "flag": False, "sizes": [1, 8]}


def namespace(**values) -> dict:
    """A notebook's globals after its parameters cell: the values and their annotations."""
    ns = {"__annotations__": {k: eval(t) for k, t in PARAMETERS.items()}}  # real classes, as Python stores them
    ns.update(GOOD)
    ns.update(values)
    return ns


def message(error: pytest.ExceptionInfo) -> str:
    text = str(error.value)
    assert "\n" not in text, "the message must be one line"
    return text


def test_good_values_pass_and_the_checked_types_are_returned():
    assert check_types(namespace()) == PARAMETERS
    assert check_types(namespace(tolerance=1)) == PARAMETERS  # an int is a fine float
    assert check_types(namespace(epochs=np.int64(3), tolerance=np.float32(0.5)))  # numpy scalars are numbers


@pytest.mark.parametrize("name, value, expected, found", [
    ("epochs", "three", "a whole number (int)", "'three' (a str)"),
    ("epochs", 2.5, "a whole number (int)", "2.5 (a float)"),
    ("epochs", True, "a whole number (int)", "True (a bool)"),  # bool is an int to Python, not to us
    ("tolerance", "fast", "a number (float)", "'fast' (a str)"),
    ("tolerance", False, "a number (float)", "False (a bool)"),
    ("tolerance", None, "a number (float)", "None (a NoneType)"),
    ("name", 42, "a string (str)", "42 (an int)"),
    ("flag", "yes", "True or False (bool)", "'yes' (a str)"),
    ("flag", 1, "True or False (bool)", "1 (an int)"),
    ("sizes", "1,8", "a list", "'1,8' (a str)"),
    ("sizes", (1, 8), "a list", "(1, 8) (a tuple)"),
])
def test_a_wrong_type_names_the_parameter_what_was_expected_and_what_was_found(name, value, expected, found):
    with pytest.raises(ValueError) as error:
        check_types(namespace(**{name: value}))
    assert message(error).startswith(f"{name} must be {expected}, got {found}")


def test_papermill_command_line_hints():
    with pytest.raises(ValueError) as error:
        check_types(namespace(name=42))
    assert "-r name VALUE" in message(error)  # papermill -p turned the text 42 into a number
    with pytest.raises(ValueError) as error:
        check_types(namespace(sizes="1,8"))
    assert "-y 'sizes: [1, 8]'" in message(error)


def test_a_long_value_is_shortened_in_the_message():
    with pytest.raises(ValueError) as error:
        check_types(namespace(epochs="x" * 500))
    assert len(message(error)) < 200 and "..." in str(error.value)


def test_list_element_types_are_checked_when_annotated():
    ns = {"__annotations__": {"sizes": list[int], "names": "list[str]"}, "sizes": [1, 8], "names": ["a"]}
    assert check_types(ns) == {"sizes": "list[int]", "names": "list[str]"}
    with pytest.raises(ValueError) as error:
        check_types({**ns, "sizes": [1, "8"]})
    assert message(error) == "sizes must be a list of whole numbers (int), got [1, '8'] with '8' (a str)"
    with pytest.raises(ValueError, match="^names must be a list, got 'a' "):
        check_types({**ns, "names": "a"})


def test_postponed_annotations_are_strings_and_still_checked():
    ns = {"__annotations__": {"epochs": "int", "flag": "bool"}, "epochs": 3, "flag": "yes"}
    with pytest.raises(ValueError, match="^flag must be True or False"):
        check_types(ns)


def test_notebook_mistakes_are_not_value_errors():
    with pytest.raises(LookupError, match="run the cell tagged 'parameters' first"):
        check_types({"epochs": 3})
    with pytest.raises(TypeError, match="parameter shape is annotated 'tuple'"):
        check_types({"__annotations__": {"shape": tuple}, "shape": (1, 2)})
    with pytest.raises(LookupError, match="parameter epochs is annotated but has no value"):
        check_types({"__annotations__": {"epochs": int}})


def _run_cells(*cells: str) -> dict:
    """Run cells the way a Jupyter kernel does (IPython, one cell at a time); return the namespace."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        shell.reset(new_session=False)
        for source in cells:
            result = shell.run_cell(source, store_history=False, silent=True)
            if result.error_in_exec is not None:
                raise result.error_in_exec
        return dict(shell.user_ns)
    finally:
        InteractiveShell.clear_instance()


PARAMETERS_CELL = 'epochs: int = 3  # passes\nartifacts_dir: str = "../artifacts"  # where'


def test_ipython_keeps_the_parameters_cells_annotations_for_the_validation_cell():
    ns = _run_cells("import math", PARAMETERS_CELL, "x = 1")
    assert check_types(ns) == {"epochs": "int", "artifacts_dir": "str"}


def test_papermills_unannotated_injected_cell_is_checked_against_the_parameters_cells_types():
    injected = 'epochs = "three"\nartifacts_dir = "/tmp/a"'  # what papermill -p epochs three adds
    with pytest.raises(ValueError, match="^epochs must be a whole number"):
        _run_cells(PARAMETERS_CELL, injected, "from graphfreeze_helpers.course import check_types",
                   "check_types(globals())")


def test_at_least_and_positive():
    at_least(1).check("epochs", 1)
    with pytest.raises(ValueError) as error:
        at_least(1).check("epochs", 0)
    assert message(error) == "epochs must be at least 1, got 0"
    positive().check("time_budget_s", 0.5)
    for bad in (0, -1.0, math.inf, math.nan):
        with pytest.raises(ValueError, match="^time_budget_s must be"):
            positive().check("time_budget_s", bad)
    with pytest.raises(ValueError) as error:
        at_least(0).check("seed", "three")  # a range check alone still gives a ValueError, not a TypeError
    assert message(error) == "seed must be a number, got 'three' (a str)"


def test_between_inclusive_and_open():
    between(0, 1).check("min_accuracy", 0)
    between(0, 1).check("min_accuracy", 1.0)
    with pytest.raises(ValueError) as error:
        between(0, 1).check("min_accuracy", 1.5)
    assert message(error) == "min_accuracy must be from 0 to 1, got 1.5"
    between(0, 1, inclusive=False).check("tolerance", 1e-5)
    for bad in (0, 1, math.nan):
        with pytest.raises(ValueError, match="^tolerance must be"):
            between(0, 1, inclusive=False).check("tolerance", bad)
    with pytest.raises(ValueError) as error:
        between(0, 1, inclusive=False).check("tolerance", 0)
    assert message(error) == "tolerance must be above 0 and below 1, got 0"


def test_one_of_and_int_list():
    one_of(("import", "prune")).check("method", "prune")
    with pytest.raises(ValueError) as error:
        one_of({"portable": 1, "tensorflow": 2}).check("target", "fast")
    assert message(error) == "target must be one of ['portable', 'tensorflow'], got 'fast'"
    int_list(1).check("batch_sizes", [1, 8])
    for bad in ([], [1, 0], [1, 2.0], [True], "1,8"):
        with pytest.raises(ValueError, match="^batch_sizes must be a non-empty list of whole numbers >= 1, got"):
            int_list(1).check("batch_sizes", bad)
    with pytest.raises(ValueError, match="^depths must be a non-empty list of whole numbers from 1 to 4, got \\[5\\]"):
        int_list(1, 4).check("depths", [5])


def test_folder(tmp_path):
    folder().check("artifacts_dir", str(tmp_path / "not-yet"))  # need not exist: the notebook creates it
    for bad in ("", "  ", 42):
        with pytest.raises(ValueError, match="^artifacts_dir must name a folder, got"):
            folder().check("artifacts_dir", bad)
    a_file = tmp_path / "f.txt"
    a_file.write_text("x")
    with pytest.raises(ValueError, match="which is a file"):
        folder().check("artifacts_dir", str(a_file))


def test_existing_path(tmp_path):
    a_file = tmp_path / "g.pb"
    a_file.write_bytes(b"")
    existing_path("file").check("graph_path", str(a_file))
    existing_path("any").check("model_path", str(tmp_path))
    existing_path("file", empty_ok=True).check("graph_path", "")
    with pytest.raises(ValueError) as error:
        existing_path("file", hint="give a frozen .pb").check("graph_path", str(tmp_path / "no.pb"))
    assert message(error) == f"graph_path {str(tmp_path / 'no.pb')!r} does not exist; give a frozen .pb"
    with pytest.raises(ValueError, match="is not a file"):
        existing_path("file").check("graph_path", str(tmp_path))
    with pytest.raises(ValueError, match="is not a folder"):
        existing_path("dir").check("model_path", str(a_file))
    with pytest.raises(ValueError, match="does not exist"):
        existing_path("file").check("graph_path", "")  # empty is a value only when empty_ok
    with pytest.raises(ValueError, match=r"^graph_path must be a path string, got 42 \(an int\)"):
        existing_path("file", empty_ok=True).check("graph_path", 42)


def test_satisfies_says_what_the_value_must_do():
    rule = satisfies(lambda sizes: 1 in sizes, "include 1 (the per-call comparison is at batch 1)")
    rule.check("batch_sizes", [1, 8])
    with pytest.raises(ValueError) as error:
        rule.check("batch_sizes", [8])
    assert message(error) == "batch_sizes must include 1 (the per-call comparison is at batch 1), got [8]"
    assert repr(rule) == "Rule(include 1 (the per-call comparison is at batch 1))"


def test_check_params_checks_types_first_then_each_rule_in_order():
    rules = {"epochs": at_least(1), "tolerance": between(0, 1, inclusive=False),
             "sizes": [int_list(1), satisfies(lambda v: 1 in v, "include 1")]}
    assert check_params(namespace(), **rules) is None
    with pytest.raises(ValueError, match="^epochs must be a whole number"):  # the type, before the range
        check_params(namespace(epochs="0"), **rules)
    with pytest.raises(ValueError) as error:
        check_params(namespace(epochs=0), **rules)
    assert message(error) == "epochs must be at least 1, got 0"
    with pytest.raises(ValueError, match=r"^sizes must be a non-empty list of whole numbers >= 1, got \[0\]"):
        check_params(namespace(sizes=[0]), **rules)  # the first rule of a list wins
    with pytest.raises(ValueError, match=r"^sizes must include 1, got \[8\]"):
        check_params(namespace(sizes=[8]), **rules)
    assert all(isinstance(r, Rule) for r in (at_least(1), folder(), positive()))


def test_check_params_refuses_a_rule_for_a_name_that_is_not_a_parameter():
    with pytest.raises(TypeError, match=r"check_params got rules for \['epoch'\], which are not parameters"):
        check_params(namespace(), epoch=at_least(1))


def test_make_folder_creates_and_returns_the_folder(tmp_path):
    made = make_folder(str(tmp_path / "a" / "b"))
    assert made == tmp_path / "a" / "b" and made.is_dir()
    assert make_folder(str(made)) == made  # an existing folder is fine
