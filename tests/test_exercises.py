"""The exercise self-checks answer with a result or one helpful sentence, never a bare assert."""

from __future__ import annotations

import numpy as np
import pytest

from graphfreeze_helpers.course.exercises import (
    STUB_MARKER,
    Correct,
    ExerciseIncorrect,
    ExerciseNotDone,
    check,
    check_close,
    check_equal,
    check_raises,
    check_type,
    stub_source,
)


def test_correct_result_displays_as_text_and_html():
    result = check_equal("03.1", 12, 12, hint="count the Const nodes")
    assert isinstance(result, Correct) and result
    assert repr(result) == "Correct (03.1): 12"
    assert "Correct (03.1)" in result._repr_html_() and "<div" in result._repr_html_()


def test_wrong_answer_says_what_was_given_and_the_hint():
    with pytest.raises(ExerciseIncorrect) as info:
        check_equal("03.1", 11, 12, hint="count node.op == 'Const'")
    message = str(info.value)
    assert message.startswith("Not yet (03.1): you gave 11")
    assert "Hint: count node.op == 'Const'" in message
    assert "12" not in message  # the expected value is not given away
    assert isinstance(info.value, AssertionError)  # nbval and pytest treat it as a failed assertion


def test_traceback_renders_as_one_line_in_ipython():
    with pytest.raises(ExerciseIncorrect) as info:
        check("01.2", False, hint="look at the shape", problem="the model has no softmax.")
    lines = info.value._render_traceback_()
    assert lines == ["ExerciseIncorrect: Not yet (01.2): the model has no softmax. Hint: look at the shape"]


def test_ellipsis_means_not_done():
    with pytest.raises(ExerciseNotDone, match="still `...`"):
        check_equal("02.1", ..., 3, hint="h")


def test_type_mismatch_is_reported_but_int_float_compare():
    with pytest.raises(ExerciseIncorrect, match="you gave a str"):
        check_equal("02.1", "12", 12, hint="h")
    assert check_equal("02.1", 12.0, 12, hint="h")


def test_arrays():
    assert check_equal("04.1", np.arange(3), np.arange(3), hint="h")
    with pytest.raises(ExerciseIncorrect, match=r"shape \(2,\), expected shape \(3,\)"):
        check_equal("04.1", np.arange(2), np.arange(3), hint="h")
    assert check_close("04.2", [0.1 + 0.2], [0.3], hint="h")
    with pytest.raises(ExerciseIncorrect, match="off by up to 0.5"):
        check_close("04.2", 1.0, 1.5, hint="h")
    with pytest.raises(ExerciseIncorrect, match="not a number"):
        check_close("04.2", "x", 1.5, hint="h")


def test_check_type_and_raises():
    assert check_type("05.1", {}, dict, hint="h")
    with pytest.raises(ExerciseIncorrect, match="expected: int or float"):
        check_type("05.1", "x", (int, float), hint="h")

    def boom():
        raise KeyError("nope")

    assert "KeyError" in repr(check_raises("09.1", boom, KeyError, hint="h"))
    with pytest.raises(ExerciseIncorrect, match="raised KeyError"):
        check_raises("09.1", boom, ValueError, hint="h")
    with pytest.raises(ExerciseIncorrect, match="without raising"):
        check_raises("09.1", lambda: 1, ValueError, hint="h")


def test_a_hint_is_required():
    with pytest.raises(ValueError, match="needs a hint"):
        check("01.1", True, hint="")


def test_stub_keeps_leading_comments_only():
    source = "# Set answer_1 to the node count\n# (an int)\nanswer_1 = len(g.node)\n# trailing"
    stub = stub_source(source, "03.1")
    assert stub.splitlines()[:3] == ["# Set answer_1 to the node count", "# (an int)", STUB_MARKER]
    assert "len(g.node)" not in stub and "trailing" not in stub
    assert stub.endswith('raise NotImplementedError("Exercise 03.1: write your solution in this cell, '
                         'then run the check below it")')
    compile(stub, "<stub>", "exec")


def test_check_benchmark_wants_the_contenders_at_the_batch_and_agreeing_outputs():
    from graphfreeze_helpers.bench import BenchResult, BenchRow
    from graphfreeze_helpers.course import check_benchmark

    def row(name, median, diff=0.0, batch=1):
        return BenchRow(name, batch, median, median, median, 0.0, median, 10, diff)

    names = ["tf_function", "frozen"]
    good = BenchResult([row("tf_function", 900.0), row("frozen", 850.4)])
    result = check_benchmark("05.1", good, contenders=names, batch=1, tolerance=1e-5, hint="call compare")
    assert result.text == "Correct (05.1): at batch 1: tf_function 900 µs, frozen 850 µs"
    with pytest.raises(ExerciseIncorrect, match=r"should be a bench.BenchResult, got a dict"):
        check_benchmark("05.1", {}, contenders=names, batch=1, tolerance=1e-5, hint="call compare")
    with pytest.raises(ExerciseIncorrect, match=r"lacks \['frozen'\]"):
        check_benchmark("05.1", BenchResult([row("tf_function", 1.0)]), contenders=names, batch=1, tolerance=1e-5,
                        hint="call compare")
    with pytest.raises(ExerciseIncorrect, match="lacks batch size 1"):
        check_benchmark("05.1", BenchResult([row(n, 1.0, batch=8) for n in names]), contenders=names, batch=1,
                        tolerance=1e-5, hint="call compare")
    with pytest.raises(ExerciseIncorrect, match=r"disagree by up to 0.5 \(> 1e-05\)"):
        check_benchmark("05.1", BenchResult([row("tf_function", 1.0), row("frozen", 1.0, diff=0.5)]),
                        contenders=names, batch=1, tolerance=1e-5, hint="call compare")
    with pytest.raises(ExerciseNotDone):
        check_benchmark("05.1", ..., contenders=names, batch=1, tolerance=1e-5, hint="call compare")
