"""JupyterLab in a real browser, Netron's viewer, and the ``make run`` report, in Debian's headless Chromium.

The test starts JupyterLab on loopback (random free port, a token, a temporary root with a
copy of ``notebooks/``) and, for every notebook in order, opens it, runs all cells from the
Run menu, waits for the kernel to finish, saves it and shuts its kernel down. A notebook
fails on an error box outside the cells tagged ``raises-exception``, on any stderr box, on a
figure shown as the text ``<Figure size ...>`` instead of an image, or on a cell that did not
run. Notebook 03's Netron IFrame must show the graph's nodes, and so must ``viewer.serve``
opened directly. Screenshots go to ``build/browser/``.

Chromium is driven by the Playwright Python package with ``executable_path`` (no browser
download). Without Chromium the tests skip, except in CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # JupyterLab, a kernel and Chromium: minutes, not seconds
ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "browser"
NOTEBOOK = "01_train_small_model.ipynb"  # the report test reads it as JupyterLab saved it
NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
RUN_TIMEOUT_S = 300  # one notebook, all cells
NETRON_NOTEBOOK = "03_inspect_graph_nodes.ipynb"  # shows the graph in Netron, in an IFrame
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _chromium() -> str | None:
    for candidate in (os.environ.get("GRAPHFREEZE_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser"), shutil.which("google-chrome")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def _unavailable(reason: str):
    if IN_CI:
        pytest.fail(f"{reason}; CI must install it (see .ci/run)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory):
    """A fresh Chromium profile (``--user-data-dir`` in a temporary folder)."""
    executable = _chromium()
    if executable is None:
        _unavailable("Debian's chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright Python package is not installed (pip install -e '.[dev]')")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=executable, headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            yield context
        finally:
            context.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _write_settings(settings: Path) -> None:
    """User settings for a quiet, deterministic JupyterLab: no news toast, every cell in the DOM."""
    entries = {
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                            "checkForUpdates": False},
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    }
    for name, value in entries.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))


def _only_plain_files(folder: str, names: list[str]) -> list[str]:
    """Skip checkpoints and anything that is neither a file nor a folder (kernel sockets of other runs)."""
    skip = []
    for name in names:
        path = Path(folder) / name
        if name == ".ipynb_checkpoints" or not (path.is_file() or path.is_dir()):
            skip.append(name)
    return skip


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """JupyterLab on 127.0.0.1 with a token, rooted in a temporary copy of the notebooks."""
    root = tmp_path_factory.mktemp("lab-root")
    shutil.copytree(ROOT / "notebooks", root / "notebooks", ignore=_only_plain_files)
    home = tmp_path_factory.mktemp("lab-home")
    _write_settings(home / "settings")
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(home / "settings"), JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        IPYTHONDIR=str(home / "ipython"), MPLCONFIGDIR=str(home / "mpl"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    log = (home / "jupyterlab.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
         "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
         "--LabApp.news_url=None", "--LabApp.extension_manager=readonly", "--ServerApp.terminals_enabled=False",
         *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                pytest.fail(f"JupyterLab exited with {process.returncode}:\n{(home / 'jupyterlab.log').read_text()}")
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("JupyterLab did not answer within 120 s")
            time.sleep(0.5)
        yield {"base": base, "token": token, "root": root, "log": home / "jupyterlab.log"}
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


RUN_STATE_JS = """() => {
  const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')]
      .map(p => p.textContent.trim());
  const indicator = document.querySelector('.jp-Notebook-ExecutionIndicator');
  return {prompts, status: indicator ? indicator.getAttribute('data-status') : null};
}"""


def _open_and_run_all(page, jupyterlab: dict, notebook: str) -> dict:
    """Open ``notebook``, choose Run > Run All Cells, wait until every cell has run; the last run state."""
    # ?reset: a fresh workspace, so the notebooks of the earlier tests do not reopen (with their kernels).
    url = f"{jupyterlab['base']}/lab/tree/notebooks/{notebook}?reset&token={jupyterlab['token']}"
    page.goto(url, wait_until="domcontentloaded", timeout=120_000)
    page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=120_000)
    assert page.locator(".jp-Notebook").count() == 1, "other notebooks are open; the run state would mix them"
    # The kernel is ready once the status bar reads "<kernel> | Idle".
    page.locator(".jp-StatusBar-Widget", has_text="| Idle").first.wait_for(timeout=120_000)
    for attempt in range(3):  # a click that lands while the session is still connecting is ignored
        page.locator(".lm-MenuBar-itemLabel").get_by_text("Run", exact=True).click()
        page.locator(".lm-Menu-itemLabel").get_by_text("Run All Cells", exact=True).click()
        try:
            page.wait_for_function(
                "() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')]"
                ".some(p => p.textContent.trim() !== '[ ]:')", timeout=15_000)
            break
        except Exception:  # playwright's TimeoutError
            if attempt == 2:
                raise
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while True:
        state = page.evaluate(RUN_STATE_JS)
        done = state["prompts"] and all(p.startswith("[") and p[1:-2].isdigit() for p in state["prompts"])
        if done and state["status"] == "idle":
            return state
        if time.monotonic() > deadline:
            pytest.fail(f"{notebook} did not finish within {RUN_TIMEOUT_S} s: prompts {state['prompts']}")
        time.sleep(1)


def _save(page, saved: Path) -> dict:
    """The toolbar's Save button (Ctrl+S would go to an IFrame holding the focus), then the notebook as
    JupyterLab wrote it, once it holds outputs."""
    page.locator(".jp-NotebookPanel-toolbar [data-command='docmanager:save']").first.click()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            nb = json.loads(saved.read_text())
        except json.JSONDecodeError:  # caught mid-write (empty or partial): read it again
            nb = {"cells": []}
        if any(cell.get("outputs") for cell in nb["cells"]):
            return nb
        time.sleep(0.5)
    pytest.fail(f"JupyterLab did not save the executed {saved.name}")


def output_problems(nb: dict) -> list[str]:
    """What a learner should not see in a saved notebook: errors outside ``raises-exception`` cells,
    stderr, and figures that show as ``<Figure size ...>`` text with no image. One line each."""
    problems = []
    for index, cell in enumerate(c for c in nb["cells"] if c["cell_type"] == "code"):
        expected_error = "raises-exception" in cell.get("metadata", {}).get("tags", [])
        for output in cell.get("outputs", []):
            kind = output["output_type"]
            if kind == "error" and not expected_error:
                problems.append(f"code cell {index}: {output['ename']}: {output['evalue'][:200]}")
            elif kind == "stream" and output.get("name") == "stderr":
                problems.append(f"code cell {index}: stderr: {''.join(output['text'])[:200]!r}")
            elif kind in ("execute_result", "display_data"):
                data = output.get("data", {})
                text = "".join(data.get("text/plain", ""))
                if text.startswith("<Figure size") and not ({"image/png", "image/svg+xml"} & set(data)):
                    problems.append(f"code cell {index}: a figure shows as the text {text[:60]!r}, not an image")
    return problems


def _shut_down_kernels(jupyterlab: dict) -> None:
    """Stop every kernel (each notebook's TensorFlow holds hundreds of MB)."""
    headers = {"Authorization": f"token {jupyterlab['token']}"}
    with urllib.request.urlopen(urllib.request.Request(f"{jupyterlab['base']}/api/kernels", headers=headers)) as reply:
        kernels = json.load(reply)
    for kernel in kernels:
        request = urllib.request.Request(f"{jupyterlab['base']}/api/kernels/{kernel['id']}", method="DELETE",
                                         headers=headers)
        urllib.request.urlopen(request).close()


def _netron_nodes(frame_or_page, timeout_ms: int = 60_000) -> list[str]:
    """The node names Netron drew (``<g id="node-name-NAME">``), once it has drawn some."""
    frame_or_page.locator("svg#canvas g.node").first.wait_for(timeout=timeout_ms)
    # Netron replaces window.eval, which Playwright's evaluate uses; read the ids from the markup instead.
    markup = frame_or_page.locator("svg#canvas").first.inner_html()
    return re.findall(r'id="node-name-([^"]+)"', markup)


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_notebook_runs_in_jupyterlab_and_shows_what_it_claims(browser_context, jupyterlab, notebook):
    page = browser_context.new_page()
    console_errors: list[str] = []
    page.on("pageerror", lambda error: console_errors.append(str(error)))
    try:
        state = _open_and_run_all(page, jupyterlab, notebook)
        saved = _save(page, jupyterlab["root"] / "notebooks" / notebook)
        BUILD.mkdir(parents=True, exist_ok=True)
        shot = BUILD / f"{Path(notebook).stem}.png"
        page.screenshot(path=str(shot), full_page=True)

        assert output_problems(saved) == [], f"screenshot {shot}"
        figure_text = page.locator(".jp-OutputArea-output", has_text=re.compile(r"^\s*<Figure size"))
        assert figure_text.count() == 0, f"a figure shows as text in JupyterLab (screenshot {shot})"
        expected_errors = sum(1 for cell in saved["cells"] for output in cell.get("outputs", [])
                              if output["output_type"] == "error")
        boxes = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        assert boxes.count() == expected_errors, [boxes.nth(i).inner_text()[:300] for i in range(boxes.count())]
        counts = [int(p[1:-2]) for p in state["prompts"]]
        assert counts == list(range(1, len(counts) + 1)), f"cells ran out of order or twice: {counts}"
        assert not console_errors, console_errors
        if notebook == NOTEBOOK:
            assert page.locator(".jp-OutputArea-output img").count() >= 2  # the data and learning-curve figures
            assert (jupyterlab["root"] / "artifacts" / "digits_cnn.keras").is_file()
        if notebook == NETRON_NOTEBOOK:
            assert page.locator(".jp-OutputArea-output iframe").count() >= 1, "notebook 03 shows no Netron viewer"
            nodes = _netron_nodes(page.frame_locator(".jp-OutputArea-output iframe").first)
            assert len(nodes) > 10 and any("conv0" in name for name in nodes), nodes[:20]
            page.screenshot(path=str(BUILD / f"{Path(notebook).stem}_netron.png"), full_page=True)
    finally:
        page.close()
        _shut_down_kernels(jupyterlab)


def test_netron_viewer_draws_the_graphs_nodes(browser_context, tmp_path):
    pytest.importorskip("netron")
    sys.path.insert(0, str(ROOT / "tests"))
    from test_viewer import tiny_graph

    from graphfreeze_helpers import viewer

    shown = viewer.serve(tiny_graph(tmp_path))
    page = browser_context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    try:
        page.goto(shown.url, wait_until="load")
        nodes = _netron_nodes(page)
        BUILD.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(BUILD / "netron_tiny.png"))
    finally:
        page.close()
        shown.stop()
    assert {"image", "scale_by_weights", "probabilities"} <= set(nodes), nodes
    assert [url for url in requests if not url.startswith(shown.url)] == []  # no request leaves 127.0.0.1


def _check_report_in_browser(context, index: Path, shot: Path) -> dict:
    """Open ``index.html`` from file://, follow every notebook link, check every figure loaded."""
    page = context.new_page()
    page.goto(index.resolve().as_uri(), wait_until="load")
    links = page.eval_on_selector_all("a.notebook", "els => els.map(e => e.getAttribute('href'))")
    figures = page.eval_on_selector_all(
        "img.key-figure", "els => els.map(e => ({src: e.getAttribute('src'), width: e.naturalWidth}))")
    key_rows = page.locator("#key-figures tr").count() - 1
    BUILD.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    titles = {}
    for href in links:
        page.goto((index.parent / href).resolve().as_uri(), wait_until="load")
        titles[href] = page.locator(".jp-Notebook, body").first.inner_text()[:200]
    page.close()
    return {"links": links, "figures": figures, "key_rows": key_rows, "titles": titles}


def test_report_index_links_notebooks_and_shows_figures(browser_context, tmp_path):
    sys.path.insert(0, str(ROOT / "tools"))
    sys.path.insert(0, str(ROOT / "tests"))
    import make_report
    from test_report import write_run

    executed, artifacts = write_run(tmp_path)
    index = make_report.make_report(executed, artifacts, tmp_path / "report")
    seen = _check_report_in_browser(browser_context, index, BUILD / "report_sample.png")
    assert seen["links"] == ["01_train_small_model.html", "02_freeze_the_graph.html"]
    assert [f["src"] for f in seen["figures"]] == ["figures/01_train_small_model.png"]
    assert all(f["width"] > 0 for f in seen["figures"]), f"a figure did not load: {seen['figures']}"
    assert seen["key_rows"] == 3
    assert "Train a small model" in seen["titles"]["01_train_small_model.html"]


def test_report_of_the_notebook_run_in_jupyterlab(browser_context, jupyterlab, tmp_path):
    """A report of real output: notebook 01 as JupyterLab saved it above, and the metrics.json it wrote."""
    sys.path.insert(0, str(ROOT / "tools"))
    import make_report

    saved = jupyterlab["root"] / "notebooks" / NOTEBOOK
    if "image/png" not in saved.read_text():
        pytest.skip("notebook 01 was not run in JupyterLab (see the test above)")
    executed = tmp_path / "executed"
    executed.mkdir()
    shutil.copy(saved, executed / NOTEBOOK)
    index = make_report.make_report(executed, jupyterlab["root"] / "artifacts", tmp_path / "report")
    seen = _check_report_in_browser(browser_context, index, BUILD / "report_01.png")
    assert seen["links"] == [f"{Path(NOTEBOOK).stem}.html"]
    assert len(seen["figures"]) == 1 and seen["figures"][0]["width"] > 0, seen["figures"]
    assert seen["key_rows"] >= 2  # test_accuracy and epochs at least
    assert "Train a small model" in seen["titles"][f"{Path(NOTEBOOK).stem}.html"]


def test_make_run_report_if_built(browser_context):
    """The report from your last `make run`, when there is one (CI runs `make test` only and skips this)."""
    index = ROOT / "build" / "report" / "index.html"
    if not index.is_file():
        pytest.skip("build/report/index.html does not exist; `make run` writes it")
    seen = _check_report_in_browser(browser_context, index, BUILD / "report.png")
    executed = sorted(p.stem for p in (ROOT / "build" / "executed").glob("[0-9][0-9]_*.ipynb"))
    assert [Path(h).stem for h in seen["links"]] == executed
    assert seen["figures"] and all(f["width"] > 0 for f in seen["figures"]), seen["figures"]
    assert seen["key_rows"] >= 1
    assert all(text.strip() for text in seen["titles"].values())


def test_output_problems_names_each_thing_a_learner_should_not_see():
    figure = {"output_type": "execute_result", "data": {"text/plain": "<Figure size 800x445 with 1 Axes>"}}
    drawn = {"output_type": "display_data", "data": {"text/plain": "<Figure size 800x445 with 1 Axes>",
                                                     "image/png": "iVBOR..."}}
    error = {"output_type": "error", "ename": "ValueError", "evalue": "bad", "traceback": []}
    stderr = {"output_type": "stream", "name": "stderr", "text": "WARNING: something\n"}
    cells = [{"cell_type": "code", "metadata": {}, "outputs": [figure]},
             {"cell_type": "code", "metadata": {}, "outputs": [drawn]},
             {"cell_type": "code", "metadata": {"tags": ["raises-exception"]}, "outputs": [error]},
             {"cell_type": "markdown", "metadata": {}},
             {"cell_type": "code", "metadata": {}, "outputs": [error, stderr]}]
    found = output_problems({"cells": cells})
    assert len(found) == 3, found
    assert found[0].startswith("code cell 0: a figure shows as the text '<Figure size 800x445")
    assert found[1] == "code cell 3: ValueError: bad" and found[2].startswith("code cell 3: stderr")
