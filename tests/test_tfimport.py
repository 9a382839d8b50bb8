import subprocess
import sys

import pytest

from graphfreeze_helpers.errors import GraphFreezeError


def test_import_tensorflow_is_silent_on_stderr():
    code = (
        "from graphfreeze_helpers.tfimport import import_tensorflow\n"
        "tf = import_tensorflow()\n"
        "import keras\n"
        "keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])(tf.zeros((1, 2)))\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_plain_import_is_noisy_which_is_why_we_quiet_it():
    result = subprocess.run([sys.executable, "-c", "import tensorflow"], capture_output=True, text=True, timeout=120)
    assert result.stderr.strip(), "TensorFlow no longer logs at import; tfimport.import_tensorflow may be simplified"


def _import_with_blocked(module: str) -> subprocess.CompletedProcess:
    code = (
        "import sys, types\n"
        f"sys.modules[{module!r}] = None\n"  # makes `import {module}` fail
        "from graphfreeze_helpers.tfimport import import_tensorflow\n"
        "import_tensorflow()\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_real_errors_still_show():
    """A broken dependency of TensorFlow's is shown as it is, not hidden and not called a missing TensorFlow."""
    result = _import_with_blocked("absl")
    assert result.returncode != 0 and "ModuleNotFoundError" in result.stderr and "absl" in result.stderr
    assert "graphfreeze[tf]" not in result.stderr


def test_missing_keras_says_how_to_add_it():
    result = _import_with_blocked("keras")
    assert result.returncode != 0 and "MissingTensorFlowError" in result.stderr
    assert "keras is missing" in result.stderr and "pip install 'graphfreeze[tf]'" in result.stderr


def test_package_import_does_not_import_tensorflow():
    code = (
        "import sys, graphfreeze_helpers, graphfreeze_helpers.cli, graphfreeze_helpers.graphfile; "
        "print('tensorflow' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "False"


def test_version_guard(monkeypatch):
    from graphfreeze_helpers import tfimport

    tfimport.check_versions()
    monkeypatch.setitem(tfimport.SUPPORTED, "tensorflow", "9.9")
    with pytest.raises(GraphFreezeError, match="needs tensorflow 9.9.x but found 2."):
        tfimport.check_versions()


def test_progress_bar_never_writes_to_stderr(capsys):
    from graphfreeze_helpers.formatting import progress_bar

    bar = progress_bar(total=2, desc="work")
    bar.update(2)
    bar.close()
    captured = capsys.readouterr()
    assert captured.err == ""  # a stderr stream is a red box under the cell in JupyterLab
