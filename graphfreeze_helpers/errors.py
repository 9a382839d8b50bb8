"""One family of exceptions. Each carries the exit code the ``graphfreeze`` command uses.

A message says what was wrong, what was found, and what to do about it.
"""

from __future__ import annotations


class GraphFreezeError(Exception):
    """Base class of every error the helpers raise on purpose."""

    exit_code = 2


class InputError(GraphFreezeError):
    """A user's input is missing, unreadable or of the wrong kind (exit 2)."""


class DataError(InputError):
    """The shipped data file is missing or corrupt."""


class ModelLoadError(InputError):
    """A model file or directory could not be read as a model."""


class GraphFormatError(InputError):
    """A file that should be a GraphDef is not one (or is damaged)."""


class TensorNameError(InputError):
    """A tensor name is not in the graph."""


class ShapeError(InputError):
    """An input array has the wrong shape or dtype."""


class OutputExistsError(InputError):
    """The output file already exists and overwriting was not asked for."""


class IntegrityError(InputError):
    """A ``.pb`` does not match the sha256 recorded in its sidecar."""


class RefusedError(GraphFreezeError):
    """The tool refuses to produce or run something (exit 3)."""

    exit_code = 3


class VerificationError(RefusedError):
    """The frozen graph's outputs differ from the original model's beyond tolerance."""


class NotFrozenError(RefusedError):
    """Variables or Python callbacks survived freezing."""


class UnsafeGraphError(RefusedError):
    """The graph holds ops that reach outside the process (files, Python, network)."""


class UnsupportedGraphError(RefusedError):
    """A runtime cannot read or run the graph (OpenCV's importer crashed, failed or disagreed)."""


class TooLargeError(RefusedError):
    """The frozen graph would pass protobuf's 2 GiB limit for one message."""
