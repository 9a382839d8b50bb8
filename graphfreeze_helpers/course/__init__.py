"""Course scaffolding for the notebooks: parameter checks, exercise self-checks, recorded metrics, tables.

This is not part of the freezing library: the library (``graphfreeze_helpers.*``) never
imports it; it imports the library. A notebook's setup cell takes what it needs from here:

    from graphfreeze_helpers.course import at_least, check_equal, check_params, folder, record_metrics, start_tensorflow

    tf = start_tensorflow()  # TensorFlow without its start-up log noise, at the tested version

``graphfreeze_helpers.course.sweep`` (papermill runs of the notebooks, ``make run`` and
``make sweep``) is imported on its own, since it needs the development dependencies.
"""

from __future__ import annotations

from .checks import assert_agree
from .exercises import (
    Correct,
    ExerciseIncorrect,
    ExerciseNotDone,
    check,
    check_benchmark,
    check_close,
    check_equal,
    check_raises,
    check_type,
)
from .kernel import show_short_tracebacks, start_tensorflow
from .metrics import METRICS_FILE, latency_metrics, record_metrics
from .params import (
    Rule,
    at_least,
    between,
    check_params,
    check_types,
    contains,
    existing_path,
    folder,
    fraction,
    int_list,
    make_folder,
    one_of,
    optional_graph,
    optional_model,
    positive,
    satisfies,
)
from .tables import Table

__all__ = [
    "assert_agree",
    "Correct", "ExerciseIncorrect", "ExerciseNotDone", "check", "check_benchmark", "check_close", "check_equal",
    "check_raises",
    "check_type",
    "show_short_tracebacks", "start_tensorflow",
    "METRICS_FILE", "latency_metrics", "record_metrics",
    "Rule", "at_least", "between", "check_params", "check_types", "contains", "existing_path", "folder", "fraction",
    "int_list", "make_folder", "one_of", "optional_graph", "optional_model", "positive", "satisfies",
    "Table",
]
