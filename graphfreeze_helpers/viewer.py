"""A graph you can click: Netron's viewer, served with one graph file on 127.0.0.1, no network.

The ``netron`` package (``pip install 'graphfreeze[view]'``) ships Netron's browser app as
static files. :func:`serve` puts them and one graph file on a small HTTP server bound to
loopback, in a daemon thread, and returns a :class:`Viewer` with its URL; :func:`show`
serves a graph and returns an IFrame for a notebook (or, when Netron is not installed, a
note saying how to get it: the static ``plots.draw_graph`` drawing is the fallback).

Netron's own ``netron.start`` is not used. As shipped, its page asks a web service where you
are (for a cookie banner that waits for a click), sends usage telemetry, and refuses to open
any model 180 days after its release date; it also configures the root logger and serves
every file in the graph's folder. The page served here skips the first three (a consent
cookie, version ``0.0.0``, no release date), and the server answers only for the one graph.
No TensorFlow.
"""

from __future__ import annotations

import html
import http.server
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union
from urllib.parse import quote, unquote, urlparse

from .errors import GraphFreezeError, InputError

HOST = "127.0.0.1"
INSTALL_HINT = "pip install 'graphfreeze[view]' (or pip install netron)"
_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css",
          ".json": "application/json", ".png": "image/png", ".ico": "image/x-icon", ".svg": "image/svg+xml",
          ".woff": "font/woff", ".woff2": "font/woff2", ".ttf": "font/ttf"}
_VERSION_META = re.compile(r'<meta name="version" content="[^"]*">')
_DATE_META = re.compile(r'<meta name="date" content="[^"]*">\s*')


def netron_files() -> Path:
    """The folder of Netron's browser app inside the installed ``netron`` package.

    Raises ``GraphFreezeError`` (one line, with the install command) when Netron is missing.
    """
    try:
        import netron  # lazy: an optional extra
    except ImportError:
        raise GraphFreezeError(f"Netron is not installed; {INSTALL_HINT}") from None
    folder = Path(netron.__file__).parent
    if not (folder / "index.html").is_file():
        raise GraphFreezeError(f"the netron package at {folder} has no index.html; reinstall it: {INSTALL_HINT}")
    return folder


def available() -> bool:
    """True when Netron is installed, so :func:`serve` and :func:`show` can open a graph in a browser."""
    try:
        netron_files()
    except GraphFreezeError:
        return False
    return True


def index_page(template: str, graph_name: str) -> str:
    """Netron's ``index.html`` pointed at ``/data/GRAPH_NAME``, without telemetry or the release-date lock."""
    name = html.escape(graph_name, quote=True)
    meta = "\n".join([
        '<meta name="type" content="Python">',
        '<meta name="version" content="0.0.0">',  # "not a packaged release": no telemetry
        f'<meta name="file" content="/data/{quote(graph_name)}">',
        f'<meta name="identifier" content="{name}">',
        f'<meta name="name" content="{name}">',
    ])
    page = _DATE_META.sub("", template)  # no release date: the page's 180-day "please update" lock never starts
    return _VERSION_META.sub(lambda _: meta, page, count=1)


class _Handler(http.server.BaseHTTPRequestHandler):
    """GET ``/`` (the page), Netron's static files, and ``/data/NAME`` (the graph); nothing else."""

    files: Path
    graph: Path
    page: bytes

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        path = unquote(urlparse(self.path).path)
        if path in ("/", "/index.html"):
            # Netron shows a cookie banner, after asking a web service where you are, unless it finds this cookie.
            self._send(200, self.page, _TYPES[".html"], cookie=f"consent={int(time.time() * 1000)}; Path=/; "
                       "Max-Age=2592000; SameSite=Lax")
        elif path == f"/data/{self.graph.name}":
            self._send(200, self.graph.read_bytes(), "application/octet-stream")
        else:
            target = (self.files / path.lstrip("/")).resolve()
            if target.parent == self.files and target.suffix in _TYPES and target.is_file():
                self._send(200, target.read_bytes(), _TYPES[target.suffix])
            else:
                self._send(404, b"not found", "text/plain")

    def do_HEAD(self) -> None:  # noqa: N802
        self.do_GET()

    def _send(self, status: int, body: bytes, content_type: str, cookie: Optional[str] = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        if cookie:
            self.send_header("Set-Cookie", cookie)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # quiet: no prints from library code
        pass


@dataclass
class Viewer:
    """Netron serving one graph at :attr:`url` until :meth:`stop` (or the process ends)."""

    path: Path
    url: str
    _server: Any = field(repr=False, compare=False)
    height: int = 600

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1].rstrip("/"))

    def stop(self) -> None:
        """Close the server; the URL stops answering."""
        self._server.shutdown()
        self._server.server_close()

    def iframe(self, height: int = 600) -> Any:
        """An ``IPython.display.IFrame`` of the viewer, ``height`` pixels high."""
        from IPython.display import IFrame

        return IFrame(self.url, width="100%", height=height)

    def _repr_html_(self) -> str:
        """In a notebook: the viewer in an IFrame, and a line saying where it comes from (a saved notebook's
        frame is empty once the kernel that served it has stopped)."""
        url = html.escape(self.url, quote=True)
        return (f'<iframe src="{url}" width="100%" height="{int(self.height)}" frameborder="0"></iframe>'
                f"<p><small>Netron, serving {html.escape(self.path.name)} from this kernel at "
                f'<a href="{url}" target="_blank">{url}</a>. An empty frame means the kernel has stopped: run '
                "the cell again.</small></p>")


def check_port(port: int) -> int:
    """``port`` if it is a TCP port number (0 = any free port), else ``InputError``."""
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
        raise InputError(f"port must be a whole number from 0 (any free port) to 65535, got {port!r}")
    return port


def serve(path: Union[str, Path], port: int = 0) -> Viewer:
    """Serve ``path`` in Netron on ``127.0.0.1:port`` (0: any free port), in a daemon thread.

    Raises ``InputError`` for a missing file or a port in use, ``GraphFreezeError`` when Netron
    is not installed.
    """
    graph = Path(path)
    if not graph.is_file():
        raise InputError(f"graph {str(path)!r} " + ("is a directory; give the .pb file" if graph.is_dir()
                                                    else "does not exist"))
    check_port(port)
    files = netron_files().resolve()
    page = index_page((files / "index.html").read_text(encoding="utf-8"), graph.name).encode("utf-8")
    handler = type("NetronHandler", (_Handler,), {"files": files, "graph": graph.resolve(), "page": page})
    try:
        server = http.server.ThreadingHTTPServer((HOST, port), handler)
    except OSError as exc:
        raise InputError(f"cannot serve on {HOST}:{port} ({exc.strerror}); choose another port, or 0 for any "
                         "free port") from None
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name=f"netron:{graph.name}", daemon=True).start()
    return Viewer(graph, f"http://{HOST}:{server.server_address[1]}/", server)


class _Note:
    """What :func:`show` returns without Netron: one line of HTML (or text) saying how to install it."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        return f"<p><em>{html.escape(self.text)}</em></p>"


def show(path: Union[str, Path], height: int = 600, port: int = 0) -> Any:
    """In a notebook: the graph at ``path`` in Netron, in an IFrame ``height`` pixels high (the :class:`Viewer`).

    The server runs on 127.0.0.1 in the kernel's process, so the IFrame works when your browser
    runs on the same machine as the kernel. Without Netron installed this returns a one-line
    note instead of raising, so a notebook still runs; draw the graph with ``plots.draw_graph``.
    """
    if not available():
        return _Note(f"Netron is not installed, so there is no graph to click here; the drawings above show the "
                     f"same graph. To get it: {INSTALL_HINT}")
    shown = serve(path, port=port)
    shown.height = height
    return shown
