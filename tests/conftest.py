"""Shared fixtures: one small trained model and its frozen graph per test session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def digits():
    from graphfreeze_helpers.data import load_digits

    return load_digits()


@pytest.fixture(scope="session")
def trained_model(digits):
    """The tutorial CNN, narrow and briefly trained (BatchNorm statistics are not trivial)."""
    from graphfreeze_helpers.model import build_model, train

    model = build_model(width=8, depth=2)
    train(model, digits, epochs=2)
    return model


@pytest.fixture(scope="session")
def frozen_graph(trained_model, digits):
    from graphfreeze_helpers.freeze import freeze

    return freeze(trained_model, inputs=[digits.x_test[:32]])


@pytest.fixture(scope="session")
def saved_pb(frozen_graph, tmp_path_factory) -> Path:
    """A frozen ``.pb`` with its sidecar, written once; tests must not modify it."""
    path = tmp_path_factory.mktemp("graph") / "digits.pb"
    frozen_graph.save(path)
    return path


@pytest.fixture(scope="session")
def keras_file(trained_model, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("keras") / "digits.keras"
    trained_model.save(path)
    return path


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``graphfreeze ARGS`` in a subprocess, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "graphfreeze_helpers.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def assert_refusal(result: subprocess.CompletedProcess, contains: str = "") -> list[str]:
    """The contract for an unsafe graph: exit 3, ``graphfreeze: error: ...``, then one ``graphfreeze: refused: ...``
    line per op (node, op, function, why), no traceback; ``contains`` is in the op lines."""
    assert result.returncode == 3, (result.returncode, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and lines[0].startswith("graphfreeze: error: refusing"), result.stderr
    assert len(lines) > 1 and all(line.startswith("graphfreeze: refused: ") for line in lines[1:]), result.stderr
    assert "Traceback" not in result.stderr
    assert contains.lower() in "\n".join(lines[1:]).lower(), result.stderr
    return lines


def assert_one_line_error(result: subprocess.CompletedProcess, code: int = 2, contains: str = "") -> str:
    """The contract for a user's mistake: exit ``code``, one stderr line, no traceback."""
    assert result.returncode == code, (result.returncode, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("graphfreeze: error: "), lines[0]
    assert "Traceback" not in result.stderr
    assert contains.lower() in lines[0].lower(), lines[0]
    return lines[0]
