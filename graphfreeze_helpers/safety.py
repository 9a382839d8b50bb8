"""Which ops in a GraphDef reach outside the process: files, Python, writers, the network.

A frozen graph is a program. :func:`scan` walks every node at the top level and inside
every function of the library (the branches of ``If``/``Case``, the body of ``While``,
anything a call op or another ``func`` attr names), and reports each node whose op is in
:data:`UNSAFE_OPS`. It reads protos only; TensorFlow is never imported.

The catalogue lives here and nowhere else; ``inspect.summarize`` and ``graphfreeze scan``
both use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Collection, Iterator, Optional

# --- the catalogue: op type -> why it is unsafe ---------------------------------------------

_FILE_READ = "reads files from disk"
_FILE_WRITE = "writes files to disk"
_CHECKPOINT = "reads or writes checkpoint files"
_READER = "a reader op: reads records from files"
_PYTHON = "calls back into Python (arbitrary code; also cannot run outside the process that made it)"
_DEBUG = "a debugger op: copies tensors out of the graph (to files or a debug server)"
_SUMMARY = "a summary writer: writes event files to disk"
_DATASET = "a dataset op that reads files"
_DATASET_WRITE = "a dataset op that writes files"
_NETWORK = "sends or receives tensors across devices or hosts (network)"
_RPC = "makes or serves remote procedure calls (network)"
_COLLECTIVE = "a collective op: talks to other workers (network)"
_TPU = "configures or talks to a TPU system"


def _entries(reason: str, *ops: str) -> dict[str, str]:
    return {op: reason for op in ops}


UNSAFE_OPS: dict[str, str] = {
    # file I/O
    **_entries(_FILE_READ, "ReadFile", "ImmutableConst", "InitializeTableFromTextFile", "InitializeTableFromTextFileV2"),
    **_entries(_FILE_WRITE, "WriteFile", "DumpTensor"),
    "MatchingFiles": "lists files on disk (glob)",
    "FileSystemSetConfiguration": "changes file-system configuration",
    **_entries(
        _CHECKPOINT,
        "Save",
        "SaveV2",
        "SaveSlices",
        "Restore",
        "RestoreV2",
        "RestoreSlice",
        "MergeV2Checkpoints",
        "LoadAndRemapMatrix",
        "DTensorRestoreV2",
        "CalibrationStatisticsSaver",
    ),
    **_entries(
        _READER,
        "TextLineReader",
        "TextLineReaderV2",
        "TFRecordReader",
        "TFRecordReaderV2",
        "FixedLengthRecordReader",
        "FixedLengthRecordReaderV2",
        "WholeFileReader",
        "WholeFileReaderV2",
        "IdentityReader",
        "IdentityReaderV2",
        "LMDBReader",
        "ReaderRead",
        "ReaderReadV2",
        "ReaderReadUpTo",
        "ReaderReadUpToV2",
        "ReaderRestoreState",
        "ReaderRestoreStateV2",
        "RecordInput",
    ),
    # Python callbacks
    **_entries(_PYTHON, "PyFunc", "PyFuncStateless", "EagerPyFunc"),
    # printing and debugging
    "PrintV2": "prints tensors (to stdout/stderr/log, or to a file with output_stream='file://...')",
    "Print": "prints tensors to stderr",
    **_entries(
        _DEBUG,
        "DebugIdentity",
        "DebugIdentityV2",
        "DebugIdentityV3",
        "DebugNanCount",
        "DebugNumericSummary",
        "DebugNumericSummaryV2",
        "DebugGradientIdentity",
        "DebugGradientRefIdentity",
    ),
    # summary writers
    **_entries(
        _SUMMARY,
        "SummaryWriter",
        "CreateSummaryFileWriter",
        "CreateSummaryDbWriter",
        "FlushSummaryWriter",
        "CloseSummaryWriter",
        "WriteSummary",
        "WriteScalarSummary",
        "WriteHistogramSummary",
        "WriteImageSummary",
        "WriteAudioSummary",
        "WriteGraphSummary",
        "WriteRawProtoSummary",
        "StatsAggregatorSetSummaryWriter",
    ),
    # datasets that read or write files
    **_entries(
        _DATASET,
        "TFRecordDataset",
        "TFRecordDatasetV2",
        "TextLineDataset",
        "FixedLengthRecordDataset",
        "FixedLengthRecordDatasetV2",
        "CSVDataset",
        "CSVDatasetV2",
        "ExperimentalCSVDataset",
        "LMDBDataset",
        "ExperimentalLMDBDataset",
        "SqlDataset",
        "ExperimentalSqlDataset",
        "MatchingFilesDataset",
        "ExperimentalMatchingFilesDataset",
        "LoadDataset",
        "SnapshotDataset",
        "SnapshotDatasetV2",
        "SnapshotDatasetReader",
        "SnapshotNestedDatasetReader",
        "SnapshotChunkDataset",
        "ListSnapshotChunksDataset",
        "DataServiceDataset",
        "DataServiceDatasetV2",
        "DataServiceDatasetV3",
        "DataServiceDatasetV4",
    ),
    **_entries(_DATASET_WRITE, "SaveDataset", "SaveDatasetV2", "DatasetToTFRecord", "ExperimentalDatasetToTFRecord", "DistributedSave"),
    # network: send/recv, RPC, collectives
    **_entries(
        _NETWORK,
        "Send",
        "Recv",
        "_Send",
        "_Recv",
        "_HostSend",
        "_HostRecv",
        "XlaSend",
        "XlaRecv",
        "XlaSendToHost",
        "XlaRecvFromHost",
        "_XlaSendFromHost",
        "_XlaSendFromHostV2",
        "_XlaRecvAtHost",
        "_XlaRecvAtHostV2",
        "RemoteCall",
    ),
    **_entries(
        _RPC,
        "RpcClient",
        "RpcCall",
        "RpcCheckStatus",
        "RpcGetValue",
        "RpcServer",
        "RpcServerRegister",
        "RpcServerStart",
        "DeleteRpcFutureResource",
    ),
    **_entries(
        _COLLECTIVE,
        "CollectiveReduce",
        "CollectiveReduceV2",
        "CollectiveReduceV3",
        "CollectiveGather",
        "CollectiveGatherV2",
        "CollectiveBcastSend",
        "CollectiveBcastSendV2",
        "CollectiveBcastRecv",
        "CollectiveBcastRecvV2",
        "CollectiveAllToAllV2",
        "CollectiveAllToAllV3",
        "CollectiveReduceScatterV2",
        "CollectivePermute",
        "CollectiveAssignGroupV2",
        "CollectiveInitializeCommunicator",
        "NcclAllReduce",
        "NcclBroadcast",
        "NcclReduce",
        "_NcclBroadcastSend",
        "_NcclBroadcastRecv",
        "_NcclReduceSend",
        "_NcclReduceRecv",
    ),
    **_entries(
        _TPU,
        "ConfigureDistributedTPU",
        "ShutdownDistributedTPU",
        "_ConfigureDistributedTPU",
        "_ShutdownDistributedTPU",
        "_InitializeHostForDistributedTPU",
        "_DisconnectHostFromDistributedTPUSystem",
        "_WaitForDistributedTPU",
    ),
}

# Ops that run a function named in an attr; the walk follows *every* func attr anyway.
CALL_OPS: frozenset[str] = frozenset(
    {
        "If",
        "StatelessIf",
        "_If",
        "While",
        "StatelessWhile",
        "_While",
        "Case",
        "StatelessCase",
        "PartitionedCall",
        "StatefulPartitionedCall",
        "RemoteCall",
    }
)


@dataclass(frozen=True)
class UnsafeOp:
    """One flagged node: its name, op type, the library function holding it (``None`` = top level), and why."""

    node: str
    op: str
    function: Optional[str]
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"node": self.node, "op": self.op, "function": self.function, "reason": self.reason}

    def __str__(self) -> str:
        where = f" in function {self.function!r}" if self.function else ""
        return f"{self.node} ({self.op}){where}: {self.reason}"


# --- walking a GraphDef and its function library ----------------------------------------------


def called_functions(node: Any) -> list[str]:
    """Names of the functions a node's attrs refer to (``then_branch``, ``body``, ``f``, ``branches``, ...), in attr-name order."""
    names: list[str] = []
    for key in sorted(node.attr):
        value = node.attr[key]
        kind = value.WhichOneof("value")
        if kind == "func":
            names.append(value.func.name)
        elif kind == "list":
            names.extend(f.name for f in value.list.func)
    return [n for n in names if n]


def walk(graph_def: Any) -> Iterator[tuple[Optional[str], Any]]:
    """Yield ``(function_name, node_def)`` for every node: top level first (``None``), then each library function once.

    Functions are visited in the order they are first referenced (breadth first from the top
    level, following every func attr and calls whose op type is a function name), then any
    functions nothing refers to, in library order. The order is deterministic.
    """
    library = {f.signature.name: f for f in graph_def.library.function}
    order: list[str] = []
    seen: set[str] = set()

    def refs(node: Any) -> list[str]:
        names = called_functions(node)
        if node.op in library:
            names.append(node.op)
        return names

    def enqueue(nodes: Any) -> None:
        for node in nodes:
            for name in refs(node):
                if name in library and name not in seen:
                    seen.add(name)
                    order.append(name)

    for node in graph_def.node:
        yield None, node
    enqueue(graph_def.node)
    i = 0
    while True:
        while i < len(order):
            fn = library[order[i]]
            i += 1
            for node in fn.node_def:
                yield fn.signature.name, node
            enqueue(fn.node_def)
        rest = [n for n in library if n not in seen]
        if not rest:
            break
        seen.add(rest[0])
        order.append(rest[0])


def reachable_functions(graph_def: Any) -> list[str]:
    """Library functions reachable from the top-level nodes, in walk order."""
    library = {f.signature.name for f in graph_def.library.function}
    seen: list[str] = []
    stack = [n for node in graph_def.node for n in called_functions(node) + [node.op] if n in library]
    fdefs = {f.signature.name: f for f in graph_def.library.function}
    while stack:
        name = stack.pop(0)
        if name in seen:
            continue
        seen.append(name)
        for node in fdefs[name].node_def:
            stack.extend(n for n in called_functions(node) + [node.op] if n in library and n not in seen)
    return seen


# --- the scan ---------------------------------------------------------------------------------


def _reason(node: Any) -> Optional[str]:
    reason = UNSAFE_OPS.get(node.op)
    if reason is None:
        return None
    if node.op == "PrintV2" and "output_stream" in node.attr:
        stream = node.attr["output_stream"].s.decode("utf-8", "replace")
        if stream.startswith("file://"):
            return f"prints tensors to a file ({stream!r})"
        return f"prints tensors to {stream}"
    return reason


def scan(graph_def: Any, *, known_ops: Optional[Collection[str]] = None) -> list[UnsafeOp]:
    """Every node (top level and inside library functions) whose op reaches outside the process.

    ``known_ops``: if given, an op type that is neither in it nor a library function is
    flagged as unknown to TensorFlow (a custom op from a shared library may do anything).
    """
    library = {f.signature.name for f in graph_def.library.function}
    found: list[UnsafeOp] = []
    for function, node in walk(graph_def):
        reason = _reason(node)
        if reason is None and known_ops is not None and node.op not in known_ops and node.op not in library:
            reason = "an op TensorFlow does not know (a custom op from a shared library can do anything)"
        if reason is not None:
            found.append(UnsafeOp(node.name, node.op, function, reason))
    return found
