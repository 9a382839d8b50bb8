"""graphfreeze_helpers.viewer and ``graphfreeze view``: Netron on 127.0.0.1, one graph, no network.

No browser here (tests/test_browser.py opens the viewer in Chromium and checks its nodes);
these tests talk HTTP to the server and check what it serves and refuses.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from graphfreeze_helpers import cli, viewer
from graphfreeze_helpers.errors import GraphFreezeError, InputError

from conftest import assert_one_line_error, run_cli


def tiny_graph(folder: Path) -> Path:
    """image -> Mul(weights) -> Softmax, written with TensorBoard's protos (no TensorFlow)."""
    from tensorboard.compat.proto import graph_pb2

    graph = graph_pb2.GraphDef()
    image = graph.node.add(name="image", op="Placeholder")
    image.attr["dtype"].type = 1
    weights = graph.node.add(name="weights", op="Const")
    weights.attr["dtype"].type = 1
    weights.attr["value"].tensor.dtype = 1
    weights.attr["value"].tensor.float_val.append(2.0)
    graph.node.add(name="scale_by_weights", op="Mul", input=["image", "weights"]).attr["T"].type = 1
    graph.node.add(name="probabilities", op="Softmax", input=["scale_by_weights"]).attr["T"].type = 1
    path = folder / "tiny.pb"
    path.write_bytes(graph.SerializeToString())
    return path


def _get(url: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def served(tmp_path):
    pytest.importorskip("netron")
    (tmp_path / "secret.txt").write_text("not for the browser")
    shown = viewer.serve(tiny_graph(tmp_path))
    yield shown
    shown.stop()


def test_the_page_points_at_the_graph_without_telemetry_or_release_date(served):
    status, headers, body = _get(served.url)
    page = body.decode()
    assert status == 200 and served.url.startswith("http://127.0.0.1:")
    assert '<meta name="file" content="/data/tiny.pb">' in page
    assert '<meta name="version" content="0.0.0">' in page  # Netron sends telemetry for any other version
    assert '<meta name="date"' not in page  # with a date, Netron locks its page 180 days after it
    assert headers["Set-Cookie"].startswith("consent=")  # else a banner waits for a click, after a web lookup
    assert _get(served.url + "browser.js")[0] == 200


def test_the_server_serves_the_graph_and_nothing_else_from_its_folder(served):
    assert _get(served.url + "data/tiny.pb")[2] == served.path.read_bytes()
    assert _get(served.url + "data/secret.txt")[0] == 404
    assert _get(served.url + "secret.txt")[0] == 404
    assert _get(served.url + "..%2F..%2Fpyproject.toml")[0] == 404


def test_stop_closes_the_port(served):
    served.stop()
    with pytest.raises(OSError):
        urllib.request.urlopen(served.url, timeout=5)
    served.stop = lambda: None  # the fixture's teardown


def test_a_busy_port_or_a_missing_file_is_one_clear_error(tmp_path):
    pytest.importorskip("netron")
    with socket.socket() as busy:
        busy.bind((viewer.HOST, 0))
        busy.listen()
        with pytest.raises(InputError, match="choose another port"):
            viewer.serve(tiny_graph(tmp_path), port=busy.getsockname()[1])
    with pytest.raises(InputError, match="does not exist"):
        viewer.serve(tmp_path / "missing.pb")
    with pytest.raises(InputError, match="from 0"):
        viewer.serve(tiny_graph(tmp_path), port=70000)


def test_without_netron_serve_names_the_install_command_and_show_falls_back(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "netron", None)  # import netron raises ImportError
    graph = tiny_graph(tmp_path)
    assert not viewer.available()
    with pytest.raises(GraphFreezeError, match=r"pip install 'graphfreeze\[view\]'"):
        viewer.serve(graph)
    note = viewer.show(graph)
    assert "pip install" in note._repr_html_() and "drawings above" in repr(note)
    assert cli.main(["view", str(graph), "--no-browser"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("graphfreeze: error: Netron is not installed"), err


def test_show_displays_the_served_graph_in_an_iframe(tmp_path):
    pytest.importorskip("netron")
    shown = viewer.show(tiny_graph(tmp_path), height=420)
    try:
        page = shown._repr_html_()
        assert page.startswith(f'<iframe src="{shown.url}" width="100%" height="420"')
        assert "tiny.pb" in page and "run the cell again" in page
        assert b"/data/tiny.pb" in _get(shown.url)[2]
        pytest.importorskip("IPython")
        assert shown.iframe(300).src == shown.url
    finally:
        shown.stop()


@pytest.mark.parametrize("args, contains", [
    (["missing.pb"], "does not exist"),
    (["."], "is a directory"),
    (["notes.txt"], "notes.txt"),
    (["tiny.pb", "--port", "70000"], "--port must be a port from 0 to 65535"),
])
def test_view_bad_input_is_one_line_and_exit_2(tmp_path, args, contains):
    tiny_graph(tmp_path)
    (tmp_path / "notes.txt").write_text("hello, not a graph\n")
    assert_one_line_error(run_cli("view", *args, "--no-browser", cwd=tmp_path, timeout=60), 2, contains)


def _as_from_a_terminal() -> None:
    """In the child, before exec: SIGINT at its default and not blocked, as a shell starts a command. In the
    full suite under pytest-xdist the child did not react to SIGINT for 20 s (twice, never when run alone): a
    disposition or mask inherited from the test process, whatever set it, is no part of what is tested here."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _signal_state(pid: int) -> str:
    """The SigBlk and SigIgn lines of a process, for a failure message."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return "(no /proc status)"
    return " ".join(line for line in lines if line.startswith(("SigBlk", "SigIgn")))


def test_view_serves_until_interrupted(tmp_path):
    pytest.importorskip("netron")
    graph = tiny_graph(tmp_path)
    process = subprocess.Popen([sys.executable, "-m", "graphfreeze_helpers.cli", "view", str(graph), "--no-browser"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
                               preexec_fn=_as_from_a_terminal)
    try:
        line = process.stdout.readline()
        assert line.startswith(f"Netron shows {graph} at http://127.0.0.1:"), (line, process.stderr.read())
        url = line.split(" at ", 1)[1].split()[0]
        assert _get(url + "data/tiny.pb")[2] == graph.read_bytes()
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pytest.fail(f"view ignored Ctrl+C for 20 s; its signal state: {_signal_state(process.pid)}")
        assert code == 0
        assert process.stderr.read() == ""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
