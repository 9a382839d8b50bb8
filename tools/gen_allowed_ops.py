"""Write ``graphfreeze_helpers/allowed_ops.json``: the ops known to only compute on their inputs.

The allow-list is derived from the installed TensorFlow's op registry (``TF_GetAllOpList``)
and its kernel registry, by the rules below, in order. An op is allowed when an ALLOW rule
names it, or when no EXCLUDE rule matches it. Every registry op lands in exactly one group,
and each group says why. The registry's op names and their sha256 are recorded, so a test
notices when the installed TensorFlow's registry changes under the file.

    .venv/bin/python tools/gen_allowed_ops.py            # rewrite the file
    .venv/bin/python tools/gen_allowed_ops.py --check    # exit 1 if the file is out of date

Run it after upgrading TensorFlow, read the diff (new ops land in a group by the rules; check
that each new allowed op only computes), and commit the file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "graphfreeze_helpers" / "allowed_ops.json"
sys.path.insert(0, str(ROOT))

from graphfreeze_helpers.files import write_files_atomically  # noqa: E402
from graphfreeze_helpers.ops import TENSOR_ARRAY_OPS, TF_ONLY_OPS, UNSAFE_OPS  # noqa: E402

DT_STRING, DT_RESOURCE, DT_VARIANT = 7, 20, 21

# --- ops allowed although a rule below would exclude them ------------------------------------

ALLOW: dict[str, tuple[str, frozenset[str]]] = {
    "functional_control_flow": (
        "runs functions of the graph's own library, which the scan walks too (branches, loop bodies, calls)",
        frozenset({"If", "StatelessIf", "While", "StatelessWhile", "Case", "StatelessCase", "PartitionedCall",
                   "StatefulPartitionedCall"}),
    ),
    "v1_ref_control_flow": (
        "TF1 control flow on a ref tensor: forwards it unchanged (the loader runs their plain twins)",
        frozenset({"RefSwitch", "RefMerge", "RefEnter", "RefExit", "RefNextIteration", "RefIdentity"}),
    ),
    "tensor_arrays": (
        "TF1 TensorArray: an array the graph makes and drops within one run (dynamic_rnn's sequences)",
        TENSOR_ARRAY_OPS | {"TensorArrayGradWithShape"},
    ),
    "random": (
        "random numbers from the op's own generator; no state outside the op",
        frozenset({"RandomUniform", "RandomUniformInt", "RandomStandardNormal", "TruncatedNormal",
                   "ParameterizedTruncatedNormal", "RandomShuffle", "RandomGamma", "RandomPoisson", "RandomPoissonV2",
                   "Multinomial", "RandomCrop", "SampleDistortedBoundingBox", "SampleDistortedBoundingBoxV2",
                   "StatelessRandomGetAlg"}),
    ),
    "checks_and_printing": (
        "checks a value or prints it to the process's own stderr (PrintV2 to a file stays a finding of the scan)",
        frozenset({"Assert", "CheckNumerics", "CheckNumericsV2", "Print", "PrintV2", "GuaranteeConst"}),
    ),
    "grappler_fused": (
        "grappler's fused kernels (optimize --target tensorflow writes them): a convolution or matmul "
        "with its bias and activation",
        frozenset(TF_ONLY_OPS | {"_FusedConv3D"}),
    ),
}

# --- ops left out, with the reason for each family -------------------------------------------

NESTED_PROGRAMS = frozenset({
    "DatasetFromGraph", "DeserializeIterator", "XlaCallModule", "MlirPassthroughOp", "TPUCompile",
    "_TPUCompileMlir", "TPUPartitionedCall", "SymbolicGradient", "BatchFunction", "MapDefun", "For",
})
READS_FILES = frozenset({"GenerateVocabRemapping", "DecodeProtoV2", "EncodeProto"})
PROCESS = frozenset({"Abort", "Timestamp", "SleepOp", "SleepIdentityOp", "Empty", "GetDeadline",
                     "IsTensorFloat32Enabled", "GraphDefVersion", "RequiresOlderGraphVersion", "CustomAggregator"})
TEST_AND_DEBUG = frozenset({"Copy", "CopyHost", "ConstructionFails", "KernelLabel", "KernelLabelRequired", "Old",
                            "WindowOp", "Fact", "CheckPinned", "DevicePlacementOp", "DtypeWithDefaultOp", "TestAttr"})
TF_DATA_EXTRA = frozenset({"GetElementAtIndex", "GetOptions", "ComputeBatchSize", "CompressElement",
                           "UncompressElement"})
SESSION_STATE = frozenset({"GetSessionHandle", "GetSessionHandleV2", "GetSessionTensor", "DeleteSessionTensor"})
DISTRIBUTED = re.compile(
    r"TPU|Tpu|Xla|Collective|Nccl|DTensor|Mesh|Relayout|Infeed|Outfeed|SparseCore|Prelinearize|AllToAll|"
    r"CrossReplicaSum|SyncDevice|WorkerHeartbeat|DeviceIndex|GlobalIterId|Minibatch|DedupData|CopyToMesh"
)

Rule = Callable[[str, Any, set[str]], bool]


def _func_attrs(op: Any) -> bool:
    return any(a.type in ("func", "list(func)") for a in op.attr)


CARRIERS = ("func", "list(func)", "string", "list(string)", "tensor", "list(tensor)")


def _carries(op: Any) -> bool:
    """Does the op declare an attr that can hold a function, a free string or a tensor (a nested program)?

    A string attr with allowed values (``padding``: SAME or VALID) holds one of them or fails to import.
    """
    return any(a.type in CARRIERS and not (a.type == "string" and a.allowed_values.list.s) for a in op.attr)


def _arg_types(op: Any) -> set[int]:
    return {a.type for a in list(op.input_arg) + list(op.output_arg)}


EXCLUDE: list[tuple[str, str, Rule]] = [
    ("deny_list", "reaches outside the process (files, Python, network, debugger, summaries, TPU system): "
     "graphfreeze scan gives each one's reason (ops.UNSAFE_OPS)",
     lambda name, op, cpu: name in UNSAFE_OPS),
    ("nested_program", "runs a program it carries or names (a serialized graph, function, dataset, MLIR or "
     "XLA module, or a function it runs otherwise than as control flow): what it runs is not the graph the "
     "scan reads",
     lambda name, op, cpu: name in NESTED_PROGRAMS or _func_attrs(op)),
    ("tf_data", "tf.data pipelines and iterators: they run functions on their own threads, can read files and "
     "some take a serialized graph",
     lambda name, op, cpu: "Dataset" in name or "Iterator" in name or name in TF_DATA_EXTRA),
    ("reads_files", "may read a file an input or attr names (a vocabulary, a proto descriptor set)",
     lambda name, op, cpu: name in READS_FILES),
    ("process", "acts on the process rather than on its inputs (abort, sleep, clock, uninitialized memory, "
     "process-wide calibration statistics, runtime settings)",
     lambda name, op, cpu: name in PROCESS),
    ("test_and_debug", "TensorFlow's own test ops and the debugger's copy ops: part of no model",
     lambda name, op, cpu: name in TEST_AND_DEBUG),
    ("session_state", "keeps tensors between runs of a session by handle",
     lambda name, op, cpu: name in SESSION_STATE),
    ("distributed", "TPU, XLA, DTensor and collective ops: other devices, hosts or compilers",
     lambda name, op, cpu: bool(DISTRIBUTED.search(name))),
    ("internal", "internal ops TensorFlow's runtime inserts by itself (placement, MKL rewrites, send/recv); a "
     "saved graph does not hold them",
     lambda name, op, cpu: name.startswith("_")),
    ("shared_state", "a resource shared by name between runs and sessions (shared_name/container attrs: "
     "variables, tables, queues, staging areas, barriers)",
     lambda name, op, cpu: any(a.name in ("shared_name", "container") for a in op.attr)),
    ("resources", "reads or writes a resource or ref tensor (variables, tables, mutexes, stacks): state that "
     "outlives the op; a frozen graph holds none",
     lambda name, op, cpu: DT_RESOURCE in _arg_types(op) or any(a.is_ref for a in list(op.input_arg)
                                                                  + list(op.output_arg))),
    ("stateful", "marked stateful by TensorFlow (side effects, or state kept between runs) and not known "
     "to be harmless",
     lambda name, op, cpu: op.is_stateful),
    ("no_cpu_kernel", "no kernel for the CPU in this TensorFlow build: test-only ops, GPU-only ops, ops that "
     "only exist to be rewritten",
     lambda name, op, cpu: name not in cpu),
]
COMPUTES = ("computes", "computes outputs from its inputs and attrs only: math, array, nn, image, strings, "
            "sparse, quantization, TensorList, v1 control flow")


def registry() -> tuple[str, dict[str, Any], set[str]]:
    """(TensorFlow version, {op name: OpDef}, op names with a CPU or any-device kernel) of the installed TensorFlow."""
    from graphfreeze_helpers.tfimport import registered_op_list

    version, op_list = registered_op_list()
    from tensorflow.python.framework import kernels

    cpu = {k.op for k in kernels.get_all_registered_kernels().kernel if k.device_type in ("CPU", "DEFAULT")}
    return version, {op.name: op for op in op_list.op}, cpu


def registry_sha256(names: list[str]) -> str:
    """sha256 of the sorted op names, one a line: what the file records of the registry it was made from."""
    return hashlib.sha256("\n".join(sorted(names)).encode()).hexdigest()


def classify(ops: dict[str, Any], cpu: set[str]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    allowed: dict[str, list[str]] = {family: [] for family in [COMPUTES[0], *ALLOW]}
    excluded: dict[str, list[str]] = {family: [] for family, _, _ in EXCLUDE}
    for name in sorted(ops):
        family = next((f for f, (_, names) in ALLOW.items() if name in names), None)
        if family is not None:
            allowed[family].append(name)
            continue
        family = next((f for f, _, rule in EXCLUDE if rule(name, ops[name], cpu)), None)
        (excluded[family] if family else allowed[COMPUTES[0]]).append(name)
    return allowed, excluded


def render(version: str, ops: dict[str, Any], cpu: set[str]) -> str:
    allowed, excluded = classify(ops, cpu)
    reasons = {COMPUTES[0]: COMPUTES[1], **{f: r for f, (r, _) in ALLOW.items()}, **{f: r for f, r, _ in EXCLUDE}}
    record = {
        "about": "Ops known to only compute on their inputs, derived from TensorFlow's op registry by "
                 "tools/gen_allowed_ops.py (do not edit; rerun it). Every registry op is in one group. "
                 "attrs_to_read: the allowed ops that declare an attr able to hold a function, a string or a "
                 "tensor (what the scan reads besides the op type; TensorFlow refuses any other attr but "
                 "internal _ ones, which it never runs).",
        "tensorflow": version,
        "registry": {"ops": len(ops), "sha256": registry_sha256(list(ops))},
        "allowed": {f: {"reason": reasons[f], "ops": names} for f, names in allowed.items()},
        "excluded": {f: {"reason": reasons[f], "ops": names} for f, names in excluded.items()},
        "attrs_to_read": sorted(name for names in allowed.values() for name in names if _carries(ops[name])),
    }
    return json.dumps(record, indent=1) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed file differs")
    args = parser.parse_args(argv)
    version, ops, cpu = registry()
    text = render(version, ops, cpu)
    if args.check:
        current = TARGET.read_text() if TARGET.exists() else ""
        if current != text:
            old = json.loads(current) if current else {"registry": {}, "tensorflow": "?"}
            new = json.loads(text)
            print(f"{TARGET.relative_to(ROOT)} is out of date (made from TensorFlow {old['tensorflow']}, registry "
                  f"sha256 {old['registry'].get('sha256', '?')[:12]}; installed: {version}, "
                  f"{new['registry']['sha256'][:12]}); run tools/gen_allowed_ops.py and review the diff",
                  file=sys.stderr)
            return 1
        return 0
    write_files_atomically({TARGET: text.encode()}, force=True)
    allowed = sum(len(g["ops"]) for g in json.loads(text)["allowed"].values())
    print(f"wrote {TARGET.relative_to(ROOT)}: {allowed} of {len(ops)} ops allowed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
