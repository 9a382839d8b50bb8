"""Every catalogue of TensorFlow op types the package uses, in one place (no TensorFlow import).

- :data:`VARIABLE_OPS`: ops that hold or touch variables; a frozen graph has none.
- :data:`STATEFUL_OPS` (and :data:`STATEFUL_PREFIXES`): what freezing must not leave behind.
- :data:`TRAINING_OPS` (and :data:`TRAINING_PREFIXES`): a TF1 training graph's bookkeeping;
  :data:`NOT_OUTPUT_OPS`: ops whose value is never a model's output.
- :data:`CONTROL_FLOW_OPS` and :data:`CALL_OPS`: ops that steer execution or run a function;
  :data:`V1_CONTROL_FLOW_OPS`: TF1's Switch/Merge/Enter/Exit family; :data:`REF_OP_TWINS`: their ref variants;
  :data:`ASSIGN_OP_TWINS`: TF1 variable updates and the plain op of each.
- :data:`UNSAFE_OPS`: op type -> why it reaches outside the process (files, Python, network).
- :data:`OPENCV_TF_OPS`: the ops OpenCV's TensorFlow importer reads.
- :data:`OP_CATEGORIES`: the op families a graph picture colours.
- :data:`FORWARDING_OPS` and :data:`TF_ONLY_OPS`: ops the optimizer and the exporters treat apart;
  :data:`TENSOR_ARRAY_OPS`: TF1's TensorArray, which the LiteRT export rewrites;
  :data:`ADDON_OPS` and :data:`ADDON_OP_PREFIXES`: ops add-on packages register, with the package.
- :data:`SHAPE_KEEPING_OPS`, :data:`BROADCAST_OPS`, :data:`IMAGE_DECODE_OPS`: what sample inputs
  read from an input's consumers.
- :data:`SAVED_MODEL_VARIABLE_OPS` and :data:`SAVER_OPS`: a SavedModel's own variables and checkpoint.
- :func:`allowed_ops`: the allow-list, ops known to only compute on their inputs (``allowed_ops.json``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional

# TF1's dataflow control flow (v1 cond and while_loop). Its loop frames do not survive an
# import_graph_def inside a tf.function ("has inputs from different frames"): the loader runs
# such graphs in a v1 Session instead.
V1_CONTROL_FLOW_OPS: frozenset[str] = frozenset(
    {"Switch", "_SwitchN", "RefSwitch", "Merge", "RefMerge", "Enter", "RefEnter", "Exit", "RefExit",
     "NextIteration", "RefNextIteration", "LoopCond"}
)
# The ref-typed variants of v1 control flow and their plain twins (same attrs). A graph frozen
# with its variables as constants has no ref tensors left, so a surviving RefSwitch cannot be
# imported ("expected float_ref"): the loader renames it, as TF1's freeze_graph did.
REF_OP_TWINS: dict[str, str] = {
    "RefSwitch": "Switch", "RefMerge": "Merge", "RefEnter": "Enter", "RefExit": "Exit",
    "RefNextIteration": "NextIteration", "RefIdentity": "Identity",
}
# TF1 variable updates (BatchNorm's moving averages) and the plain op computing the value each
# would write: on a variable that freezing made a constant they cannot import ("expected
# float_ref"), so `graphfreeze edit --repair-training` removes them, or uses the twin where the value is read.
ASSIGN_OP_TWINS: dict[str, str] = {"Assign": "Identity", "AssignAdd": "AddV2", "AssignSub": "Sub"}
# Ops whose output is a ref tensor: while one is in the graph, the Ref* ops above stay.
REF_SOURCE_OPS: frozenset[str] = frozenset({"VariableV2", "Variable", "TemporaryVariable"})
# Ops that steer execution: v2 functional control flow, v1 dataflow control flow, calls.
CONTROL_FLOW_OPS: frozenset[str] = V1_CONTROL_FLOW_OPS | frozenset(
    {"If", "StatelessIf", "_If", "While", "StatelessWhile", "_While", "Case", "StatelessCase",
     "PartitionedCall", "StatefulPartitionedCall", "RemoteCall"}
)
# Ops that hold or touch variables. A frozen graph should have none (nor resource Placeholders).
VARIABLE_OPS: frozenset[str] = frozenset(
    {"ReadVariableOp", "VarHandleOp", "VariableV2", "Variable", "VarIsInitializedOp", "AssignVariableOp",
     "AssignAddVariableOp", "AssignSubVariableOp", "Assign", "AssignAdd", "AssignSub", "ResourceGather",
     "ResourceGatherNd", "ResourceScatterUpdate", "ResourceScatterAdd", "ResourceScatterSub",
     "ResourceScatterMul", "ResourceScatterDiv", "ResourceScatterMin", "ResourceScatterMax",
     "ResourceScatterNdUpdate", "ResourceScatterNdAdd", "ResourceScatterNdSub", "ResourceApplyGradientDescent",
     "ResourceApplyAdam", "DestroyResourceOp", "_VarHandlesOp", "_ReadVariablesOp"}
)

# Ops that mean state or Python survived freezing; such a graph cannot run on its own.
# The variable ops (what `graphfreeze inspect` calls "NOT frozen"), plus:
STATEFUL_OPS = VARIABLE_OPS | frozenset(
    {"EagerPyFunc", "PyFunc", "PyFuncStateless",
     # lookup tables: the table lives in a resource outside the graph (Keras StringLookup,
     # IntegerLookup, tf.lookup.StaticHashTable); freezing leaves a resource placeholder
     "HashTable", "HashTableV2", "MutableHashTable", "MutableHashTableV2", "MutableHashTableOfTensors",
     "MutableHashTableOfTensorsV2", "MutableDenseHashTable", "MutableDenseHashTableV2", "AnonymousHashTable",
     "AnonymousMutableHashTable", "AnonymousMutableHashTableOfTensors", "AnonymousMutableDenseHashTable",
     "LookupTableFind", "LookupTableFindV2", "LookupTableInsert", "LookupTableInsertV2", "LookupTableImport",
     "LookupTableImportV2", "LookupTableExport", "LookupTableExportV2", "LookupTableSize", "LookupTableSizeV2",
     "LookupTableRemoveV2", "InitializeTable", "InitializeTableV2", "InitializeTableFromTextFile",
     "InitializeTableFromTextFileV2", "InitializeTableFromDataset"}
)
# Op-name prefixes that also mean a variable is written (ResourceApplyAdam, ResourceScatterAdd, ...).
STATEFUL_PREFIXES = ("Assign", "ResourceApply", "ResourceSparseApply", "ResourceScatter", "ResourceStrided")

# A TF1 training graph's bookkeeping: optimizer steps, checkpoint save/restore, initializers and
# summaries. None of them is a model output (`graphfreeze freeze CKPT.meta` lists the others).
TRAINING_OPS: frozenset[str] = frozenset(
    {"NoOp", "SaveV2", "SaveSlices", "Save", "RestoreV2", "Restore", "RestoreSlice", "MergeV2Checkpoints",
     "ShardedFilename", "ShardedFilespec", "StringJoin", "IsVariableInitialized", "VarIsInitializedOp",
     "ScalarSummary", "HistogramSummary", "ImageSummary", "AudioSummary", "TensorSummary", "TensorSummaryV2",
     "MergeSummary", "WriteSummary", "Assert", "Print", "PrintV2"}
)
TRAINING_PREFIXES = ("Apply", "ResourceApply", "SparseApply", "ResourceSparseApply", "Assign")
# Ops whose value is never a model's output: constants, inputs, variables, shape arithmetic and
# v1 control flow's own nodes (a loop counter's Exit).
NOT_OUTPUT_OPS: frozenset[str] = V1_CONTROL_FLOW_OPS | frozenset(
    {"Const", "Placeholder", "PlaceholderWithDefault", "VariableV2", "Variable", "VarHandleOp", "Shape", "ShapeN",
     "Size", "Rank", "Range", "BroadcastGradientArgs"}
)

# --- unsafe ops: op type -> why it reaches outside the process ---------------------------------

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
    **_entries(
        _FILE_READ, "ReadFile", "ImmutableConst", "InitializeTableFromTextFile", "InitializeTableFromTextFileV2"
    ),
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
    **_entries(
        _DATASET_WRITE,
        "SaveDataset",
        "SaveDatasetV2",
        "DatasetToTFRecord",
        "ExperimentalDatasetToTFRecord",
        "DistributedSave",
    ),
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

# A SavedModel's own machinery, which the safety scan accepts in a SavedModel (not in a frozen
# graph): the ops that create, read and restore its variables anywhere, and the checkpoint ops
# inside the functions its saver_def names (tf.saved_model.save's _traced_save/_traced_restore).
SAVED_MODEL_VARIABLE_OPS: frozenset[str] = frozenset(
    {"VarHandleOp", "ReadVariableOp", "AssignVariableOp", "AssignAddVariableOp", "AssignSubVariableOp",
     "VarIsInitializedOp", "DisableCopyOnRead", "DestroyResourceOp", "ResourceGather", "ResourceGatherNd",
     "VariableV2", "Assign", "IsVariableInitialized"}
)
SAVER_OPS: frozenset[str] = frozenset({"SaveV2", "RestoreV2", "MergeV2Checkpoints"})

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

# The ops OpenCV's TensorFlow importer dispatches on (tf_importer.cpp, 4.x and 5.0), plus
# the ones its graph simplifier removes or pattern-matches before that.
OPENCV_TF_OPS: frozenset[str] = frozenset({
    "Conv2D", "SpaceToBatchND", "BatchToSpaceND", "DepthwiseConv2dNative", "Pad", "MirrorPad", "Conv3D",
    "BiasAdd", "Add", "AddV2", "Sub", "AddN", "MatMul", "Reshape", "Flatten", "Squeeze", "Transpose",
    "Const", "LRN", "Concat", "ConcatV2", "MaxPool", "MaxPool3D", "AvgPool", "AvgPool3D", "Placeholder",
    "Split", "Slice", "StridedSlice", "Mul", "RealDiv", "FusedBatchNorm", "FusedBatchNormV3",
    "Conv2DBackpropInput", "BlockLSTM", "ResizeNearestNeighbor", "ResizeBilinear", "L2Normalize",
    "Softmax", "CropAndResize", "Mean", "Sum", "Max", "Pack", "ClipByValue", "LeakyRelu", "Abs", "Tanh",
    "Sigmoid", "Relu", "Elu", "Exp", "Identity", "Relu6", "ExpandDims", "NoOp", "Shape",
})

# What a graph picture colours: (category, op types), in order; the first matching category wins.
OP_CATEGORIES: tuple[tuple[str, frozenset[str]], ...] = (
    ("input", frozenset({"Placeholder", "_Arg"})),
    ("constant", frozenset({"Const", "ImmutableConst"})),
    ("conv / matmul", frozenset({
        "Conv2D", "Conv3D", "Conv1D", "DepthwiseConv2dNative", "Conv2DBackpropInput", "MatMul", "BatchMatMul",
        "BatchMatMulV2", "BatchMatMulV3", "Einsum", "_FusedConv2D", "_FusedMatMul", "FusedBatchNorm",
        "FusedBatchNormV3"})),
    ("activation", frozenset({
        "Relu", "Relu6", "Elu", "Selu", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "LeakyRelu", "Softplus",
        "Softsign", "Gelu", "Erf"})),
    ("arithmetic", frozenset({
        "Add", "AddV2", "AddN", "Sub", "Mul", "RealDiv", "Div", "Rsqrt", "Sqrt", "Square", "BiasAdd", "Maximum",
        "Minimum", "Neg", "Exp", "Log", "Pow", "SquaredDifference", "Cast", "Abs", "FloorDiv", "FloorMod"})),
    ("pool / reduce", frozenset({
        "Mean", "Sum", "Max", "Min", "Prod", "MaxPool", "AvgPool", "MaxPoolV2", "ArgMax", "ArgMin"})),
    ("shape", frozenset({
        "Reshape", "Squeeze", "ExpandDims", "Transpose", "ConcatV2", "Pack", "Unpack", "StridedSlice", "Slice",
        "Shape", "Pad", "PadV2", "Fill", "Tile", "GatherV2", "Split", "SplitV", "ZerosLike", "OnesLike"})),
    ("control flow", frozenset({
        "If", "StatelessIf", "While", "StatelessWhile", "Case", "StatelessCase", "PartitionedCall",
        "StatefulPartitionedCall", "Switch", "Merge", "Enter", "Exit", "NextIteration", "LoopCond"})),
    ("identity / no-op", frozenset({"Identity", "IdentityN", "NoOp", "StopGradient", "Snapshot"})),
)

# Ops that pass their one data input through unchanged (the optimizer bypasses them).
FORWARDING_OPS: frozenset[str] = frozenset({"Identity", "StopGradient", "PreventGradient", "Snapshot", "CheckNumerics"})
# Grappler's fused ops: only TensorFlow runs them, so no exporter may meet one.
TF_ONLY_OPS: frozenset[str] = frozenset(
    {"_FusedConv2D", "_FusedMatMul", "_FusedBatchNormEx", "_FusedDepthwiseConv2dNative"}
)
# What to do instead, wherever a converter or runtime meets one of them.
TF_ONLY_ADVICE = "export the frozen graph or its optimize --target portable version"
# What sample inputs read backwards from an input's consumers (freeze.consumer_shape):
# ops whose output has their first input's shape (the walk goes through them),
SHAPE_KEEPING_OPS: frozenset[str] = FORWARDING_OPS | frozenset(
    {"Cast", "Relu", "Relu6", "Elu", "Selu", "Sigmoid", "Tanh", "Neg", "Abs", "Exp", "Log", "Sqrt", "Rsqrt",
     "Square", "Floor", "Ceil", "Round", "Sign", "Softplus", "LeakyRelu", "ZerosLike", "OnesLike"}
)
# elementwise ops that broadcast a constant operand against the input,
BROADCAST_OPS: frozenset[str] = frozenset(
    {"Add", "AddV2", "Sub", "Mul", "RealDiv", "Div", "Maximum", "Minimum", "SquaredDifference", "Pow",
     "FloorDiv", "FloorMod", "TruncateDiv"}
)
# and image decoders, which want encoded image bytes (the JPEG decoders read PNG too).
IMAGE_DECODE_OPS: frozenset[str] = frozenset(
    {"DecodeJpeg", "DecodePng", "DecodeImage", "DecodeGif", "DecodeBmp", "DecodeAndCropJpeg"}
)
# TF1's TensorArray (a v1 dynamic_rnn's input and output sequences). LiteRT has no kernel for
# them; export.tensor_arrays_as_lists rewrites them as TensorList ops, which its converter lowers.
TENSOR_ARRAY_OPS: frozenset[str] = frozenset(
    {"TensorArrayV3", "TensorArrayReadV3", "TensorArrayWriteV3", "TensorArrayScatterV3", "TensorArrayGatherV3",
     "TensorArraySizeV3", "TensorArrayConcatV3", "TensorArraySplitV3", "TensorArrayCloseV3", "TensorArrayGradV3"}
)

# Ops that add-on packages register (importing the package registers them), by name prefix and
# by name, with the pip package that provides them: `inspect` names the package to install.
ADDON_OP_PREFIXES: dict[str, str] = {
    "Addons>": "tensorflow-addons", "IO>": "tensorflow-io", "TFText>": "tensorflow-text",
    "TFRA>": "tensorflow-recommenders-addons", "Scann>": "scann",
}
ADDON_OPS: dict[str, str] = {
    **dict.fromkeys(
        ("WordpieceTokenizeWithOffsets", "CaseFoldUTF8", "NormalizeUTF8", "NormalizeUTF8WithOffsetsMap",
         "RegexSplitWithOffsets", "UnicodeScriptTokenizeWithOffsets", "WhitespaceTokenizeWithOffsets",
         "SentencepieceOp", "SentencepieceTokenizeOp", "SentencepieceTokenizeWithOffsetsOp",
         "SentencepieceDetokenizeOp", "SentencepieceIdToStringOp", "SentencepieceStringToIdOp",
         "SentencepieceVocabSizeOp", "SplitMergeTokenizeWithOffsets", "SplitMergeFromLogitsTokenizeWithOffsets",
         "ConstrainedSequence", "MaxSpanningTree", "RougeL", "TokenizerFromLogits"),
        "tensorflow-text"),
    **dict.fromkeys(
        ("SimpleMLInferenceOpWithHandle", "SimpleMLLoadModelFromPathWithHandle", "SimpleMLCreateModelResource",
         "SimpleMLInferenceLeafIndexOpWithHandle", "SimpleMLLoadModelFromPath", "SimpleMLInferenceOp"),
        "tensorflow-decision-forests"),
    **dict.fromkeys(
        ("SentencepieceEncodeSparse", "SentencepieceEncodeDense", "SentencepieceDecode", "SentencepieceGetPieceSize",
         "SentencepiecePieceToId", "SentencepieceIdToPiece", "SentencepieceGetPieceType"),
        "tf-sentencepiece"),
}

# --- the allow-list: ops known to only compute on their inputs ---------------------------------
# Derived from TensorFlow's op registry by tools/gen_allowed_ops.py into allowed_ops.json, which
# records the TensorFlow release and the registry's sha256; every registry op is in one group,
# allowed or excluded, and each group says why.

ALLOWED_OPS_FILE = Path(__file__).with_name("allowed_ops.json")


@dataclass(frozen=True)
class AllowList:
    """The shipped allow-list: ``op in allow_list``; :meth:`reason` says why an op is left out."""

    tensorflow: str
    registry_sha256: str
    allowed: frozenset[str]
    excluded: dict[str, str]  # op -> the family it was left out with
    reasons: dict[str, str]  # family -> why
    attrs_to_read: frozenset[str] = frozenset()  # allowed ops with an attr that can hold a function, string or tensor

    @property
    def plain(self) -> frozenset[str]:
        """Allowed ops whose attrs can hold nothing to scan: the op type alone decides."""
        return self.allowed - self.attrs_to_read

    def __contains__(self, op: object) -> bool:
        return op in self.allowed

    def family(self, op: str) -> Optional[str]:
        """The excluded family of a registry op, or ``None`` (allowed, or not a TensorFlow op)."""
        return self.excluded.get(op)

    def reason(self, op: str) -> str:
        """Why ``op`` is outside the list: its family's reason, or that TensorFlow has no such op."""
        family = self.excluded.get(op)
        if family is None:
            return f"not an op of TensorFlow {self.tensorflow} (a custom op from a shared library can do anything)"
        return f"{family.replace('_', ' ')}: {self.reasons[family]}"


@lru_cache(maxsize=1)
def allowed_ops() -> AllowList:
    """The allow-list shipped with the package (no TensorFlow import; read once)."""
    record = json.loads(ALLOWED_OPS_FILE.read_text(encoding="utf-8"))
    allowed = frozenset(op for group in record["allowed"].values() for op in group["ops"])
    excluded = {op: family for family, group in record["excluded"].items() for op in group["ops"]}
    reasons = {family: group["reason"] for family, group in record["excluded"].items()}
    return AllowList(record["tensorflow"], record["registry"]["sha256"], allowed, excluded, reasons,
                     frozenset(record["attrs_to_read"]))
