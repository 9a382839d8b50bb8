"""savedmodel.py and export --to savedmodel: a frozen graph wrapped in a SavedModel with a serving_default signature."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from graphfreeze_helpers.errors import InputError, OutputExistsError
from graphfreeze_helpers.export import export
from graphfreeze_helpers.savedmodel import signature_key

from conftest import assert_one_line_error, run_cli


def test_signature_keys():
    assert [signature_key(n) for n in ("image:0", "Identity:0", "Identity:1", "a/b:0", "x")] == [
        "image", "Identity", "Identity_1", "a_b", "x"]


def test_export_is_loaded_back_and_its_signature_matches_the_frozen_graph(frozen_graph, trained_model, digits,
                                                                          tmp_path):
    import tensorflow as tf

    folder = tmp_path / "sm"
    exported = export(frozen_graph, "savedmodel", path=folder, inputs=[digits.x_test[:32]])
    assert exported.max_abs_diff <= 1e-5 and exported.input_keys == ["image"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sm"]  # no staging folder left
    signature = tf.saved_model.load(str(folder)).signatures["serving_default"]
    out = signature(image=tf.constant(digits.x_test[:5]))
    assert list(out) == exported.output_keys
    np.testing.assert_allclose(out[exported.output_keys[0]].numpy(), trained_model(digits.x_test[:5], training=False),
                               atol=1e-5)
    with pytest.raises(OutputExistsError):
        export(frozen_graph, "savedmodel", path=folder)
    export(frozen_graph, "savedmodel", path=folder, force=True)  # an earlier SavedModel may be replaced
    (tmp_path / "other").mkdir()
    with pytest.raises(InputError, match="not a SavedModel"):
        export(frozen_graph, "savedmodel", path=tmp_path / "other", force=True)
    with pytest.raises(InputError, match="path=FOLDER"):
        export(frozen_graph, "savedmodel")


def test_cli_export_savedmodel_and_saved_model_cli_lists_it(saved_pb, tmp_path):
    out = tmp_path / "digits_savedmodel"
    result = run_cli("export", saved_pb, "--to", "savedmodel", "-o", out, "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["signature"] == {"inputs": ["image"], "outputs": ["Identity"]} and payload["max_abs_diff"] <= 1e-5
    cli = Path(shutil.which("saved_model_cli") or Path(__import__("sys").executable).with_name("saved_model_cli"))
    shown = subprocess.run([str(cli), "show", "--dir", str(out), "--all"], capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert "signature_def['serving_default']" in shown.stdout and "inputs['image']" in shown.stdout
    assert "outputs['Identity']" in shown.stdout and "shape: (-1, 8, 8, 1)" in shown.stdout
    assert_one_line_error(run_cli("export", saved_pb, "--to", "savedmodel", "-o", out), 2, "already exists")
