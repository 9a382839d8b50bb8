"""Export a frozen graph to OpenVINO IR (``NAME.xml`` + ``NAME.bin``), checked at float32.

OpenVINO reads a frozen ``.pb`` itself: its TensorFlow frontend parses the GraphDef (no
TensorFlow needed), and ``openvino.convert_model`` turns it into an ``ov.Model``, which
``openvino.save_model`` writes as IR. Two defaults would change the numbers, and both are
turned off here:

- ``save_model`` compresses the weights to float16 unless told ``compress_to_fp16=False``;
- the CPU plugin computes in bfloat16 on CPUs that have it (AMX, AVX-512 BF16) unless its
  ``INFERENCE_PRECISION_HINT`` says ``f32``. On such a CPU the tutorial CNN's outputs then move
  by about 1e-2 instead of 1e-7. :class:`~graphfreeze_helpers.runner.OpenVINORunner` asks for
  float32 unless told otherwise.

The IR is run by that runner (no TensorFlow) and compared with the frozen graph, output by output.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from . import files
from .errors import GraphFormatError, InputError
from .freeze import FrozenGraph
from .load import LoadedGraph
from .optimize import check_against
from .runner import OpenVINORunner, openvino_error_line
from .tfimport import to_tf_graph_def
from .verify import DEFAULT_RTOL, DEFAULT_TOLERANCE, Verification


@dataclass
class OpenVINOExport:
    """OpenVINO IR (the ``.xml`` topology and ``.bin`` weights), and its check against the frozen graph."""

    xml: bytes = field(repr=False)
    bin: bytes = field(repr=False)
    ops: dict[str, int]
    precision: str = "f32"  # what the CPU plugin computed in when it was checked
    verification: Optional[Verification] = None
    path: Optional[Path] = None  # the .xml, once saved
    format: str = "openvino"

    @property
    def bytes(self) -> int:
        return len(self.xml) + len(self.bin)

    @property
    def max_abs_diff(self) -> Optional[float]:
        return None if self.verification is None else self.verification.max_abs_diff

    @property
    def sha256(self) -> str:
        return files.sha256_bytes(self.xml + self.bin)

    def save(self, folder: str | Path, *, force: bool = False, name: str = "model") -> Path:
        """Write ``FOLDER/NAME.xml`` and ``FOLDER/NAME.bin`` (both or neither); never overwrite without ``force``."""
        folder = Path(folder)
        if folder.exists() and not folder.is_dir():
            raise InputError(f"output {str(folder)!r} is a file; OpenVINO IR is written to a folder")
        xml = folder / f"{name}.xml"
        files.check_writable([xml, xml.with_suffix(".bin")] if folder.is_dir() else [folder], force=force)
        folder.mkdir(exist_ok=True)
        files.write_files_atomically({xml: self.xml, xml.with_suffix(".bin"): self.bin}, force=force)
        self.path = xml
        return xml

    def __repr__(self) -> str:
        ops = ", ".join(f"{op}:{n}" for op, n in list(self.ops.items())[:8])
        check = f", {self.verification!r}" if self.verification else ""
        return f"OpenVINOExport(bytes={self.bytes:,}, precision={self.precision}, ops={{{ops}}}{check})"


def to_openvino(frozen: FrozenGraph) -> tuple[bytes, bytes]:
    """The frozen GraphDef as OpenVINO IR ``(xml, bin)``: float32 weights, the graph's input and output names."""
    import openvino as ov

    with tempfile.TemporaryDirectory(prefix="graphfreeze-openvino-") as scratch:
        pb = Path(scratch) / "graph.pb"
        pb.write_bytes(to_tf_graph_def(frozen.graph_def).SerializeToString())
        shapes = [(t.name, [-1 if d is None else d for d in t.shape]) if t.shape is not None else t.name
                  for t in frozen.inputs]
        try:
            model = ov.convert_model(str(pb), input=shapes, output=[t.name for t in frozen.outputs])
        except Exception as exc:  # OpenVINO's OpConversionFailure, GeneralFailure...
            raise GraphFormatError(f"OpenVINO conversion failed: {openvino_error_line(exc)}") from None
        xml = Path(scratch) / "model.xml"
        ov.save_model(model, str(xml), compress_to_fp16=False)  # the default would store float16 weights
        return xml.read_bytes(), xml.with_suffix(".bin").read_bytes()


def ir_ops(xml: bytes) -> dict[str, int]:
    """Op histogram of an IR's layers (``Convolution``, ``Relu``...), without Parameter/Result/Constant."""
    import re
    from collections import Counter

    kinds = re.findall(rb'<layer [^>]*type="(\w+)"', xml)
    found = Counter(k.decode() for k in kinds if k not in (b"Parameter", b"Result", b"Const"))
    return dict(found.most_common())


def output_names(runner: OpenVINORunner, frozen: FrozenGraph) -> list[str]:
    """The frozen graph's name for each runner output (OpenVINO keeps every name a tensor had)."""
    return [next((t.name for t in frozen.outputs if t.name in names), own)
            for names, own in zip(runner.output_name_sets, runner.output_names)]


def export_openvino(
    frozen: FrozenGraph,
    *,
    inputs: Optional[Sequence[Any]] = None,
    reference: Optional[Callable[..., Any]] = None,
    tolerance: float = DEFAULT_TOLERANCE,
    rtol: float = DEFAULT_RTOL,
    check: bool = True,
    precision: str = "f32",
) -> OpenVINOExport:
    """Convert ``frozen`` to OpenVINO IR and, with ``check``, run it at ``precision`` against ``reference``
    (default: the frozen graph) on ``inputs``; beyond ``tolerance + rtol * |reference|`` raises VerificationError."""
    xml, weights = to_openvino(frozen)
    exported = OpenVINOExport(xml, weights, ir_ops(xml), precision=precision)
    if check:
        runner = OpenVINORunner((xml, weights), precision=precision)
        exported.precision = runner.precision
        positions = [next((i for i, t in enumerate(frozen.inputs) if t.name == name), k)
                     for k, name in enumerate(runner.input_names)]
        if reference is None:
            reference = LoadedGraph(frozen.graph_def, frozen.inputs, frozen.outputs)

        def candidate(*arrays: Any) -> Any:
            return runner(*[arrays[p] for p in positions])

        exported.verification = check_against(
            reference, candidate, frozen, inputs, tolerance=tolerance, rtol=rtol,
            what=f"the OpenVINO export ({runner.precision})", against="the frozen graph",
            candidate_names=output_names(runner, frozen),
        )
    return exported


def default_folder(graph_path: str | Path) -> Path:
    """``model.pb`` → ``model_openvino/`` (``model.xml`` and ``model.bin`` inside)."""
    return Path(graph_path).with_name(Path(graph_path).stem + "_openvino")


__all__ = ["OpenVINOExport", "default_folder", "export_openvino", "ir_ops", "output_names", "to_openvino"]
