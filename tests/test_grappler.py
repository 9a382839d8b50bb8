"""grappler.py: the offline grappler recipe optimize and freeze_tf1 share, and unused functions dropped."""

from __future__ import annotations

from google.protobuf import text_format
from tensorboard.compat.proto import graph_pb2

from graphfreeze_helpers.grappler import called_functions, drop_unused_functions

LIBRARY = """
node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } } }
node { name: "call" op: "outer" input: "x" }
node { name: "branch" op: "If" input: "x" attr { key: "then_branch" value { func { name: "then_fn" } } }
  attr { key: "functions" value { list { func { name: "listed_fn" } } } } }
library {
  function { signature { name: "outer" } node_def { name: "n" op: "inner" } }
  function { signature { name: "inner" } }
  function { signature { name: "then_fn" } }
  function { signature { name: "listed_fn" } }
  function { signature { name: "save_fn" } }
  gradient { function_name: "save_fn" gradient_func: "save_grad" }
  gradient { function_name: "inner" gradient_func: "inner_grad" }
}
"""


def _graph(text: str = LIBRARY) -> graph_pb2.GraphDef:
    return text_format.Parse(text, graph_pb2.GraphDef())


def test_called_functions_reads_the_op_and_function_attrs():
    graph = _graph()
    assert called_functions(graph.node[1]) == {"outer"}
    assert called_functions(graph.node[2]) == {"If", "then_fn", "listed_fn"}


def test_only_the_functions_no_node_calls_are_dropped_with_their_gradients():
    graph = _graph()
    assert drop_unused_functions(graph) == 1
    assert [f.signature.name for f in graph.library.function] == ["outer", "inner", "then_fn", "listed_fn"]
    assert [g.function_name for g in graph.library.gradient] == ["inner"]  # called through outer
    assert drop_unused_functions(graph) == 0


def test_a_library_nothing_calls_is_cleared():
    graph = _graph(LIBRARY.split("node {")[0] + 'node { name: "x" op: "Placeholder" }\n'
                   + LIBRARY[LIBRARY.index("library {"):])
    assert drop_unused_functions(graph) == 5
    assert not graph.HasField("library")
