"""graphfreeze_helpers: freeze TensorFlow 2 models to a single GraphDef, then inspect,
load, benchmark, optimize and export it.

The pipeline has one module per stage: ``data`` → ``model`` → ``freeze`` → ``summary`` →
``load`` → ``bench`` → ``optimize``/``export``. Importing this package does not import
TensorFlow; the stages that need it import it (quietly, :mod:`.tfimport`) when first called.
"""

from .errors import GraphFreezeError

__version__ = "0.1.0"
__all__ = ["GraphFreezeError", "__version__"]
