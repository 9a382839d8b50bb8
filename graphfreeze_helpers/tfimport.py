"""Import TensorFlow without the start-up log lines it writes to stderr.

Also the one conversion of a GraphDef read without TensorFlow (TensorBoard's protos) into
TensorFlow's own class, :func:`to_tf_graph_def`.

TensorFlow's C++ runtime prints a handful of ``I0000``/``E0000`` lines when it is imported
and when it first looks for a GPU, before its log level is read. In JupyterLab they show up
as a red box under the first import. We turn the C++ log level down and catch what is still
written to file descriptor 2 while TensorFlow starts; anything that is not known start-up
noise is written back, so real errors still show.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from types import ModuleType
from typing import Any, Iterator

from .errors import GraphFreezeError, InputError


class MissingTensorFlowError(InputError):
    """TensorFlow (or Keras) is not installed, and the command needs it: the message says how to add it."""

_NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\)"
    r"|[IWE]\d{4} [\d:.]+ +\d+ (port|cudart_stub|cpu_feature_guard|cuda_platform|cuda_executor"
    r"|cuda_dnn|cuda_fft|cuda_blas|gpu_device|computation_placer)\.cc:\d+\]"
    r"|To enable the following instructions:)"
)


@contextlib.contextmanager
def captured_stderr() -> Iterator[list[str]]:
    """Catch what is written to file descriptor 2 (C++ code included) into the yielded list of lines."""
    lines: list[str] = []
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable fd 2 (some embedded interpreters)
        yield lines
        return
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield lines
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            lines.extend(sink.read().decode("utf-8", "replace").splitlines())


def import_tensorflow() -> ModuleType:
    """Return the ``tensorflow`` module, imported quietly (Keras and devices included)."""
    if "tensorflow" in sys.modules and "keras" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with captured_stderr() as lines:
        try:
            try:
                import keras  # noqa: F401  (a second start-up burst comes with Keras)
                import tensorflow as tf
            except ModuleNotFoundError as exc:
                if (exc.name or "").split(".")[0] not in ("tensorflow", "keras"):
                    raise
                raise MissingTensorFlowError(
                    f"this needs TensorFlow, which is not installed ({exc.name} is missing); add it with "
                    "pip install 'graphfreeze[tf]' (from a clone: pip install -e '.[tf]'); inspect, scan and the "
                    "runner work without it"
                ) from None

            tf.config.list_physical_devices()  # the GPU probe logs once, here
            tf.get_logger().setLevel("ERROR")  # no INFO lines such as "Assets written to ..."
        except BaseException:
            sys.stderr.write("".join(line + "\n" for line in lines))
            raise
    kept = [line for line in lines if line.strip() and not _NOISE.match(line)]
    if kept:
        sys.stderr.write("\n".join(kept) + "\n")
    return tf


SUPPORTED = {"tensorflow": "2.21", "keras": "3.15"}


def check_versions() -> dict[str, str]:
    """Return the TensorFlow and Keras versions; raise one clear sentence if they are not the tested ones."""
    tf = import_tensorflow()
    import keras

    found = {"tensorflow": tf.__version__, "keras": keras.__version__}
    for name, prefix in SUPPORTED.items():
        if not (found[name] == prefix or found[name].startswith(prefix + ".")):
            raise GraphFreezeError(
                f"this tutorial needs {name} {prefix}.x but found {found[name]}; "
                "run `make setup` (or `pip install -e .`) to get the pinned versions"
            )
    return found


def to_tf_graph_def(graph_def: Any) -> Any:
    """``graph_def`` as TensorFlow's own ``GraphDef`` class (a TensorBoard-proto GraphDef is re-read)."""
    tf = import_tensorflow()
    if isinstance(graph_def, tf.compat.v1.GraphDef):
        return graph_def
    return tf.compat.v1.GraphDef.FromString(graph_def.SerializeToString())


def registered_op_list() -> tuple[str, Any]:
    """(TensorFlow version, ``OpList``): every op the installed TensorFlow registers on import.

    The tools that write the shipped op files (``tools/gen_*.py``) read the registry here; the
    package's own decisions never do (they read those files).
    """
    tf = import_tensorflow()
    from tensorflow.core.framework import op_def_pb2
    from tensorflow.python.client import pywrap_tf_session

    buffer = pywrap_tf_session.TF_GetAllOpList()
    try:
        return tf.__version__, op_def_pb2.OpList.FromString(pywrap_tf_session.TF_GetBuffer(buffer))
    finally:
        pywrap_tf_session.TF_DeleteBuffer(buffer)
