"""Pictures for the notebooks. Each function returns a matplotlib ``Figure`` (Jupyter shows it).

Figures are built with ``matplotlib.figure.Figure`` directly, not pyplot, so no global
state is touched and nothing is shown twice.

Graph pictures (inspect stage):
    plot_op_histograms(before, after)     the op types of two graphs side by side
    draw_graph(graph_def)                 the graph itself, op types colour-coded
    draw_graph_pair(before, after)        two graphs side by side (before and after freezing)

Latency pictures (benchmark stage), from a ``bench.BenchResult``:
    plot_latency_bars(result, batch=1)     median per contender, whiskers p10 to p90
    plot_latency_vs_batch(result)          median against batch size, log-log
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

from .graphfile import DT_RESOURCE, as_graph_def
from .ops import OP_CATEGORIES, UNSAFE_OPS, VARIABLE_OPS
from .summary import GraphSummary, summarize
from .tensors import node_name

# --- graph pictures (inspect stage) ---------------------------------------------------------

# colour of each category of ops.OP_CATEGORIES (the first matching category wins)
_COLOURS = {
    "input": "#4caf50",
    "constant": "#bdbdbd",
    "conv / matmul": "#1e88e5",
    "activation": "#fb8c00",
    "arithmetic": "#8e24aa",
    "pool / reduce": "#00897b",
    "shape": "#6d4c41",
    "control flow": "#fdd835",
    "identity / no-op": "#eeeeee",
}
_CATEGORIES: list[tuple[str, str, frozenset[str]]] = [(name, _COLOURS[name], ops) for name, ops in OP_CATEGORIES]
_VARIABLE_COLOUR = "#e53935"
_UNSAFE_COLOUR = "#212121"
_OTHER_COLOUR = "#90caf9"


def op_category(op: str) -> tuple[str, str]:
    """``(category, colour)`` for an op type: the colour code of :func:`draw_graph`."""
    if op in UNSAFE_OPS:
        return "unsafe", _UNSAFE_COLOUR
    if op in VARIABLE_OPS:
        return "variable", _VARIABLE_COLOUR
    for name, colour, ops in _CATEGORIES:
        if op in ops:
            return name, colour
    return "other", _OTHER_COLOUR


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _op_counts(source: Any) -> dict[str, int]:
    if isinstance(source, dict):
        return dict(source)
    summary = source if isinstance(source, GraphSummary) else summarize(source)
    return summary.all_ops


def plot_op_histograms(
    before: Any,
    after: Any,
    *,
    labels: Sequence[str] = ("before freezing", "after freezing"),
    top_n: int = 25,
) -> Any:
    """Two op-type histograms side by side (GraphDefs, paths, summaries or ``{op: count}`` dicts).

    Op types are sorted by their larger count; those that disappear are red, those that
    appear are green.
    """
    a, b = _op_counts(before), _op_counts(after)
    ops = sorted(set(a) | set(b), key=lambda op: (-max(a.get(op, 0), b.get(op, 0)), op))[:top_n]
    ops = ops[::-1]  # largest at the top
    fig = _figure(10, 0.3 * len(ops) + 1.6)
    axes = fig.subplots(1, 2, sharey=True)
    for ax, counts, other, label in ((axes[0], a, b, labels[0]), (axes[1], b, a, labels[1])):
        colours = []
        for op in ops:
            if op in counts and op not in other:
                colours.append("#e53935" if counts is a else "#43a047")
            else:
                colours.append("#90a4ae")
        values = [counts.get(op, 0) for op in ops]
        ax.barh(range(len(ops)), values, color=colours)
        for y, v in enumerate(values):
            if v:
                ax.text(v, y, f" {v}", va="center", fontsize=8)
        ax.set_title(f"{label}: {sum(counts.values())} nodes, {len(counts)} op types", fontsize=10)
        ax.set_xlabel("nodes")
        ax.set_xlim(0, max(values + [1]) * 1.18)
    axes[0].set_yticks(range(len(ops)), ops, fontsize=8)
    fig.suptitle("Op types (red: gone after, green: new after)", fontsize=11)
    return fig


def _layers(order: list[str], preds: dict[str, list[str]]) -> dict[str, int]:
    """Longest-path layering; edges that point backwards (cycles) are ignored."""
    position = {n: i for i, n in enumerate(order)}
    layer: dict[str, int] = {}
    for n in order:
        earlier = [layer[p] for p in preds.get(n, []) if p in layer and position[p] < position[n]]
        layer[n] = max(earlier) + 1 if earlier else 0
    return layer


def _topological(nodes: list[str], edges: list[tuple[str, str]]) -> list[str]:
    """Kahn's order, stable in the given node order; nodes on cycles follow in their original order."""
    indegree = {n: 0 for n in nodes}
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    for s, t in edges:
        succ[s].append(t)
        indegree[t] += 1
    ready = [n for n in nodes if indegree[n] == 0]
    order: list[str] = []
    seen: set[str] = set()
    while ready:
        n = ready.pop(0)
        order.append(n)
        seen.add(n)
        for t in succ[n]:
            indegree[t] -= 1
            if indegree[t] == 0:
                ready.append(t)
    order += [n for n in nodes if n not in seen]
    return order


def layered_layout(nodes: list[str], edges: list[tuple[str, str]]) -> dict[str, tuple[float, float]]:
    """``node -> (x, y)``: layers top to bottom by longest path, each layer ordered by its parents' mean x."""
    order = _topological(nodes, edges)
    preds: dict[str, list[str]] = {n: [] for n in nodes}
    for s, t in edges:
        preds[t].append(s)
    layer = _layers(order, preds)
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    for s, t in edges:
        succ[s].append(t)
    position = {n: i for i, n in enumerate(order)}
    for n in reversed(order):  # a node sits just above its first consumer: a weight's Const -> Identity beside its op
        later = [layer[t] for t in succ[n] if position[t] > position[n]]
        if later:
            layer[n] = max(layer[n], min(later) - 1)
    rows: dict[int, list[str]] = {}
    for n in order:
        rows.setdefault(layer[n], []).append(n)
    x: dict[str, float] = {}
    for depth in sorted(rows):
        row = rows[depth]
        if depth:
            key = {n: (sum(x[p] for p in preds[n] if p in x) / max(1, sum(p in x for p in preds[n]))
                       if any(p in x for p in preds[n]) else 0.0) for n in row}
            row.sort(key=lambda n: key[n])
        for i, n in enumerate(row):
            x[n] = i - (len(row) - 1) / 2
    for depth in sorted(rows, reverse=True)[1:]:  # then bottom up: a node moves towards the nodes it feeds
        row = rows[depth]
        key = {n: (sum(x[t] for t in succ[n]) / len(succ[n]) if succ[n] else x[n]) for n in row}
        row.sort(key=lambda n: (key[n], x[n]))
        for i, n in enumerate(row):
            x[n] = i - (len(row) - 1) / 2
    return {n: (x[n], -float(layer[n])) for n in nodes}


def _scope(name: str, depth: int) -> str:
    parts = name.split("/")
    return "/".join(parts[:depth])


def _collapse(names: list[str], max_nodes: int) -> dict[str, str]:
    """Map each node to a name scope: start from the top-level scopes, then keep splitting the
    largest scope into its sub-scopes while the number of groups stays within ``max_nodes``."""
    groups: dict[str, tuple[int, list[str]]] = {}
    for n in names:
        groups.setdefault(_scope(n, 1), (1, []))[1].append(n)
    stuck: set[str] = set()
    while True:
        candidates = sorted((k for k in groups if k not in stuck), key=lambda k: (-len(groups[k][1]), k))
        if not candidates:
            break
        key = candidates[0]
        depth, members = groups[key]
        parts: dict[str, list[str]] = {}
        for m in members:
            parts.setdefault(_scope(m, depth + 1), []).append(m)
        if len(members) == 1 or (len(parts) == 1 and next(iter(parts)) == key):
            stuck.add(key)
            continue
        if len(groups) - 1 + len(parts) > max_nodes:
            stuck.add(key)
            continue
        del groups[key]
        for sub, ms in parts.items():
            groups[sub] = (depth + 1, ms)
    return {m: k for k, (_, ms) in groups.items() for m in ms}


@dataclass
class _Drawing:
    """What :func:`draw_graph` draws: boxes (with labels and colours), arrows, and a note on what was left out."""

    nodes: list[str]
    edges: list[tuple[str, str, bool]]  # (source, target, is a control edge)
    labels: dict[str, str] = field(default_factory=dict)
    colours: dict[str, str] = field(default_factory=dict)
    note: str = ""


def draw_graph(
    graph_def: Any,
    *,
    max_nodes: int = 60,
    mode: str = "auto",
    show_consts: Optional[bool] = None,
    title: str = "",
    only: Optional[str] = None,
) -> Any:
    """Draw a GraphDef's top level, op types colour-coded.

    ``mode``: ``"whole"`` draws every node; ``"scope"`` collapses nodes into their name
    scopes (as deep as ``max_nodes`` allows); ``"top"`` draws the first ``max_nodes`` nodes
    in topological order from the inputs; ``"auto"`` (default) is ``"whole"`` for a graph
    of at most ``max_nodes`` nodes, else ``"scope"``. Constants are hidden when the graph
    is bigger than ``max_nodes`` unless ``show_consts``. Control edges (``^x``) are dashed.
    ``only``: a regular expression; draw the nodes whose name matches it and the nodes that
    feed them (``only="conv0|bn0"``: the first layer).
    """
    drawing, box_w, heading = _graph_drawing(graph_def, max_nodes=max_nodes, mode=mode, show_consts=show_consts,
                                             only=only)
    width, height = _drawing_size(drawing)
    fig = _figure(width, height)
    _render(fig.add_subplot(), drawing, box_w=box_w, title=title or heading)
    return fig


# About 1,000 pixels at the inline backend's 100 dpi: a JupyterLab output area on a laptop with the file browser open.
PAIR_MAX_WIDTH = 10.0


def draw_graph_pair(
    before: Any,
    after: Any,
    *,
    titles: tuple[str, str] = ("before freezing", "after freezing"),
    max_nodes: int = 60,
    mode: str = "auto",
    show_consts: Optional[bool] = None,
    only: Optional[str] = None,
) -> Any:
    """Two graphs in one figure, drawn as :func:`draw_graph` draws each (same options), with one legend.

    Side by side when both fit in ``PAIR_MAX_WIDTH`` inches (a notebook shows them at their own
    size), else one above the other, so the labels stay readable. Two whole graphs of more than
    a few dozen nodes are wide: draw a part of each with ``only`` (``only="conv0"``).
    """
    panels = [_graph_drawing(g, max_nodes=max_nodes, mode=mode, show_consts=show_consts, only=only)
              for g in (before, after)]
    sizes = [_drawing_size(drawing, legend=False) for drawing, _, _ in panels]
    if sum(w for w, _ in sizes) <= PAIR_MAX_WIDTH:
        fig = _figure(sum(w for w, _ in sizes), max(h for _, h in sizes) + 0.4)
        axes = fig.subplots(1, 2, width_ratios=[w for w, _ in sizes])
    else:
        fig = _figure(max(w for w, _ in sizes), sum(h for _, h in sizes) + 0.4)
        axes = fig.subplots(2, 1, height_ratios=[h for _, h in sizes])
    used: dict[str, str] = {}
    for ax, (drawing, box_w, heading), label in zip(axes, panels, titles):
        for name, colour in _render(ax, drawing, box_w=box_w, title=f"{label}: {heading}", legend=False).items():
            used.setdefault(name, colour)
    fig.legend(handles=_legend_patches(used), loc="outside lower center", ncols=min(len(used), 5), fontsize=8,
               frameon=False)
    return fig


def _graph_drawing(
    graph_def: Any, *, max_nodes: int, mode: str, show_consts: Optional[bool], only: Optional[str] = None
) -> tuple[Any, float, str]:
    """What :func:`draw_graph` draws: ``(the _Drawing, the box width, the default title)``."""
    if mode not in ("auto", "whole", "scope", "top"):
        raise ValueError(f"mode must be 'auto', 'whole', 'scope' or 'top', not {mode!r}")
    graph_def, _ = as_graph_def(graph_def)
    nodes = list(graph_def.node) if only is None else _matching(graph_def.node, only)
    if show_consts is None:
        show_consts = len(nodes) <= max_nodes
    kept = [n for n in nodes if show_consts or n.op != "Const"]
    if mode == "auto":
        mode = "whole" if len(kept) <= max_nodes else "scope"
    ops = {n.name: n.op for n in nodes}
    names, edges = [n.name for n in kept], _edges(kept)
    if mode == "scope":
        drawing = _scope_drawing(names, edges, ops, max_nodes)
    else:
        drawing = _node_drawing(names, edges, ops, max_nodes if mode == "top" else None)
        for n in nodes:  # a resource Placeholder is a variable's handle, not an input
            if n.name in drawing.colours and n.op == "Placeholder" and n.attr["dtype"].type == DT_RESOURCE:
                drawing.colours[n.name] = _VARIABLE_COLOUR
    hidden = sum(n.op == "Const" for n in nodes) if not show_consts else 0
    if hidden:
        drawing.note = "; ".join(filter(None, [drawing.note, f"{hidden} Const nodes hidden"]))
    heading = f"{len(nodes)} nodes" + (f" ({only!r} and their inputs)" if only else "")
    heading += f"\n{drawing.note}" if drawing.note else ""
    return drawing, (1.6 if mode == "scope" else 1.5), heading


def _matching(nodes: Sequence[Any], only: str) -> list[Any]:
    """The nodes whose name matches the regular expression ``only``, and the nodes that feed them."""
    pattern = re.compile(only)
    keep = {n.name for n in nodes if pattern.search(n.name)}
    if not keep:
        raise ValueError(f"no node name matches {only!r}; names look like {[n.name for n in nodes[:3]]}")
    keep |= {node_name(edge) for n in nodes if n.name in keep for edge in n.input if not edge.startswith("^")}
    return [n for n in nodes if n.name in keep]


def _edges(nodes: Sequence[Any]) -> list[tuple[str, str, bool]]:
    """``(source, target, is a control edge)`` for every input edge between the given nodes."""
    names = {n.name for n in nodes}
    return [(node_name(edge), n.name, edge.startswith("^")) for n in nodes for edge in n.input
            if node_name(edge) in names]


def _first_in_order(
    nodes: list[str], edges: list[tuple[str, str, bool]], limit: int
) -> tuple[list[str], list[tuple[str, str, bool]]]:
    """The first ``limit`` nodes in topological order, and the edges between them."""
    keep = set(_topological(nodes, [(s, t) for s, t, _ in edges])[:limit])
    return [n for n in nodes if n in keep], [e for e in edges if e[0] in keep and e[1] in keep]


def _node_drawing(
    names: list[str], edges: list[tuple[str, str, bool]], ops: dict[str, str], limit: Optional[int]
) -> _Drawing:
    """One box per node, labelled with its op (mode "whole"; mode "top" keeps the first ``limit``)."""
    drawing = _Drawing(names, edges)
    if limit is not None and len(names) > limit:
        drawing.nodes, drawing.edges = _first_in_order(names, edges, limit)
        drawing.note = f"first {len(drawing.nodes)} of {len(names)} nodes in topological order"
    for n in drawing.nodes:
        drawing.labels[n] = ops[n]
        drawing.colours[n] = op_category(ops[n])[1]
    return drawing


def _scope_drawing(
    names: list[str], edges: list[tuple[str, str, bool]], ops: dict[str, str], max_nodes: int
) -> _Drawing:
    """One box per name scope (:func:`_collapse`), labelled and coloured by its most common op."""
    group_of = _collapse(names, max_nodes)
    members: dict[str, list[str]] = {}
    for n in names:
        members.setdefault(group_of[n], []).append(n)
    group_edges = sorted({(group_of[s], group_of[t]) for s, t, _ in edges if group_of[s] != group_of[t]},
                         key=lambda e: (names.index(members[e[0]][0]), names.index(members[e[1]][0])))
    drawing = _Drawing(list(members), [(s, t, False) for s, t in group_edges],
                       note=f"{len(names)} nodes collapsed into {len(members)} name scopes")
    for g, ms in members.items():
        counts = Counter(ops[m] for m in ms if ops[m] not in ("Const", "Identity", "NoOp")) or Counter(
            ops[m] for m in ms)
        main_op = counts.most_common(1)[0][0]
        short = "/".join(g.split("/")[-2:])
        drawing.labels[g] = short if len(ms) == 1 else f"{short}\n{len(ms)} nodes, {main_op}"
        drawing.colours[g] = op_category(main_op)[1]
    if len(drawing.nodes) > max_nodes:
        drawing.nodes, drawing.edges = _first_in_order(drawing.nodes, drawing.edges, max_nodes)
        drawing.note += f"; first {len(drawing.nodes)} shown"
    return drawing


def _layout(drawing: _Drawing) -> dict[str, tuple[float, float]]:
    """Positions from the data edges only: a control edge (to a NoOp) does not pull a weight's nodes up."""
    return layered_layout(drawing.nodes, [(s, t) for s, t, control in drawing.edges if not control])


def _drawing_size(drawing: _Drawing, legend: bool = True) -> tuple[float, float]:
    """Figure inches for a drawing (and its legend on the right): labels stay readable in a notebook."""
    pos = _layout(drawing)
    xs = [p[0] for p in pos.values()] or [0.0]
    ys = [p[1] for p in pos.values()] or [0.0]
    width_units = max(xs) - min(xs) + 1
    height_units = max(ys) - min(ys) + 1
    # 1.3 inches a column: up to seven columns (or two drawings of up to five) show in a notebook at their own
    # size (100 dpi, about 1,300 pixels), so 8-point labels stay 11 pixels high instead of shrinking with the image.
    width = 1.3 * width_units + (1.5 if legend else 0.3)
    return min(20.0, max(4.0, width)), min(40.0, max(3.0, 0.75 * height_units + 1.2))


def _render(ax: Any, drawing: _Drawing, *, box_w: float, title: str, legend: bool = True) -> dict[str, str]:
    """Draw on ``ax``: layered boxes, arrows (control edges dashed) and (``legend``) a legend of the colours
    used; returns those colours, ``{category: colour}``."""
    from matplotlib.patches import FancyBboxPatch

    pos = _layout(drawing)
    xs = [p[0] for p in pos.values()] or [0.0]
    ys = [p[1] for p in pos.values()] or [0.0]
    for s, t, control in drawing.edges:
        (x0, y0), (x1, y1) = pos[s], pos[t]
        ax.annotate("", xy=(x1 * 2, y1 + 0.22), xytext=(x0 * 2, y0 - 0.22),
                    arrowprops=dict(arrowstyle="->", color="#9e9e9e", lw=0.8, ls="--" if control else "-",
                                    shrinkA=0, shrinkB=0))
    for n in drawing.nodes:
        x, y = pos[n]
        colour, label = drawing.colours[n], drawing.labels[n]
        ax.add_patch(FancyBboxPatch((x * 2 - box_w / 2, y - 0.2), box_w, 0.4, boxstyle="round,pad=0.02",
                                    fc=colour, ec="#424242", lw=0.6))
        dark = colour in (_UNSAFE_COLOUR, _VARIABLE_COLOUR, "#1e88e5", "#8e24aa", "#00897b", "#6d4c41")
        ax.text(x * 2, y, label, ha="center", va="center", fontsize=8 if "\n" not in label else 7,
                color="white" if dark else "black")
    ax.set_xlim(min(xs) * 2 - 1.2, max(xs) * 2 + 1.2)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
    ax.axis("off")
    used: dict[str, str] = {}
    for n in drawing.nodes:
        used.setdefault(_category_of_colour(drawing.colours[n]), drawing.colours[n])
    if legend:
        ax.legend(handles=_legend_patches(used), loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8,
                  frameon=False)
    ax.set_title(title, fontsize=10)
    return used


def _legend_patches(used: dict[str, str]) -> list[Any]:
    from matplotlib.patches import Patch

    return [Patch(fc=c, ec="#424242", label=k) for k, c in used.items()]


def _category_of_colour(colour: str) -> str:
    if colour == _UNSAFE_COLOUR:
        return "unsafe"
    if colour == _VARIABLE_COLOUR:
        return "variable"
    for name, c, _ in _CATEGORIES:
        if c == colour:
            return name
    return "other"


# --- latency pictures (benchmark stage) -----------------------------------------------------


def _contender_colours(names: Sequence[str]) -> dict[str, Any]:
    from matplotlib import colormaps

    palette = colormaps["tab10"].colors
    return {name: palette[i % len(palette)] for i, name in enumerate(names)}


def plot_latency_bars(result: Any, batch: int = 1, *, title: Optional[str] = None, log: Optional[bool] = None) -> Any:
    """Median time per call of each contender at ``batch`` (a ``bench.BenchResult``), whiskers p10 to p90.

    Fastest at the top. The axis is logarithmic when the slowest median is over 20x the fastest.
    """
    rows = sorted((r for r in result.rows if r.batch == batch), key=lambda r: r.median_us, reverse=True)
    if not rows:
        raise ValueError(f"no rows at batch {batch}; the result has batch sizes {result.batch_sizes}")
    colours = _contender_colours(result.contenders)
    medians = [r.median_us for r in rows]
    low = [r.median_us - r.p10_us for r in rows]
    high = [r.p90_us - r.median_us for r in rows]
    fig = _figure(8, 0.45 * len(rows) + 1.3)
    ax = fig.subplots()
    ax.barh(range(len(rows)), medians, xerr=[low, high], capsize=3, color=[colours[r.contender] for r in rows],
            error_kw={"elinewidth": 1, "ecolor": "#424242"})
    ax.set_yticks(range(len(rows)), [r.contender for r in rows])
    if log if log is not None else max(medians) > 20 * min(medians):
        ax.set_xscale("log")
    for y, r in enumerate(rows):
        ax.text(r.p90_us, y, f"  {r.median_us:,.0f} µs", va="center", fontsize=8)
    ax.set_xlim(right=max(r.p90_us for r in rows) * (4 if ax.get_xscale() == "log" else 1.25))
    ax.set_xlabel("time per call, µs (bar: median; whiskers: p10 to p90)")
    ax.set_title(title or f"Latency at batch {batch}", fontsize=11)
    return fig


def plot_latency_vs_batch(result: Any, *, per_sample: bool = False, title: Optional[str] = None) -> Any:
    """Median time per call (or per sample) against batch size, log-log, with a p10-p90 band per contender."""
    colours = _contender_colours(result.contenders)
    fig = _figure(8, 4.5)
    ax = fig.subplots()
    for name in result.contenders:
        rows = sorted((r for r in result.rows if r.contender == name), key=lambda r: r.batch)
        xs = [r.batch for r in rows]
        scale = [r.batch if per_sample else 1 for r in rows]
        ax.plot(xs, [r.median_us / s for r, s in zip(rows, scale)], marker="o", color=colours[name], label=name)
        ax.fill_between(xs, [r.p10_us / s for r, s in zip(rows, scale)], [r.p90_us / s for r, s in zip(rows, scale)],
                        color=colours[name], alpha=0.15, linewidth=0)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(result.batch_sizes, [str(b) for b in result.batch_sizes])
    ax.minorticks_off()
    ax.set_xlabel("batch size")
    ax.set_ylabel(f"median time per {'sample' if per_sample else 'call'}, µs")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    ax.set_title(title or f"Latency per {'sample' if per_sample else 'call'} across batch sizes (band: p10 to p90)",
                 fontsize=11)
    return fig


def plot_accuracy_tradeoff(
    accuracy: dict[str, float], size_bytes: dict[str, int], latency_us: dict[str, float], *, batch: int,
    title: Optional[str] = None,
) -> Any:
    """Test accuracy against file size (left) and against median latency at ``batch`` (right), one point a model.

    Each argument maps a model's name (``float``, ``int8``, ...) to its figure; up and to the
    left is better on both panels.
    """
    names = list(accuracy)
    colours = _contender_colours(names)
    fig = _figure(9, 3.6)
    left, right = fig.subplots(1, 2, sharey=True)
    for ax, values, label in ((left, size_bytes, "file size, KB"),
                              (right, latency_us, f"median latency at batch {batch}, µs")):
        scale = 1024 if values is size_bytes else 1
        for name in names:
            x, y = values[name] / scale, 100 * accuracy[name]
            ax.scatter([x], [y], s=60, color=colours[name], zorder=3)
            ax.annotate(name, (x, y), textcoords="offset points", xytext=(6, 4), fontsize=9)
        ax.set_xlabel(label)
        ax.grid(True, alpha=0.3)
        ax.set_xlim(left=0, right=max(v / scale for v in values.values()) * 1.25)
    left.set_ylabel("test accuracy, %")
    fig.suptitle(title or "Accuracy against size and latency (up and to the left is better)", fontsize=11)
    return fig
