"""Large graphs on small ones: constants fed from NumPy (bigload), thresholds lowered so a 1 MiB kernel counts."""

from __future__ import annotations

import numpy as np
import pytest

from graphfreeze_helpers import bigload
from graphfreeze_helpers.tensorproto import tensor_to_numpy


@pytest.fixture(scope="module")
def mlp():
    """An MLP whose first kernel takes exactly 1 MiB (256 x 1024 float32), the smallest constant fed."""
    from graphfreeze_helpers.tfimport import import_tensorflow

    import_tensorflow()
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((256,), name="x")
    hidden = keras.layers.Dense(1024, activation="relu")(inputs)
    return keras.Model(inputs, keras.layers.Dense(10)(hidden))


@pytest.fixture(scope="module")
def frozen_mlp(mlp):
    from graphfreeze_helpers.freeze import freeze

    return freeze(mlp)


def big_constants(graph_def):
    return [node.name for node in bigload.fed_constants(graph_def)]


def test_only_the_large_constant_is_fed(frozen_mlp):
    names = big_constants(frozen_mlp.graph_def)
    assert len(names) == 1
    assert bigload.fed_bytes(frozen_mlp.graph_def) == 256 * 1024 * 4
    assert not bigload.is_large(frozen_mlp.graph_def)  # far below LARGE_GRAPH_BYTES


def test_split_constants_keeps_the_graph_and_aligns_the_values(frozen_mlp):
    graph_def = frozen_mlp.graph_def
    before = graph_def.SerializeToString()
    small, values = bigload.split_constants(graph_def)
    assert graph_def.SerializeToString() == before, "the argument is never changed"
    [name] = values
    node = next(n for n in small.node if n.name == name)
    assert node.op == "Placeholder" and not node.input
    assert [d.size for d in node.attr["shape"].shape.dim] == [256, 1024]
    original = next(n for n in graph_def.node if n.name == name)
    np.testing.assert_array_equal(values[name], tensor_to_numpy(original.attr["value"].tensor))
    assert values[name].ctypes.data % 64 == 0
    assert [n.name for n in small.node] == [n.name for n in graph_def.node]
    assert small.ByteSize() < 100_000


def test_fed_loader_matches_the_model_and_the_import_loader(frozen_mlp, mlp):
    from graphfreeze_helpers.load import LoadedGraph

    x = np.random.default_rng(1).random((3, 256), dtype=np.float32)
    fed = LoadedGraph(frozen_mlp.graph_def, frozen_mlp.inputs, frozen_mlp.outputs, method="fed")
    imported = LoadedGraph(frozen_mlp.graph_def, frozen_mlp.inputs, frozen_mlp.outputs, method="import")
    assert fed.outputs == imported.outputs
    np.testing.assert_allclose(fed(x), imported(x), atol=1e-5)
    np.testing.assert_allclose(fed(x), mlp(x, training=False).numpy(), atol=1e-5)
    assert fed.run({"x": x})[fed.outputs[0].name].shape == (3, 10)


def test_auto_feeds_a_graph_above_the_threshold(frozen_mlp, monkeypatch):
    from graphfreeze_helpers.load import LoadedGraph, choose_method

    assert choose_method(frozen_mlp.graph_def) == "import"
    monkeypatch.setattr(bigload, "LARGE_GRAPH_BYTES", 1 << 20)
    assert choose_method(frozen_mlp.graph_def) == "fed"
    assert LoadedGraph(frozen_mlp.graph_def, frozen_mlp.inputs, frozen_mlp.outputs).method == "fed"


# --- bigfreeze: constants without copies, the file written node by node --------------------------


def node_set(graph_def):
    """Nodes as comparable text, order and attr-map order aside."""
    from google.protobuf import text_format

    out = {}
    for node in graph_def.node:
        attrs = {key: text_format.MessageToString(value, as_one_line=True) for key, value in node.attr.items()
                 if not key.startswith("_")}
        out[node.name] = (node.op, tuple(node.input), tuple(sorted(attrs.items())))
    return out


def test_direct_constants_match_tensorflows_converter(mlp):
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    from graphfreeze_helpers.bigfreeze import constants_from_variables
    from graphfreeze_helpers.freeze import trace_keras

    function = trace_keras(mlp)
    seen = []
    direct = constants_from_variables(function, progress=lambda stage, done, total: seen.append((stage, done, total)))
    theirs = convert_variables_to_constants_v2(function, lower_control_flow=False).graph.as_graph_def()
    assert node_set(direct.graph_def) == node_set(theirs)
    assert [t.name for t in direct.inputs] == ["x:0"] and direct.outputs[0].shape == (None, 10)
    assert direct.constant_bytes == (256 * 1024 + 1024 + 1024 * 10 + 10) * 4
    assert seen[-1] == ("constants", direct.constant_bytes, direct.constant_bytes)


def test_a_graph_with_functions_takes_tensorflows_way():
    from graphfreeze_helpers.bigfreeze import constants_from_variables
    from graphfreeze_helpers.freeze import trace_keras
    from graphfreeze_helpers.tfimport import import_tensorflow

    import_tensorflow()
    import keras

    inputs = keras.Input((3, 2), name="sequence")
    model = keras.Model(inputs, keras.layers.LSTM(2)(inputs))  # a While loop: its body is a library function
    assert constants_from_variables(trace_keras(model)) is None


def test_write_graph_def_writes_what_serialize_does(frozen_mlp, tmp_path):
    import hashlib

    from graphfreeze_helpers.bigfreeze import write_graph_def

    path = tmp_path / "g.pb"
    with open(path, "wb") as handle:
        size, sha = write_graph_def(handle, frozen_mlp.graph_def)
    data = frozen_mlp.graph_def.SerializeToString()
    assert path.read_bytes() == data
    assert (size, sha) == (len(data), hashlib.sha256(data).hexdigest())


def test_a_large_model_is_frozen_directly_verified_and_streamed(mlp, tmp_path, monkeypatch):
    import json

    from graphfreeze_helpers.freeze import freeze
    from graphfreeze_helpers.load import load_frozen

    monkeypatch.setattr(bigload, "LARGE_GRAPH_BYTES", 1 << 20)
    stages = []
    frozen = freeze(mlp, progress=lambda stage, done, total: stages.append(stage))
    assert frozen.concrete_function is None, "the direct way, not TensorFlow's converter"
    assert frozen.verification.ok
    frozen.save(tmp_path / "m.pb", progress=lambda stage, done, total: stages.append(stage))
    assert list(dict.fromkeys(stages)) == ["load", "constants", "reference", "verify", "write"]
    sidecar = json.loads((tmp_path / "m.json").read_text())
    data = (tmp_path / "m.pb").read_bytes()
    assert sidecar["bytes"] == len(data) and sidecar["nodes"] == frozen.nodes
    loaded = load_frozen(tmp_path / "m.pb")  # the sidecar's sha256 is checked on load
    assert loaded.method == "fed"
    x = np.random.default_rng(2).random((2, 256), dtype=np.float32)
    np.testing.assert_allclose(loaded(x), mlp(x, training=False).numpy(), atol=1e-5)


def test_stage_progress_draws_one_line_a_stage():
    import io

    from graphfreeze_helpers.bigfreeze import StageProgress

    stream = io.StringIO()
    progress = StageProgress(stream, interval=0)
    progress("load", 0, 0)
    progress("constants", 1 << 20, 2 << 20)
    progress("constants", 2 << 20, 2 << 20)
    progress.close()
    lines = [line.split("\r")[-1].replace("\x1b[K", "") for line in stream.getvalue().split("\n") if line]
    assert lines == ["freeze: load", "freeze: constants 2.0 MB / 2.0 MB"]


def run_in_terminal(*args, cwd):
    """Run ``graphfreeze ARGS`` with stdout and stderr on a pseudo-terminal; return (exit code, what it showed)."""
    import os
    import pty
    import subprocess
    import sys

    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "graphfreeze_helpers.cli", *map(str, args)], cwd=cwd,
                               stdin=subprocess.DEVNULL, stdout=follower, stderr=follower)
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    return process.wait(timeout=300), shown.decode()


@pytest.mark.parametrize("json_output", [False, True], ids=["text", "json"])
def test_freeze_shows_stages_on_a_terminal_only_without_json(keras_file, tmp_path, json_output):
    code, shown = run_in_terminal("freeze", keras_file, "-o", tmp_path / "m.pb", *(["--json"] if json_output else []),
                                  cwd=tmp_path)
    assert code == 0, shown
    if json_output:
        assert "freeze:" not in shown
        import json

        assert json.loads(shown.strip())["output"].endswith("m.pb")
    else:
        assert "\rfreeze: load" in shown and "wrote " in shown


# --- scaling: the measurements benchmarks/scale.py and notebook 08 make ---------------------------


def test_hidden_width_hits_the_parameter_count():
    from graphfreeze_helpers.scaling import hidden_width

    for params in (1_000_000, 250_000_000, 450_000_000):
        h = hidden_width(params)
        count = 1024 * h + 3 * h * h + 10 * h + 4 * h + 10
        assert abs(count - params) / params < 0.005


def test_growth_exponent_is_the_log_log_slope():
    from graphfreeze_helpers.scaling import growth_exponent

    assert growth_exponent([1e6, 1e7, 1e8], [3.0, 30.0, 300.0]) == pytest.approx(1.0)
    assert growth_exponent([1e6, 1e7, 1e8], [5.0, 5.0, 5.0]) == pytest.approx(0.0)
    assert np.isnan(growth_exponent([1e6], [1.0]))


def test_measure_command_reports_the_childs_own_peak_and_its_last_error_line():
    import sys

    from graphfreeze_helpers.scaling import measure_command

    grown = measure_command([sys.executable, "-c", "b = bytearray(200 * 2**20); b[::4096] = b'x' * len(b[::4096])"],
                            stage="grow", params=1)
    assert grown.ok and grown.peak_bytes > 200 * 2**20
    failed = measure_command([sys.executable, "-c", "import sys; sys.exit('graphfreeze: error: too big')"],
                             stage="fail", params=1)
    assert not failed.ok and failed.note == "graphfreeze: error: too big"


def test_a_large_graph_exports_to_onnx_with_its_weights_as_initializers(frozen_mlp, monkeypatch):
    import onnx

    from graphfreeze_helpers.export import export

    monkeypatch.setattr(bigload, "LARGE_GRAPH_BYTES", 1 << 20)
    exported = export(frozen_mlp, "onnx")
    assert exported.verification.ok
    model = onnx.load_from_string(exported.data)
    [kernel] = big_constants(frozen_mlp.graph_def)
    assert [value.name for value in model.graph.input] == ["x:0"]
    assert f"{kernel}:0" in {init.name for init in model.graph.initializer}


def test_a_large_graph_is_optimized_with_its_constants_kept_out_of_grappler(frozen_mlp, monkeypatch):
    from graphfreeze_helpers.optimize import optimize

    monkeypatch.setattr(bigload, "LARGE_GRAPH_BYTES", 1 << 20)
    result = optimize(frozen_mlp)
    assert result.verification.ok
    [kernel] = big_constants(frozen_mlp.graph_def)
    node = next(n for n in result.graph_def.node if n.name == kernel)
    before = next(n for n in frozen_mlp.graph_def.node if n.name == kernel)
    assert node.op == "Const"
    value = tensor_to_numpy(node.attr["value"].tensor)
    np.testing.assert_array_equal(value, tensor_to_numpy(before.attr["value"].tensor))


def test_size_bound_never_undercounts(frozen_mlp):
    exact = frozen_mlp.graph_def.ByteSize()
    assert exact <= bigload.size_bound(frozen_mlp.graph_def) <= exact + 64 * 1024
