"""Installed without TensorFlow (pip install graphfreeze[runtime]): inspect, scan and the runner work; the rest says
in one line how to add TensorFlow.

The venv is built without a download: ``python -m venv --without-pip``, then a ``.pth`` file puts the
repository and a folder of links on its path. The folder links only the packages that the TF-free
commands import (found by running them here, with TensorFlow blocked): TensorFlow, Keras and tf2onnx
are simply not there, as after ``pip install graphfreeze[runtime]``. pyproject.toml is checked to ask
for nothing more in that install, and for everything those commands import (each package's
distribution asked for, or required by one that is).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import numpy as np
import pytest

from graphfreeze_helpers.export import export

from conftest import ROOT

TF_PACKAGES = {"tensorflow", "keras", "tf2onnx", "tf-keras", "tensorflow-cpu"}
# What the TF-free commands import: inspect and scan, and each runtime loading a model.
DISCOVER = """
import contextlib, io, json, sys
exec(__import__("graphfreeze_helpers.runner", fromlist=["runner"]).blocker_source())
from graphfreeze_helpers import cli, runner
import cv2
with contextlib.redirect_stdout(io.StringIO()):
    assert cli.main(["inspect", sys.argv[1]]) == 0 and cli.main(["scan", sys.argv[1]]) == 0
for model in sys.argv[2:]:
    runner.load_runner(model)
site = sys.argv[0]
print(json.dumps(sorted({name.split(".")[0] for name, module in list(sys.modules.items())
                         if str(getattr(module, "__file__", "") or "").startswith(site)})))
"""


def _requirement_names(requirements: list[str]) -> set[str]:
    return {r.split(";")[0].split("[")[0].split("<")[0].split(">")[0].split("=")[0].strip().lower()
            for r in requirements}


def test_the_tf_free_install_asks_for_no_tensorflow():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    assert not _requirement_names(project["dependencies"] + extras["runtime"]) & TF_PACKAGES
    assert {"tensorflow", "keras"} <= _requirement_names(extras["tf"])
    assert "graphfreeze[tf,runtime]" in extras["export"] and "graphfreeze[export]" in extras["dev"]  # make: all


def _distribution(name: str) -> str:
    """A distribution's name as pip compares them: lowercase, runs of ``-_.`` as one ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _required_through(names: set[str]) -> set[str]:
    """``names`` and every distribution they require, as installed here (the extras they are asked with aside)."""
    from importlib import metadata

    from packaging.requirements import Requirement

    found, todo = set(), [_distribution(n) for n in names]
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        try:
            requirements = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for text in requirements:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(_distribution(requirement.name))
    return found


def test_every_package_the_tf_free_commands_import_is_asked_for(tf_free_venv):
    """What inspect, scan and the runner import comes with ``pip install graphfreeze[runtime]``: each module's
    distribution is asked for by pyproject.toml, or required by one that is."""
    from importlib import metadata

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = _requirement_names(project["dependencies"] + project["optional-dependencies"]["runtime"])
    installed = _required_through(declared)
    by_module = metadata.packages_distributions()
    unasked = {module: by_module[module] for module in tf_free_venv["needed"] if module in by_module
               and not {_distribution(d) for d in by_module[module]} & installed}
    assert not unasked, f"imported without TensorFlow but not asked for in pyproject.toml: {unasked}"
    assert {"numpy", "onnxruntime", "ai-edge-litert", "openvino"} <= installed


@pytest.fixture(scope="module")
def tf_free_venv(tmp_path_factory, saved_pb, frozen_graph, digits):
    """A venv whose path holds the repository and links to the packages the TF-free commands need, nothing else."""
    folder = tmp_path_factory.mktemp("tf_free")
    models = [export(frozen_graph, to, inputs=[digits.x_test[:8]]) for to in ("tflite", "onnx", "openvino")]
    paths = [models[0].save(folder / "m.tflite"), models[1].save(folder / "m.onnx"), models[2].save(folder / "ir")]
    site = Path(sysconfig.get_paths()["purelib"])
    found = subprocess.run([sys.executable, "-c", DISCOVER.replace("site = sys.argv[0]", f"site = {str(site)!r}"),
                            str(saved_pb), *map(str, paths)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert found.returncode == 0, found.stderr
    needed = set(json.loads(found.stdout.strip().splitlines()[-1])) - {"_distutils_hack"}
    needed = {name for name in needed if not name.startswith("__editable__")}
    assert not needed & {"tensorflow", "keras", "tf2onnx"}
    links = folder / "site"
    links.mkdir()
    for entry in site.iterdir():  # each needed package, its compiled module files and the bundled .libs folders
        stem = entry.name.split(".")[0].split("-")[0]
        if stem in needed and not entry.name.endswith((".dist-info", ".pth")) or entry.name.endswith(".libs"):
            (links / entry.name).symlink_to(entry)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder / "venv")], check=True, timeout=120)
    python = folder / "venv" / "bin" / "python"
    venv_site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip()
    Path(venv_site, "graphfreeze.pth").write_text(f"{ROOT}\n{links}\n")
    np.save(folder / "x.npy", digits.x_test[:5])
    return {"python": python, "folder": folder, "models": paths, "needed": needed}


def _run(venv, *args: str, module: str = "graphfreeze_helpers.cli") -> subprocess.CompletedProcess:
    return subprocess.run([str(venv["python"]), "-m", module, *map(str, args)], capture_output=True, text=True,
                          timeout=300, cwd=venv["folder"], env={"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "2"})


def test_tensorflow_is_not_there(tf_free_venv):
    result = subprocess.run([str(tf_free_venv["python"]), "-c", "import tensorflow"], capture_output=True, text=True)
    assert result.returncode != 0 and "No module named 'tensorflow'" in result.stderr


def test_inspect_scan_and_the_runner_work(tf_free_venv, saved_pb):
    assert _run(tf_free_venv, "inspect", saved_pb).returncode == 0
    scan = _run(tf_free_venv, "scan", saved_pb)
    assert scan.returncode == 0 and "clean" in scan.stdout
    outputs = []
    for i, model in enumerate(tf_free_venv["models"]):
        model = model if model.suffix else next(model.glob("*.xml"))
        ran = _run(tf_free_venv, model, "--input", "x.npy", "-o", f"y{i}.npy", module="graphfreeze_helpers.runner")
        assert ran.returncode == 0, ran.stderr
        outputs.append(np.load(tf_free_venv["folder"] / f"y{i}.npy"))
    for other in outputs[1:]:
        np.testing.assert_allclose(other, outputs[0], atol=1e-5)


@pytest.mark.parametrize("command", [["freeze", "m.keras", "-o", "m.pb"], ["run", "{pb}", "--input", "x.npy", "-o",
                                     "y.npy"], ["export", "{pb}", "--to", "onnx", "-o", "m2.onnx"]],
                         ids=lambda c: c[0])
def test_a_command_that_needs_tensorflow_says_how_to_add_it(tf_free_venv, saved_pb, command):
    (tf_free_venv["folder"] / "m.keras").write_bytes(b"PK")
    result = _run(tf_free_venv, *[str(saved_pb) if part == "{pb}" else part for part in command])
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert lines[0].startswith("graphfreeze: error: ") and "graphfreeze[tf]" in lines[0], lines[0]
