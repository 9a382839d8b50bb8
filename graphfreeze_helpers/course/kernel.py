"""What a notebook's kernel needs before the lesson starts: TensorFlow, quietly, at the tested version.

    tf = start_tensorflow()                       # one line in each setup cell
    tf = start_tensorflow(short_tracebacks=True)  # in notebooks that show expected failures

:func:`start_tensorflow` is :func:`graphfreeze_helpers.tfimport.import_tensorflow` (no
start-up log noise) followed by :func:`graphfreeze_helpers.tfimport.check_versions` (one
clear sentence if TensorFlow or Keras is not the tested version).

:func:`show_short_tracebacks` makes IPython show an error as its type and message under the one
frame that matters, the line of the notebook cell that raised, instead of some 40 lines
through Keras and TensorFlow. The error is still an error: the cell fails, papermill and
nbval see the exception's type and message.
"""

from __future__ import annotations

import types
from typing import Any

from ..tfimport import check_versions, import_tensorflow

__all__ = ["show_short_tracebacks", "start_tensorflow"]


def start_tensorflow(*, short_tracebacks: bool = False) -> types.ModuleType:
    """Return ``tensorflow``, imported without its start-up log lines, after checking the tested versions.

    With ``short_tracebacks=True``, also :func:`show_short_tracebacks` in this kernel.
    """
    tf = import_tensorflow()
    check_versions()
    if short_tracebacks:
        show_short_tracebacks()
    return tf


def notebook_frame(tb: types.TracebackType | None, user_globals: dict[str, Any]) -> types.TracebackType | None:
    """The traceback entry of the last frame that runs the notebook's own code (its globals are the notebook's)."""
    last = None
    while tb is not None:
        if tb.tb_frame.f_globals is user_globals:
            last = tb
        tb = tb.tb_next
    if last is None:
        return None
    return types.TracebackType(None, last.tb_frame, last.tb_lasti, last.tb_lineno)


def show_short_tracebacks(shell: Any = None) -> None:
    """Show errors in this IPython kernel as type, message and the notebook line that raised them.

    Outside IPython it changes nothing. Chained exceptions are not shown; the
    message of an error raised by this project already says what was found and what to do.
    """
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return
        shell = get_ipython()
    if shell is None:
        return

    def show(shell: Any, etype: type[BaseException], value: BaseException, tb: Any, tb_offset: Any = None) -> None:
        frame = notebook_frame(tb, shell.user_global_ns)
        shown = value.with_traceback(frame) if frame is not None else value
        cause, context, suppress = shown.__cause__, shown.__context__, shown.__suppress_context__
        shown.__cause__ = shown.__context__ = None
        try:
            shell.showtraceback((etype, shown, frame))
        finally:
            shown.__cause__, shown.__context__, shown.__suppress_context__ = cause, context, suppress
            value.with_traceback(tb)

    shell.set_custom_exc((Exception,), show)
