"""TF1-style graphs built at test time, for the tests of graphs we did not make (issue 12).

Every builder makes its graph with ``tf.compat.v1`` in graph mode, with ref variables
(``tf.compat.v1.Variable(..., use_resource=False)``), and freezes it the TF1 way
(``tf.compat.v1.graph_util.convert_variables_to_constants``): no sidecar, no signature, the
kind of ``.pb`` a user receives. Nothing is downloaded. Builders of frozen graphs are cached
(``functools.lru_cache``); each returns a :class:`TF1Graph` whose ``graph_def`` property
parses a fresh copy, so a test may modify what it gets.

Frozen graphs (names are tensor names; ``optional`` maps a PlaceholderWithDefault to its
default):

    control_flow()      v1 cond + v1 while_loop (Switch/Merge/Enter/Exit/NextIteration/LoopCond)
    two_inputs()        two float inputs, two outputs
    pinned_devices()    device pins from another machine, a colocation attr naming a pruned node
    length_nan()        an int32 length input; outputs are NaN when it is 0
    regression()        one input of unknown rank (the consumers tell its last dimension: 4)
    rnn_static()        an unrolled TF1 RNN with a keep_prob input
    rnn_dynamic()       a TF1 dynamic RNN (v1 while_loop over a TensorArray) with keep_prob
    autoencoder()       dense encoder/decoder, two outputs

Artifacts written into a folder (not cached; the caller gives a fresh folder):

    write_checkpoint(folder)                 a TF1 checkpoint (.meta/.index/.data/checkpoint)
    write_saved_model_simple_save(folder)    a TF1 SavedModel written by simple_save
    write_saved_model_builder(folder)        a TF1 SavedModel written by SavedModelBuilder
    write_saved_model_control_flow(folder)   control_flow()'s graph as a simple_save SavedModel
    write_saved_model_v1_only(folder)        a builder SavedModel with a TF1 asset and main_op
    write_saved_model_with_slots(folder)     optimizer slots TF2's loader cannot revive (Keras 2's failure)

``tf.compat.v1.nn.rnn_cell`` is gone with Keras 3, so the RNNs are written out by hand the
way ``static_rnn`` (a Python loop) and ``dynamic_rnn`` (a ``while_loop`` over TensorArrays)
build them.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

WORKER_DEVICE = "/job:worker/task:3/device:GPU:7"


@dataclass(frozen=True)
class TF1Graph:
    """A frozen TF1-style GraphDef and the names a test needs."""

    name: str
    serialized: bytes
    inputs: tuple[str, ...]  # required inputs, tensor names ("image:0")
    outputs: tuple[str, ...]  # tensor names, in the order the builder documents
    optional: dict[str, object] = field(default_factory=dict)  # PlaceholderWithDefault -> default
    dtypes: dict[str, str] = field(default_factory=dict)  # input name -> numpy dtype name
    shapes: dict[str, tuple | None] = field(default_factory=dict)  # None entries: unknown dims

    @property
    def graph_def(self):
        """A fresh ``tf.compat.v1.GraphDef`` (parse of :attr:`serialized`)."""
        import tensorflow as tf

        graph_def = tf.compat.v1.GraphDef()
        graph_def.ParseFromString(self.serialized)
        return graph_def

    def write(self, path: Path) -> Path:
        """Write the ``.pb`` alone (no sidecar), as a user would receive it."""
        path = Path(path)
        path.write_bytes(self.serialized)
        return path

    def feed(self, batch: int = 2, seed: int = 0) -> dict[str, np.ndarray]:
        """Sensible values for the required inputs (unknown dims become ``batch`` or 4)."""
        rng = np.random.default_rng(seed)
        values = {}
        for name in self.inputs:
            dtype = np.dtype(self.dtypes[name])
            shape = self.shapes.get(name)
            if shape is None:
                shape = (batch, 4)
            shape = tuple(batch if d is None else d for d in shape)
            if dtype == np.uint8:
                values[name] = rng.integers(0, 256, size=shape, dtype=np.uint8)
            elif dtype.kind == "i":
                values[name] = rng.integers(1, 4, size=shape).astype(dtype)
            else:
                values[name] = rng.standard_normal(shape).astype(dtype)
        return values

    def reference(self, feed: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
        """The outputs by name, from a v1 ``Session`` run of the frozen graph itself."""
        return run_graph_def(self.graph_def, self.feed() if feed is None else feed, self.outputs)


def run_graph_def(graph_def, feed: dict, outputs) -> dict[str, np.ndarray]:
    """Run a GraphDef in a v1 Session (names as in the graph, no import prefix)."""
    import tensorflow as tf

    with tf.Graph().as_default() as graph:
        tf.compat.v1.import_graph_def(graph_def, name="")
        with tf.compat.v1.Session(graph=graph) as session:
            values = session.run(list(outputs), feed_dict=dict(feed))
    return dict(zip(outputs, values))


@contextlib.contextmanager
def v1_control_flow():
    """Build v1 cond/while (Switch/Merge, Enter/Exit) instead of TF2's If/While, then restore."""
    import tensorflow as tf

    was_v2 = tf.compat.v1.control_flow_v2_enabled()
    tf.compat.v1.disable_control_flow_v2()
    try:
        yield
    finally:
        if was_v2:
            tf.compat.v1.enable_control_flow_v2()


def _variable(tf, rng, shape, name):
    """A ref variable (VariableV2), the TF1 kind, with fixed random values."""
    value = (rng.standard_normal(shape) * 0.5).astype(np.float32)
    return tf.compat.v1.Variable(value, name=name, use_resource=False)


def _freeze(graph, session, outputs) -> bytes:
    import tensorflow as tf

    nodes = sorted({o.split(":")[0] for o in outputs})
    frozen = tf.compat.v1.graph_util.convert_variables_to_constants(session, graph.as_graph_def(), nodes)
    return frozen.SerializeToString()


@contextlib.contextmanager
def _tf1_session(seed: int = 0):
    """A fresh graph (v1 control flow) and a Session with its variables initialised."""
    import tensorflow as tf

    with v1_control_flow(), tf.Graph().as_default() as graph:
        tf.compat.v1.set_random_seed(seed)
        yield graph


def _init_session(tf, graph):
    session = tf.compat.v1.Session(graph=graph)
    session.run(tf.compat.v1.global_variables_initializer())
    return session


def _build_control_flow(tf, rng):
    """The ops of :func:`control_flow`; returns (inputs, outputs, optional)."""
    image = tf.compat.v1.placeholder(tf.uint8, [None, 8, 8, 3], name="image")
    is_training = tf.compat.v1.placeholder_with_default(False, [], name="is_training")
    x = tf.reshape(tf.cast(image, tf.float32) / 255.0, [-1, 8 * 8 * 3])
    w_in = _variable(tf, rng, [192, 6], "w_in")
    w_train = _variable(tf, rng, [6], "w_train")
    w_loop = _variable(tf, rng, [6, 6], "w_loop")
    w_out = _variable(tf, rng, [6, 3], "w_out")
    h = tf.matmul(x, w_in)
    # the variable read inside the branch makes a RefSwitch in the unfrozen graph
    h = tf.compat.v1.cond(is_training, lambda: h * w_train, lambda: h * 0.5, name="train_cond")

    def body(i, state):
        return i + 1, tf.tanh(tf.matmul(state, w_loop))

    _, h = tf.compat.v1.while_loop(lambda i, _: i < 3, body, [tf.constant(0), h], name="refine")
    logits = tf.matmul(h, w_out, name="logits")
    tf.nn.softmax(logits, name="probabilities")
    tf.argmax(logits, axis=1, name="classes")
    return ["image:0"], ["probabilities:0", "classes:0"], {"is_training:0": False}


@functools.lru_cache(maxsize=None)
def control_flow() -> TF1Graph:
    """v1 ``cond`` and v1 ``while_loop``, an ``is_training`` default, a uint8 image, two outputs.

    Inputs: ``image:0`` uint8 [?, 8, 8, 3]. Optional: ``is_training:0`` bool, default False
    (True multiplies by a variable inside the cond; False halves). Outputs:
    ``probabilities:0`` float32 [?, 3] and ``classes:0`` int64 [?]. The frozen graph holds
    Switch, Merge, Enter, Exit, NextIteration and LoopCond.
    """
    import tensorflow as tf

    with _tf1_session() as graph:
        inputs, outputs, optional = _build_control_flow(tf, np.random.default_rng(1))
        with _init_session(tf, graph) as session:
            data = _freeze(graph, session, outputs)
    return TF1Graph(
        "control_flow",
        data,
        tuple(inputs),
        tuple(outputs),
        optional,
        {"image:0": "uint8"},
        {"image:0": (None, 8, 8, 3)},
    )


@functools.lru_cache(maxsize=None)
def two_inputs() -> TF1Graph:
    """Two inputs, two outputs.

    Inputs: ``a:0`` and ``b:0``, float32 [?, 4]. Outputs: ``total:0`` = a*w + b and
    ``difference:0`` = a - b*w, both float32 [?, 4] (w a frozen ref variable).
    """
    import tensorflow as tf

    with _tf1_session() as graph:
        a = tf.compat.v1.placeholder(tf.float32, [None, 4], name="a")
        b = tf.compat.v1.placeholder(tf.float32, [None, 4], name="b")
        w = _variable(tf, np.random.default_rng(2), [4], "w")
        tf.add(a * w, b, name="total")
        tf.subtract(a, b * w, name="difference")
        outputs = ["total:0", "difference:0"]
        with _init_session(tf, graph) as session:
            data = _freeze(graph, session, outputs)
    return TF1Graph(
        "two_inputs",
        data,
        ("a:0", "b:0"),
        tuple(outputs),
        {},
        {"a:0": "float32", "b:0": "float32"},
        {"a:0": (None, 4), "b:0": (None, 4)},
    )


@functools.lru_cache(maxsize=None)
def pinned_devices() -> TF1Graph:
    """Nodes pinned to another machine's device, and a colocation attr naming a pruned node.

    Inputs: ``x:0`` float32 [?, 4]. Outputs: ``y:0`` float32 [?, 2]. Every node's ``device``
    is ``WORKER_DEVICE`` ("/job:worker/task:3/device:GPU:7"); node ``y`` carries
    ``_class: ["loc:@side_branch"]`` and ``side_branch`` was pruned (as strip_unused did), so a plain
    ``import_graph_def`` fails ("colocated with unknown node").
    """
    import tensorflow as tf

    with _tf1_session() as graph:
        x = tf.compat.v1.placeholder(tf.float32, [None, 4], name="x")
        w = _variable(tf, np.random.default_rng(3), [4, 2], "w")
        side = tf.identity(x * 2.0, name="side_branch")  # not needed by y: pruned below
        with graph.colocate_with(side.op):
            tf.matmul(x, w, name="y")
        with _init_session(tf, graph) as session:
            frozen = tf.compat.v1.graph_util.convert_variables_to_constants(session, graph.as_graph_def(), ["y"])
    # convert_variables_to_constants keeps colocated nodes; older tools (strip_unused,
    # transform_graph) did not: drop the side branch the way they did
    side_nodes = {"side_branch", "mul", "mul/y"}
    kept = [node for node in frozen.node if node.name not in side_nodes]
    del frozen.node[:]
    frozen.node.extend(kept)
    for node in frozen.node:
        node.device = WORKER_DEVICE
    names = {node.name for node in frozen.node}
    assert "side_branch" not in names, names
    y = next(node for node in frozen.node if node.name == "y")
    assert list(y.attr["_class"].list.s) == [b"loc:@side_branch"], y.attr["_class"]
    return TF1Graph(
        "pinned_devices",
        frozen.SerializeToString(),
        ("x:0",),
        ("y:0",),
        {},
        {"x:0": "float32"},
        {"x:0": (None, 4)},
    )


@functools.lru_cache(maxsize=None)
def length_nan() -> TF1Graph:
    """An integer length input that makes the outputs NaN when it is 0.

    Inputs: ``x:0`` float32 [?, 8] and ``length:0`` int32 [] (a scalar). Output:
    ``mean:0`` float32 [?]: the mean of the first ``length`` columns of ``x`` times a frozen
    weight, i.e. a sum divided by ``length`` (0/0 = NaN when ``length`` is 0).
    """
    import tensorflow as tf

    with _tf1_session() as graph:
        x = tf.compat.v1.placeholder(tf.float32, [None, 8], name="x")
        length = tf.compat.v1.placeholder(tf.int32, [], name="length")
        w = _variable(tf, np.random.default_rng(4), [8], "w")
        total = tf.reduce_sum((x * w)[:, :length], axis=1)
        tf.divide(total, tf.cast(length, tf.float32), name="mean")
        with _init_session(tf, graph) as session:
            data = _freeze(graph, session, ["mean:0"])
    return TF1Graph(
        "length_nan",
        data,
        ("x:0", "length:0"),
        ("mean:0",),
        {},
        {"x:0": "float32", "length:0": "int32"},
        {"x:0": (None, 8), "length:0": ()},
    )


@functools.lru_cache(maxsize=None)
def regression() -> TF1Graph:
    """A linear regression whose input has unknown shape (not even its rank).

    Inputs: ``x:0`` float32, shape unknown; its consumer (a multiply by a [4] weight, then a
    sum over the last axis) tells that the last dimension is 4. Output: ``prediction:0``
    float32, the input's shape without its last axis. ``shapes["x:0"]`` is None.
    """
    import tensorflow as tf

    with _tf1_session() as graph:
        x = tf.compat.v1.placeholder(tf.float32, None, name="x")
        rng = np.random.default_rng(5)
        w = _variable(tf, rng, [4], "weights")
        b = _variable(tf, rng, [], "bias")
        tf.add(tf.reduce_sum(x * w, axis=-1), b, name="prediction")
        with _init_session(tf, graph) as session:
            data = _freeze(graph, session, ["prediction:0"])
    return TF1Graph("regression", data, ("x:0",), ("prediction:0",), {}, {"x:0": "float32"}, {"x:0": None})


_STEPS, _FEATURES, _UNITS = 5, 3, 6


def _rnn_inputs(tf, rng):
    x = tf.compat.v1.placeholder(tf.float32, [None, _STEPS, _FEATURES], name="sequence")
    keep_prob = tf.compat.v1.placeholder_with_default(1.0, [], name="keep_prob")
    kernel = _variable(tf, rng, [_FEATURES + _UNITS, _UNITS], "rnn/kernel")
    bias = _variable(tf, rng, [_UNITS], "rnn/bias")
    w_out = _variable(tf, rng, [_UNITS, 2], "dense/kernel")
    dropped = tf.compat.v1.nn.dropout(x, keep_prob=keep_prob)

    def cell(inputs, state):  # BasicRNNCell: tanh([x, h] @ W + b)
        return tf.tanh(tf.matmul(tf.concat([inputs, state], 1), kernel) + bias)

    zero = tf.zeros([tf.shape(x)[0], _UNITS])
    return dropped, cell, zero, w_out


def _rnn_result(name, data) -> TF1Graph:
    return TF1Graph(
        name,
        data,
        ("sequence:0",),
        ("logits:0",),
        {"keep_prob:0": 1.0},
        {"sequence:0": "float32"},
        {"sequence:0": (None, _STEPS, _FEATURES)},
    )


@functools.lru_cache(maxsize=None)
def rnn_static() -> TF1Graph:
    """A static (unrolled) TF1 RNN with a ``keep_prob`` input.

    Inputs: ``sequence:0`` float32 [?, 5, 3]. Optional: ``keep_prob:0`` float32, default 1.0
    (dropout on the sequence; below 1 the outputs are random). Output: ``logits:0`` float32
    [?, 2]. No control flow: five copies of the cell.
    """
    import tensorflow as tf

    with _tf1_session() as graph:
        x, cell, state, w_out = _rnn_inputs(tf, np.random.default_rng(6))
        for step in tf.unstack(x, axis=1):
            state = cell(step, state)
        tf.matmul(state, w_out, name="logits")
        with _init_session(tf, graph) as session:
            data = _freeze(graph, session, ["logits:0"])
    return _rnn_result("rnn_static", data)


@functools.lru_cache(maxsize=None)
def rnn_dynamic() -> TF1Graph:
    """A dynamic TF1 RNN (v1 ``while_loop`` over a TensorArray) with a ``keep_prob`` input.

    Same names as :func:`rnn_static` (``sequence:0`` -> ``logits:0``, optional
    ``keep_prob:0``); the frozen graph holds Enter/Exit/LoopCond and TensorArrayV3 ops.
    """
    import tensorflow as tf

    with _tf1_session() as graph:
        x, cell, zero, w_out = _rnn_inputs(tf, np.random.default_rng(6))
        steps = tf.TensorArray(tf.float32, size=_STEPS).unstack(tf.transpose(x, [1, 0, 2]))

        def body(t, state):
            return t + 1, cell(steps.read(t), state)

        _, state = tf.compat.v1.while_loop(lambda t, _: t < _STEPS, body, [tf.constant(0), zero], name="rnn/while")
        tf.matmul(state, w_out, name="logits")
        with _init_session(tf, graph) as session:
            data = _freeze(graph, session, ["logits:0"])
    return _rnn_result("rnn_dynamic", data)


@functools.lru_cache(maxsize=None)
def autoencoder() -> TF1Graph:
    """A dense autoencoder.

    Inputs: ``pixels:0`` float32 [?, 16]. Outputs: ``code:0`` float32 [?, 4] (relu) and
    ``reconstruction:0`` float32 [?, 16] (sigmoid).
    """
    import tensorflow as tf

    with _tf1_session() as graph:
        rng = np.random.default_rng(7)
        x = tf.compat.v1.placeholder(tf.float32, [None, 16], name="pixels")
        encoder = _variable(tf, rng, [16, 4], "encoder/kernel")
        decoder = _variable(tf, rng, [4, 16], "decoder/kernel")
        code = tf.nn.relu(tf.matmul(x, encoder), name="code")
        tf.sigmoid(tf.matmul(code, decoder), name="reconstruction")
        outputs = ["code:0", "reconstruction:0"]
        with _init_session(tf, graph) as session:
            data = _freeze(graph, session, outputs)
    return TF1Graph(
        "autoencoder",
        data,
        ("pixels:0",),
        tuple(outputs),
        {},
        {"pixels:0": "float32"},
        {"pixels:0": (None, 16)},
    )


# ---- artifacts with variables: checkpoints and TF1 SavedModels ----------------------------


@dataclass(frozen=True)
class TF1Artifact:
    """A checkpoint or SavedModel on disk, the names in it, and outputs computed from it."""

    path: Path  # the .meta file, or the SavedModel folder
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    feed: dict[str, np.ndarray]  # the inputs used for `expected`
    expected: dict[str, np.ndarray]  # outputs by name, from a Session run before writing
    optional: dict[str, object] = field(default_factory=dict)
    signature_key: str | None = None  # SavedModels only
    train_op: str | None = None  # checkpoints only: the training op in the .meta graph


def write_checkpoint(folder: Path, *, control_flow: bool = True) -> TF1Artifact:
    """A TF1 checkpoint of a trainable graph: ``model.ckpt.meta``/``.index``/``.data-*`` and
    the ``checkpoint`` file, in ``folder``.

    With ``control_flow`` (the default) the graph is :func:`control_flow`'s (``image:0`` ->
    ``probabilities:0``, ``classes:0``, optional ``is_training:0``); otherwise a dense
    classifier (``features:0`` float32 [?, 4] -> ``probabilities:0`` [?, 3],
    ``classes:0``). Both add a label placeholder ``labels:0``, a loss of ``logits:0``
    (``loss:0``, in the ``losses`` collection), a
    GradientDescent step (``train_op``, returned in ``train_op``), and a global step, as
    TF1 training scripts did; one step is run before saving, so the variables differ from
    their initial values. ``path`` is the ``.meta`` file; ``expected`` holds the outputs of
    a Session run of ``feed`` just before saving.
    """
    import tensorflow as tf

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(8)
    with _tf1_session() as graph:
        if control_flow:
            inputs, outputs, optional = _build_control_flow(tf, rng)
            feed = {"image:0": rng.integers(0, 256, size=(2, 8, 8, 3), dtype=np.uint8)}
        else:
            x = tf.compat.v1.placeholder(tf.float32, [None, 4], name="features")
            w = _variable(tf, rng, [4, 3], "dense/kernel")
            b = _variable(tf, rng, [3], "dense/bias")
            logits = tf.add(tf.matmul(x, w), b, name="logits")
            tf.nn.softmax(logits, name="probabilities")
            tf.argmax(logits, axis=1, name="classes")
            inputs, outputs, optional = ["features:0"], ["probabilities:0", "classes:0"], {}
            feed = {"features:0": rng.standard_normal((2, 4)).astype(np.float32)}
        labels = tf.compat.v1.placeholder(tf.int64, [None], name="labels")
        # the TF1 idiom: the loss reads the logits, not the softmax
        loss = tf.identity(
            tf.compat.v1.losses.sparse_softmax_cross_entropy(labels, graph.get_tensor_by_name("logits:0")),
            name="loss",
        )
        step = tf.compat.v1.train.get_or_create_global_step()
        train = tf.compat.v1.train.GradientDescentOptimizer(0.5).minimize(loss, global_step=step, name="train_op")
        saver = tf.compat.v1.train.Saver()
        with _init_session(tf, graph) as session:
            session.run(train, {**feed, "labels:0": np.array([0, 1])})
            values = session.run(outputs, feed)
            saver.save(session, str(folder / "model.ckpt"))
    return TF1Artifact(
        folder / "model.ckpt.meta",
        tuple(inputs),
        tuple(outputs),
        feed,
        dict(zip(outputs, values)),
        optional,
        train_op="train_op",
    )


def _dense_classifier(tf, rng):
    x = tf.compat.v1.placeholder(tf.float32, [None, 4], name="features")
    w = _variable(tf, rng, [4, 3], "dense/kernel")
    b = _variable(tf, rng, [3], "dense/bias")
    scores = tf.nn.softmax(tf.matmul(x, w) + b, name="scores")
    feed = {"features:0": rng.standard_normal((2, 4)).astype(np.float32)}
    return x, scores, feed


def write_saved_model_simple_save(folder: Path) -> TF1Artifact:
    """A TF1 SavedModel written by ``tf.compat.v1.saved_model.simple_save`` into ``folder``
    (which must not exist yet).

    Signature ``serving_default``: input key ``features`` (``features:0`` float32 [?, 4]),
    output key ``scores`` (``scores:0`` float32 [?, 3]). ``inputs``/``outputs`` hold the
    tensor names; ``expected`` is keyed by ``scores:0``.
    """
    import tensorflow as tf

    with _tf1_session() as graph:
        x, scores, feed = _dense_classifier(tf, np.random.default_rng(9))
        with _init_session(tf, graph) as session:
            expected = session.run(scores, feed)
            tf.compat.v1.saved_model.simple_save(
                session, str(folder), inputs={"features": x}, outputs={"scores": scores}
            )
    return TF1Artifact(
        Path(folder),
        ("features:0",),
        ("scores:0",),
        feed,
        {"scores:0": expected},
        signature_key="serving_default",
    )


def write_saved_model_control_flow(folder: Path) -> TF1Artifact:
    """:func:`control_flow`'s graph (v1 cond + while, ref variables) as a TF1 SavedModel written by
    ``simple_save`` into ``folder`` (which must not exist yet).

    Signature ``serving_default``: input key ``image`` (``image:0`` uint8 [?, 8, 8, 3]),
    output keys ``classes`` (``classes:0``) and ``probabilities`` (``probabilities:0``);
    ``is_training:0`` stays an optional input (default False). ``expected`` is keyed by
    tensor name.
    """
    import tensorflow as tf

    rng = np.random.default_rng(12)
    with _tf1_session() as graph:
        inputs, outputs, optional = _build_control_flow(tf, rng)
        feed = {"image:0": rng.integers(0, 256, size=(2, 8, 8, 3), dtype=np.uint8)}
        with _init_session(tf, graph) as session:
            values = session.run(outputs, feed)
            tf.compat.v1.saved_model.simple_save(
                session,
                str(folder),
                inputs={"image": graph.get_tensor_by_name("image:0")},
                outputs={name.split(":")[0]: graph.get_tensor_by_name(name) for name in outputs},
            )
    return TF1Artifact(
        Path(folder),
        tuple(inputs),
        tuple(outputs),
        feed,
        dict(zip(outputs, values)),
        optional,
        signature_key="serving_default",
    )


def write_saved_model_builder(folder: Path, *, asset: bool = False, main_op: bool = False) -> TF1Artifact:
    """A TF1 SavedModel written by ``tf.compat.v1.saved_model.Builder`` into ``folder``
    (which must not exist yet), tag ``serve``.

    Signature ``serving_default`` (a predict signature): input key ``features``
    (``features:0`` float32 [?, 4]), output key ``scores`` (``scores:0`` float32 [?, 3]).
    With ``asset``, a vocabulary file is registered in the TF1 ``ASSET_FILEPATHS``
    collection and read by a lookup table initialised by the ``main_op`` (``legacy_init_op``
    semantics); the table's size is added to the scores (``scores:0`` still). With
    ``main_op``, a ``main_op`` that also initialises tables is saved.
    """
    import tensorflow as tf

    folder = Path(folder)
    with _tf1_session() as graph:
        x, scores, feed = _dense_classifier(tf, np.random.default_rng(10))
        assets = None
        init_op = None
        if asset:
            folder.parent.mkdir(parents=True, exist_ok=True)
            vocab = folder.parent / f"{folder.name}_vocab.txt"
            vocab.write_text("alpha\nbeta\ngamma\n")
            vocab_tensor = tf.constant(str(vocab), name="vocab_path")
            tf.compat.v1.add_to_collection(tf.compat.v1.GraphKeys.ASSET_FILEPATHS, vocab_tensor)
            table = tf.compat.v1.lookup.StaticHashTable(
                tf.compat.v1.lookup.TextFileInitializer(
                    vocab_tensor,
                    tf.string,
                    tf.compat.v1.lookup.TextFileIndex.WHOLE_LINE,
                    tf.int64,
                    tf.compat.v1.lookup.TextFileIndex.LINE_NUMBER,
                ),
                default_value=-1,
            )
            size = tf.cast(table.lookup(tf.constant("gamma")), tf.float32)
            scores = tf.add(scores, size, name="scores_with_vocab")
            assets = tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.ASSET_FILEPATHS)
        if asset or main_op:
            init_op = tf.group(tf.compat.v1.tables_initializer(), name="main_op")
        with _init_session(tf, graph) as session:
            if init_op is not None:
                session.run(init_op)
            expected = session.run(scores, feed)
            builder = tf.compat.v1.saved_model.Builder(str(folder))
            signature = tf.compat.v1.saved_model.predict_signature_def(
                inputs={"features": x}, outputs={"scores": scores}
            )
            builder.add_meta_graph_and_variables(
                session,
                [tf.compat.v1.saved_model.tag_constants.SERVING],
                signature_def_map={"serving_default": signature},
                assets_collection=assets,
                main_op=init_op,
            )
            builder.save()
    return TF1Artifact(
        folder,
        ("features:0",),
        (scores.name,),
        feed,
        {scores.name: expected},
        signature_key="serving_default",
    )


def write_saved_model_v1_only(folder: Path) -> TF1Artifact:
    """A builder SavedModel with a TF1 asset and a ``main_op``: see
    :func:`write_saved_model_builder` (``asset=True``). Output tensor ``scores_with_vocab:0``.

    TF 2.21's ``tf.saved_model.load`` reads it; its lookup table cannot be frozen.
    """
    return write_saved_model_builder(folder, asset=True)


def write_saved_model_with_slots(folder: Path) -> TF1Artifact:
    """A SavedModel whose object graph holds optimizer slot variables, the way Keras 2 saved a
    model with its optimizer state: TF 2.21's ``tf.saved_model.load`` fails on it
    (``'_UserObject' object has no attribute 'add_slot'``); TF's v1 loader reads it.

    Written eagerly with ``tf.saved_model.save`` from a ``tf.Module`` holding a
    ``tf.compat.v1.train.AdamOptimizer`` after one step (Adam's ``m``/``v`` slots). Signature
    ``serving_default``: input key ``features`` (float32 [?, 4]), output key ``scores``
    (float32 [?, 3]). ``inputs``/``outputs`` hold the signature's tensor names as the v1
    loader sees them (``serving_default_features:0``, ``StatefulPartitionedCall:0``);
    ``expected`` is keyed by the output tensor name.
    """
    import tensorflow as tf

    rng = np.random.default_rng(11)

    class Classifier(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.kernel = tf.Variable(rng.standard_normal((4, 3)).astype(np.float32), name="kernel")
            self.optimizer = tf.compat.v1.train.AdamOptimizer(0.1)

        @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="features")])
        def serve(self, features):
            return {"scores": tf.nn.softmax(tf.matmul(features, self.kernel))}

    model = Classifier()
    feed = rng.standard_normal((2, 4)).astype(np.float32)
    model.optimizer.minimize(lambda: tf.reduce_sum(tf.matmul(feed, model.kernel) ** 2), var_list=[model.kernel])
    expected = model.serve(feed)["scores"].numpy()
    tf.saved_model.save(model, str(folder), signatures={"serving_default": model.serve})
    return TF1Artifact(
        Path(folder),
        ("serving_default_features:0",),
        ("StatefulPartitionedCall:0",),
        {"serving_default_features:0": feed},
        {"StatefulPartitionedCall:0": expected},
        signature_key="serving_default",
    )


@functools.lru_cache(maxsize=None)
def training_residue() -> TF1Graph:
    """A TF1 training graph frozen as older tools left it: it does not import ("expected float_ref").

    Inputs: ``x:0`` float32 [?, 4]. Optional: ``is_training:0`` bool, default False (a v1 cond
    picks the batch mean or the moving mean). Outputs: ``y:0`` float32 [?, 3] = x @ w - mean,
    computed after a control edge on ``AssignMovingAvg``, an ``AssignSub`` on the frozen
    ``moving_mean``; the cond's ``Switch`` on the moving mean is a ``RefSwitch`` fed by the
    constant, as TF1's ``freeze_graph`` left it. :func:`residue_reference` computes ``y``.
    """
    import tensorflow as tf

    with _tf1_session() as graph:
        rng = np.random.default_rng(5)
        x = tf.compat.v1.placeholder(tf.float32, [None, 4], name="x")
        is_training = tf.compat.v1.placeholder_with_default(False, [], name="is_training")
        w = _variable(tf, rng, [4, 3], "w")
        mean = tf.compat.v1.Variable(np.full(3, 0.25, np.float32), name="moving_mean", use_resource=False)
        h = tf.matmul(x, w)
        batch_mean = tf.reduce_mean(h, axis=0)
        m = tf.compat.v1.cond(is_training, lambda: batch_mean, lambda: tf.identity(mean), name="bn_cond")
        update = tf.compat.v1.assign_sub(mean, (mean - batch_mean) * 0.01, name="AssignMovingAvg")
        with tf.control_dependencies([update]):
            tf.identity(h - m, name="y")
        with _init_session(tf, graph) as session:
            frozen = tf.compat.v1.graph_util.convert_variables_to_constants(session, graph.as_graph_def(), ["y"])
    switch = next(node for node in frozen.node if node.op == "Switch" and node.input[0] == "moving_mean/read")
    switch.op = "RefSwitch"
    switch.input[0] = "moving_mean"
    return TF1Graph("training_residue", frozen.SerializeToString(), ("x:0",), ("y:0",), {"is_training:0": False},
                    {"x:0": "float32"}, {"x:0": (None, 4)})


def residue_reference(graph: TF1Graph, x: np.ndarray) -> np.ndarray:
    """``y`` of :func:`training_residue` at inference, computed from its constants with NumPy."""
    from tensorflow.python.framework import tensor_util

    consts = {n.name: tensor_util.MakeNdarray(n.attr["value"].tensor) for n in graph.graph_def.node if n.op == "Const"}
    return x @ consts["w"] - consts["moving_mean"]
