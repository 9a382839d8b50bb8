"""plots.draw_graph and draw_graph_pair: readable at the size a notebook shows them, before and after freezing.

The graphs are built with TensorBoard's protos (no TensorFlow), shaped like the tutorial's:
layers of ``MatMul`` + ``BiasAdd`` + ``Relu``, each weight read through ``ReadVariableOp`` of a
resource ``Placeholder`` (before freezing) or an ``Identity`` of a ``Const`` (after), and a
``NoOp`` with control edges from every read.
"""

from __future__ import annotations

import pytest

from graphfreeze_helpers import plots

NOTEBOOK_WIDTH_PX = 1000  # a JupyterLab output area on a laptop, with the file browser open
DPI = 100  # the inline backend's figure.dpi (matplotlib's default)
FLOAT, RESOURCE = 1, 20


def layered_graph(layers: int, frozen: bool):
    from tensorboard.compat.proto import graph_pb2

    graph = graph_pb2.GraphDef()
    graph.node.add(name="image", op="Placeholder").attr["dtype"].type = FLOAT
    previous, reads = "image", []
    for i in range(layers):
        weights = []
        for kind in ("kernel", "bias"):
            handle = f"dense{i}/{kind}/resource"
            if frozen:
                graph.node.add(name=handle, op="Const").attr["dtype"].type = FLOAT
                graph.node.add(name=f"dense{i}/{kind}/read", op="Identity", input=[handle])
            else:
                graph.node.add(name=handle, op="Placeholder").attr["dtype"].type = RESOURCE
                graph.node.add(name=f"dense{i}/{kind}/read", op="ReadVariableOp", input=[handle])
            weights.append(f"dense{i}/{kind}/read")
            reads.append(f"^dense{i}/{kind}/read")
        graph.node.add(name=f"dense{i}/MatMul", op="MatMul", input=[previous, weights[0]])
        graph.node.add(name=f"dense{i}/BiasAdd", op="BiasAdd", input=[f"dense{i}/MatMul", weights[1]])
        graph.node.add(name=f"dense{i}/Relu", op="Relu", input=[f"dense{i}/BiasAdd"])
        previous = f"dense{i}/Relu"
    graph.node.add(name="NoOp", op="NoOp", input=reads)
    graph.node.add(name="probabilities", op="Softmax", input=[previous])
    return graph


def branching_graph(branches: int, frozen: bool):
    """``image`` into ``branches`` parallel MatMuls, each with its own weight, added up: a wide graph."""
    from tensorboard.compat.proto import graph_pb2

    graph = graph_pb2.GraphDef()
    graph.node.add(name="image", op="Placeholder").attr["dtype"].type = FLOAT
    for i in range(branches):
        handle = graph.node.add(name=f"branch{i}/kernel", op="Const" if frozen else "Placeholder")
        handle.attr["dtype"].type = FLOAT if frozen else RESOURCE
        graph.node.add(name=f"branch{i}/read", op="Identity" if frozen else "ReadVariableOp", input=[handle.name])
        graph.node.add(name=f"branch{i}/MatMul", op="MatMul", input=["image", f"branch{i}/read"])
    graph.node.add(name="sum", op="AddN", input=[f"branch{i}/MatMul" for i in range(branches)])
    return graph


def labels(ax) -> list:
    """The box labels (the arrows are empty annotations)."""
    return [text for text in ax.texts if text.get_text()]


def smallest_label_px(fig) -> float:
    """The height in screen pixels of the smallest box label, as a notebook shows the figure."""
    width_px = fig.get_size_inches()[0] * DPI
    shrink = min(1.0, NOTEBOOK_WIDTH_PX / width_px)  # JupyterLab scales a wider image down to fit
    sizes = [text.get_fontsize() for ax in fig.axes for text in labels(ax)]
    return min(sizes) * DPI / 72 * shrink


def test_a_whole_graph_of_fifty_nodes_has_readable_labels():
    graph = layered_graph(7, frozen=True)
    assert 50 <= len(graph.node) <= 60
    fig = plots.draw_graph(graph, max_nodes=60)
    assert len(fig.axes[0].patches) == len(graph.node)
    assert smallest_label_px(fig) >= 9, fig.get_size_inches()


def test_weights_sit_beside_the_op_that_reads_them():
    """A weight's Const -> Identity sits just above its consumer, not in a top row with every other weight."""
    nodes = [n.name for n in layered_graph(4, frozen=True).node]
    edges = [(plots.node_name(i), n.name) for n in layered_graph(4, frozen=True).node for i in n.input
             if not i.startswith("^")]
    pos = plots.layered_layout(nodes, edges)
    for i in range(4):
        assert pos[f"dense{i}/kernel/read"][1] == pos[f"dense{i}/MatMul"][1] + 1
        assert pos[f"dense{i}/kernel/resource"][1] == pos[f"dense{i}/MatMul"][1] + 2
        assert pos[f"dense{i}/bias/read"][1] == pos[f"dense{i}/BiasAdd"][1] + 1


@pytest.mark.parametrize("make, only, side_by_side", [
    (layered_graph, "dense0/", True),
    (layered_graph, "dense[0-3]/", True),
    (branching_graph, None, False),  # 6 columns each: one above the other
])
def test_the_pair_shows_before_and_after_readably(make, only, side_by_side):
    before, after = make(6, frozen=False), make(6, frozen=True)
    fig = plots.draw_graph_pair(before, after, only=only)
    left, right = fig.axes[:2]
    beside = left.get_position().y0 == right.get_position().y0
    assert beside == side_by_side and (left.get_position().x0 < right.get_position().x0 if beside else
                                       left.get_position().y0 > right.get_position().y0)
    assert left.get_title().startswith("before freezing: ") and right.get_title().startswith("after freezing: ")
    texts = [[t.get_text() for t in labels(ax)] for ax in (left, right)]
    reads = texts[0].count("ReadVariableOp")
    assert reads >= 2 and "ReadVariableOp" not in texts[1]
    assert texts[1].count("Identity") == reads and texts[1].count("Const") == reads
    assert smallest_label_px(fig) >= 9, fig.get_size_inches()
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "variable" in legend and "constant" in legend


def test_a_resource_placeholder_is_coloured_as_a_variable():
    fig = plots.draw_graph(layered_graph(1, frozen=False))
    colours = {text.get_text(): [] for text in labels(fig.axes[0])}
    for text, patch in zip(labels(fig.axes[0]), fig.axes[0].patches):
        colours[text.get_text()].append(patch.get_facecolor())
    variable = plots.op_category("ReadVariableOp")[1]
    from matplotlib.colors import to_rgba

    assert colours["Placeholder"].count(to_rgba(variable)) == 2  # the two handles; the image input stays green
    assert colours["Placeholder"].count(to_rgba(plots.op_category("Placeholder")[1])) == 1


def test_only_names_what_it_matched_and_refuses_a_pattern_that_matches_nothing():
    fig = plots.draw_graph(layered_graph(3, frozen=True), only="dense1/")
    assert "('dense1/' and their inputs)" in fig.axes[0].get_title()
    assert len(fig.axes[0].patches) == 8  # the 7 nodes of dense1 and dense0/Relu, which feeds its MatMul
    with pytest.raises(ValueError, match="no node name matches 'conv9'"):
        plots.draw_graph(layered_graph(1, frozen=True), only="conv9")
