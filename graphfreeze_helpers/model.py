"""The tutorial's small model: a CNN with BatchNorm and Dropout, trained with fixed seeds.

BatchNorm and Dropout behave differently in training and in inference, which is exactly
what freezing has to get right: the frozen graph must hold the inference behaviour only.

With the defaults of :func:`train` (20 epochs of 64 images, Adam from 0.02 with a cosine
decay) the model reaches about 98.6% test accuracy on the shipped digits in a few seconds on
2 CPU cores, and the same number on every run on a machine: the seeds are fixed and
TensorFlow's op determinism is on.
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .data import Digits, load_digits
from .errors import InputError, OutputExistsError
from .files import write_files_atomically
from .tfimport import captured_stderr, import_tensorflow

# TensorFlow 2.21 logs this once per Keras fit/evaluate when op determinism is on (tf.data's
# graph names an attribute its own op registry lacks); it is harmless, and nothing to act on.
DETERMINISM_NOISE = "NodeDef mentions attribute use_unbounded_threadpool"


@dataclass(frozen=True)
class TrainResult:
    """What training produced: per-epoch history, test accuracy and wall time."""

    test_accuracy: float
    epochs: int
    seconds: float
    history: dict[str, list[float]] = field(repr=False)

    def __repr__(self) -> str:
        return f"TrainResult(test_accuracy={self.test_accuracy:.4f}, epochs={self.epochs}, seconds={self.seconds:.1f})"


def build_model(
    input_shape: tuple[int, ...] = (8, 8, 1),
    num_classes: int = 10,
    *,
    width: int = 16,
    depth: int = 2,
    dropout: float = 0.25,
    seed: int = 0,
) -> Any:
    """A Keras functional CNN: ``depth`` blocks of Conv2D → BatchNorm → ReLU, then pooling,
    Dropout and a softmax classifier. ``width`` is the first block's filter count."""
    if width < 1 or depth < 1:
        raise InputError(f"width and depth must be at least 1, got width={width}, depth={depth}")
    if not 0.0 <= dropout < 1.0:
        raise InputError(f"dropout must be in [0, 1), got {dropout}")
    import_tensorflow()
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    for block in range(depth):
        x = keras.layers.Conv2D(width * 2**block, 3, padding="same", use_bias=False, name=f"conv{block}")(x)
        x = keras.layers.BatchNormalization(momentum=0.9, name=f"bn{block}")(x)
        x = keras.layers.ReLU(name=f"relu{block}")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="digits_cnn")


EPOCHS = 20
BATCH_SIZE = 64
LEARNING_RATE = 0.02


def train(
    model: Any,
    data: Digits,
    *,
    epochs: int = EPOCHS,
    batch_size: int = BATCH_SIZE,
    learning_rate: float = LEARNING_RATE,
    seed: int = 0,
    deterministic: bool = True,
) -> TrainResult:
    """Compile and fit ``model`` on ``data``; return the history and the test accuracy.

    Adam starts at ``learning_rate`` and decays to 0 along a cosine over the run. The seeds
    are set from ``seed``; ``deterministic`` also turns on TensorFlow's op determinism while
    ``fit`` and ``evaluate`` run (and back off after, if it was off), so the same arguments give
    the same accuracy on every run on a machine.
    """
    if epochs < 1:
        raise InputError(f"epochs must be at least 1, got {epochs}")
    if batch_size < 1:
        raise InputError(f"batch_size must be at least 1, got {batch_size}")
    if not learning_rate > 0:
        raise InputError(f"learning_rate must be above 0, got {learning_rate}")
    tf = import_tensorflow()
    import keras
    from tensorflow.python.framework import config as tf_config  # the only way to turn determinism back off

    switch = deterministic and not tf_config.is_op_determinism_enabled()
    keras.utils.set_random_seed(seed)
    steps = epochs * -(-len(data.x_train) // batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=steps)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    lines: list[str] = []
    if switch:
        tf.config.experimental.enable_op_determinism()
    try:
        with captured_stderr() as lines:
            start = time.perf_counter()
            fit = model.fit(data.x_train, data.y_train, epochs=epochs, batch_size=batch_size, verbose=0, shuffle=True)
            seconds = time.perf_counter() - start
            _, accuracy = model.evaluate(data.x_test, data.y_test, verbose=0)
    finally:
        if switch:  # only while training: afterwards the process is as it was (and predict() logs no noise)
            tf_config.disable_op_determinism()
        kept = [line for line in lines if DETERMINISM_NOISE not in line]
        if kept:  # anything else TensorFlow wrote goes back to stderr, as it came
            sys.stderr.write("\n".join(kept) + "\n")
    history = {key: [float(v) for v in values] for key, values in fit.history.items()}
    return TrainResult(float(accuracy), epochs, seconds, history)


def predict_classes(probabilities: np.ndarray) -> np.ndarray:
    return np.asarray(probabilities).argmax(axis=-1)


TUTORIAL_MODEL = "digits_cnn.keras"


def ensure_tutorial_model(
    artifacts_dir: str | Path,
    *,
    epochs: int = EPOCHS,
    width: int = 16,
    depth: int = 2,
    batch_size: int = BATCH_SIZE,
    seed: int = 0,
) -> Path:
    """Return ``{artifacts_dir}/digits_cnn.keras``, training and saving it first if it is missing.

    Notebooks after 01 call this so that each one also runs on its own. An existing file is
    never replaced; the new one is written atomically (temporary file, then a link).
    """
    folder = Path(artifacts_dir)
    target = folder / TUTORIAL_MODEL
    if target.is_file():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    model = build_model(width=width, depth=depth, seed=seed)
    train(model, load_digits(), epochs=epochs, batch_size=batch_size, seed=seed)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".tutorial-model.") as scratch:
        staged = Path(scratch) / TUTORIAL_MODEL
        model.save(staged)
        try:
            write_files_atomically({target: staged.read_bytes()})
        except OutputExistsError:  # written meanwhile by another process: keep theirs
            pass
    return target
