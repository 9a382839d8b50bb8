"""Freezing TF1 artifacts (issue 12): checkpoints, TF1 SavedModels, and SavedModels TF2 cannot revive.

Every artifact is written at test time by :mod:`tf1_graphs` (``tf.compat.v1``, nothing downloaded).
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import tf1_graphs

from graphfreeze_helpers.errors import GraphFormatError, InputError, ModelLoadError, TensorNameError
from graphfreeze_helpers.freeze import freeze
from graphfreeze_helpers.freeze_tf1 import (
    CHECKPOINT_LOADER,
    V1_SAVED_MODEL_LOADER,
    find_checkpoint,
    likely_outputs,
    read_meta_graph,
)

from conftest import assert_one_line_error, run_cli


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory):
    """A TF1 checkpoint of the v1 cond + while graph, trained one step (tests must not modify it)."""
    return tf1_graphs.write_checkpoint(tmp_path_factory.mktemp("checkpoint"))


@pytest.fixture(scope="session")
def slots_saved_model(tmp_path_factory):
    return tf1_graphs.write_saved_model_with_slots(tmp_path_factory.mktemp("slots") / "model")


def _copy_checkpoint(checkpoint, tmp_path):
    folder = tmp_path / "ckpt"
    shutil.copytree(checkpoint.path.parent, folder)
    return folder


def _frozen_outputs(frozen, feed):
    return tf1_graphs.run_graph_def(frozen.graph_def, feed, [t.name for t in frozen.outputs])


def test_checkpoint_meta_freezes_verified_without_training_parts(checkpoint):
    frozen = freeze(checkpoint.path, outputs=["probabilities", "classes:0"])
    assert frozen.loader == CHECKPOINT_LOADER
    assert [t.name for t in frozen.inputs] == ["image:0"]
    assert [t.name for t in frozen.outputs] == ["probabilities:0", "classes:0"]
    assert frozen.verification is not None and frozen.verification.ok
    ops = {node.op for node in frozen.graph_def.node}
    assert not ops & {"VariableV2", "Assign", "ApplyGradientDescent", "SaveV2", "RestoreV2"}, ops
    assert {"Enter", "Exit", "Switch", "Merge"} <= ops  # the v1 cond and while survive
    assert not any(node.name.startswith(("gradients/", "save/", "labels")) for node in frozen.graph_def.node)
    # the frozen graph gives what the live Session gave just before saving (trained values, not initial)
    got = _frozen_outputs(frozen, checkpoint.feed)
    np.testing.assert_allclose(got["probabilities:0"], checkpoint.expected["probabilities:0"], rtol=1e-6)
    np.testing.assert_array_equal(got["classes:0"], checkpoint.expected["classes:0"])


def test_checkpoint_verifies_on_real_inputs_by_name(checkpoint):
    frozen = freeze(checkpoint.path, outputs=["classes"], inputs={"image": checkpoint.feed["image:0"]})
    assert frozen.verification.ok and frozen.verification.samples == len(checkpoint.feed["image:0"])


def test_checkpoint_folder_freezes_from_the_cli(checkpoint, tmp_path):
    out = tmp_path / "out.pb"
    image = tmp_path / "image.npy"
    np.save(image, checkpoint.feed["image:0"])
    result = run_cli(
        "freeze",
        checkpoint.path.parent,
        "-o",
        out,
        "--outputs",
        "probabilities",
        "classes",
        "--input",
        f"image={image}",
        "--rtol",
        "0",
    )
    assert result.returncode == 0, result.stderr
    assert f"loader  {CHECKPOINT_LOADER}" in result.stdout
    assert "(tolerance 1e-05)" in result.stdout  # --rtol 0: the absolute part alone
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["loader"] == CHECKPOINT_LOADER
    assert [t["name"] for t in sidecar["outputs"]] == ["probabilities:0", "classes:0"]
    assert sidecar["max_abs_diff"] <= sidecar["tolerance"] and sidecar["rtol"] == 0


def test_likely_outputs_skip_the_loss_and_training_ops(checkpoint):
    meta = read_meta_graph(checkpoint.path)
    assert likely_outputs(meta.graph_def) == ["probabilities:0", "classes:0"]


def test_checkpoint_without_outputs_lists_likely_ones_in_one_line(checkpoint, tmp_path):
    with pytest.raises(InputError, match="probabilities:0, classes:0"):
        freeze(checkpoint.path)
    out = tmp_path / "out.pb"
    line = assert_one_line_error(run_cli("freeze", checkpoint.path, "-o", out), contains="--outputs")
    assert "likely outputs" in line and "probabilities:0, classes:0" in line
    assert "loss" not in line and "gradients" not in line
    assert not list(tmp_path.iterdir())


def test_unknown_output_is_named_with_close_names(checkpoint):
    with pytest.raises(TensorNameError, match="no output 'probabilitys:0' in the graph; close names: probabilities"):
        freeze(checkpoint.path, outputs=["probabilitys"])


def test_the_variables_files_name_the_checkpoint_too(checkpoint):
    prefix = checkpoint.path.parent / "model.ckpt"
    for given in (prefix.with_suffix(".ckpt.index"), next(checkpoint.path.parent.glob("model.ckpt.data-*"))):
        assert find_checkpoint(given).meta == checkpoint.path


def test_missing_variables_file_is_one_line_and_writes_nothing(checkpoint, tmp_path):
    folder = _copy_checkpoint(checkpoint, tmp_path)
    for data in folder.glob("model.ckpt.data-*"):
        data.unlink()
    with pytest.raises(ModelLoadError, match="no variables file"):
        find_checkpoint(folder / "model.ckpt.meta")
    out = tmp_path / "out.pb"
    assert_one_line_error(
        run_cli("freeze", folder / "model.ckpt.meta", "-o", out, "--outputs", "classes"), contains="no variables file"
    )
    assert not out.exists() and not out.with_suffix(".json").exists()


def _with_meta(checkpoint, tmp_path, change):
    """A copy of the checkpoint whose ``.meta`` graph ``change(meta_graph)`` altered; its ``.meta`` path."""
    from tensorboard.compat.proto import meta_graph_pb2

    meta = _copy_checkpoint(checkpoint, tmp_path) / checkpoint.path.name
    meta_graph = meta_graph_pb2.MetaGraphDef.FromString(meta.read_bytes())
    change(meta_graph)
    meta.write_bytes(meta_graph.SerializeToString())
    return meta


def _add_file_reader(meta_graph, *, wired: bool, path: object = "/etc/hostname") -> None:
    """A ReadFile of ``path``; ``wired``: the output ``classes`` waits for it (a control input)."""
    const = meta_graph.graph_def.node.add(name="leak/path", op="Const")
    const.attr["dtype"].type = 7
    const.attr["value"].tensor.dtype = 7
    const.attr["value"].tensor.string_val.append(str(path).encode())
    meta_graph.graph_def.node.add(name="leak", op="ReadFile", input=["leak/path"])
    if wired:
        next(n for n in meta_graph.graph_def.node if n.name == "classes").input.append("^leak")


def _hijack_restore(meta_graph) -> None:
    """The saver's restore op replaced by a node that writes a file."""
    meta_graph.graph_def.node.add(name="write", op="WriteFile", input=["save/Const", "save/Const"])
    meta_graph.saver_def.restore_op_name = "write"


def test_a_checkpoint_graph_is_scanned_before_it_is_restored(checkpoint, tmp_path):
    """What restoring and freezing runs (the restore op, what the outputs need) is scanned; the training rest is not."""
    from tensorboard.compat.proto import meta_graph_pb2

    from graphfreeze_helpers import safety
    from graphfreeze_helpers.errors import UnsafeGraphError

    assert safety.check_checkpoint_graph(checkpoint.path, ["classes:0", "probabilities"]).clean
    whole = meta_graph_pb2.MetaGraphDef.FromString(checkpoint.path.read_bytes()).graph_def
    assert "ApplyGradientDescent" in {u.op for u in safety.check(whole).not_known_safe}  # never run by a freeze
    idle = _with_meta(checkpoint, tmp_path / "idle", lambda m: _add_file_reader(m, wired=False))
    assert safety.check_checkpoint_graph(idle, ["classes"]).clean
    wired = _with_meta(checkpoint, tmp_path / "wired", lambda m: _add_file_reader(m, wired=True))
    refusal = r"(?s)^refusing to load checkpoint graph .*\ngraphfreeze: refused: leak \(ReadFile\)"
    with pytest.raises(UnsafeGraphError, match=refusal):
        freeze(wired, outputs=["classes"], inputs={"image": checkpoint.feed["image:0"]})
    hijacked = _with_meta(checkpoint, tmp_path / "hijacked", _hijack_restore)
    with pytest.raises(UnsafeGraphError, match=r"write \(WriteFile\)"):
        freeze(hijacked, outputs=["classes"])
    (tmp_path / "bad.meta").write_bytes(b"\xff\xff not a protobuf")
    with pytest.raises(GraphFormatError, match="MetaGraphDef"):
        safety.check_checkpoint_graph(tmp_path / "bad.meta", ["classes"])


def test_a_refused_checkpoint_freezes_with_allow_unsafe(checkpoint, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("read when the graph runs")
    wired = _with_meta(checkpoint, tmp_path, lambda m: _add_file_reader(m, wired=True, path=secret))
    frozen = freeze(wired, outputs=["classes"], inputs={"image": checkpoint.feed["image:0"]}, allow_unsafe=True)
    assert frozen.verification.ok


def test_a_copied_checkpoint_folder_reads_its_own_files(checkpoint, tmp_path):
    """TF1's ``checkpoint`` file names an absolute path: the copy's files win over the original's."""
    assert str(checkpoint.path.parent) in (checkpoint.path.parent / "checkpoint").read_text()
    folder = _copy_checkpoint(checkpoint, tmp_path)
    assert find_checkpoint(folder).meta == folder / "model.ckpt.meta"


def test_wrong_paths_are_errors(checkpoint, tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        freeze(tmp_path / "nowhere.meta", outputs=["classes"])
    folder = _copy_checkpoint(checkpoint, tmp_path)
    (folder / "checkpoint").write_text('model_checkpoint_path: "other.ckpt"\n')
    with pytest.raises(ModelLoadError, match="other.ckpt"):
        freeze(folder, outputs=["classes"])
    (folder / "model.ckpt.meta").write_bytes(b"not a protobuf at all \xff\xff")
    with pytest.raises(GraphFormatError, match="MetaGraphDef"):
        freeze(folder / "model.ckpt.meta", outputs=["classes"])


@pytest.mark.parametrize("writer", ["write_saved_model_simple_save", "write_saved_model_builder"])
def test_tf1_saved_models_freeze(writer, tmp_path):
    artifact = getattr(tf1_graphs, writer)(tmp_path / "model")
    with pytest.raises(InputError, match="checkpoint only"):
        freeze(artifact.path, outputs=["scores"])
    frozen = freeze(artifact.path)
    assert frozen.loader == "tf.saved_model.load (TF2)"
    assert frozen.verification.ok
    got = tf1_graphs.run_graph_def(
        frozen.graph_def, {frozen.inputs[0].name: artifact.feed["features:0"]}, [frozen.outputs[0].name]
    )
    np.testing.assert_allclose(got[frozen.outputs[0].name], artifact.expected["scores:0"], rtol=1e-6)


def test_tf1_saved_model_with_v1_control_flow_freezes(tmp_path):
    artifact = tf1_graphs.write_saved_model_control_flow(tmp_path / "model")
    frozen = freeze(artifact.path)
    assert frozen.verification.ok
    assert {"Enter", "Exit", "Switch", "Merge"} <= {node.op for node in frozen.graph_def.node}
    got = _frozen_outputs(frozen, artifact.feed)
    np.testing.assert_allclose(got["probabilities:0"], artifact.expected["probabilities:0"], rtol=1e-6)
    np.testing.assert_array_equal(got["classes:0"], artifact.expected["classes:0"])


def test_a_saved_model_neither_loader_reads_is_one_line_naming_both(slots_saved_model, tmp_path):
    broken = tmp_path / "broken"
    (broken / "variables").mkdir(parents=True)
    shutil.copy(slots_saved_model.path / "saved_model.pb", broken)  # no variables beside it
    out = tmp_path / "out.pb"
    line = assert_one_line_error(run_cli("freeze", broken, "-o", out), contains="cannot load SavedModel")
    assert "the v1 loader failed too" in line
    assert not out.exists() and not out.with_suffix(".json").exists()


def test_tf2_loader_fails_on_optimizer_slots(slots_saved_model):
    """The fixture reproduces the Keras 2 failure the fallback exists for."""
    import tensorflow as tf

    with pytest.raises(AttributeError, match="add_slot"):
        tf.saved_model.load(str(slots_saved_model.path))


def test_saved_model_tf2_cannot_revive_falls_back_to_the_v1_loader(slots_saved_model, tmp_path):
    frozen = freeze(slots_saved_model.path)
    assert frozen.loader.startswith(V1_SAVED_MODEL_LOADER) and "add_slot" in frozen.loader
    assert "\n" not in frozen.loader
    assert frozen.verification is not None and frozen.verification.ok
    assert not frozen.graph_def.library.function  # flat: the signature's function calls are inlined
    name = frozen.outputs[0].name
    got = tf1_graphs.run_graph_def(frozen.graph_def, slots_saved_model.feed, [name])
    np.testing.assert_allclose(got[name], slots_saved_model.expected["StatefulPartitionedCall:0"], rtol=1e-6)

    out = tmp_path / "slots.pb"
    result = run_cli("freeze", slots_saved_model.path, "-o", out)
    assert result.returncode == 0, result.stderr
    loader_lines = [line for line in result.stdout.splitlines() if line.strip().startswith("loader")]
    assert len(loader_lines) == 1 and V1_SAVED_MODEL_LOADER in loader_lines[0], result.stdout
    assert json.loads(out.with_suffix(".json").read_text())["loader"] == frozen.loader


def test_checkpoint_cut_at_a_named_tensor_with_a_shape(checkpoint, tmp_path):
    """--inputs on a checkpoint: fed at the flattened float image, the uint8 decoding is cut away."""
    frozen = freeze(checkpoint.path, outputs=["probabilities", "classes"], input_names=["Reshape[?,192]"])
    assert [(t.name, t.dtype, t.shape) for t in frozen.inputs] == [("Reshape:0", "float32", (None, 192))]
    ops = {node.op for node in frozen.graph_def.node}
    assert "Cast" not in ops and "image" not in {node.name for node in frozen.graph_def.node}
    assert frozen.verification.ok
    flat = (checkpoint.feed["image:0"].astype(np.float32) / 255.0).reshape(-1, 192)
    got = _frozen_outputs(frozen, {"Reshape:0": flat})
    np.testing.assert_allclose(got["probabilities:0"], checkpoint.expected["probabilities:0"], rtol=1e-6)
    out = tmp_path / "cut.pb"
    result = run_cli("freeze", checkpoint.path, "-o", out, "--outputs", "classes", "--inputs", "Reshape[?,192]")
    assert result.returncode == 0, result.stderr
    assert "input   Reshape:0 float32" in result.stdout
    line = assert_one_line_error(run_cli("freeze", checkpoint.path, "-o", tmp_path / "x.pb", "--outputs", "classes",
                                         "--inputs", "Reshap"), 2, "no input 'Reshap:0'")
    assert "Reshape" in line
    with pytest.raises(InputError, match="TF1 checkpoint only"):
        freeze(tmp_path / "model.keras", input_names=["x"])
