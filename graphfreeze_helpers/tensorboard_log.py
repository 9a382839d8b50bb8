"""Write a GraphDef as a TensorBoard events file, for its "Graphs" tab, without TensorFlow.

    export_for_tensorboard(graph_def, "artifacts/logs")   # then: tensorboard --logdir artifacts/logs
"""

from __future__ import annotations

import os
import socket
import struct
import time
from pathlib import Path
from typing import Any

from . import graphfile
from .files import write_files_atomically


def _masked_crc(data: bytes) -> int:
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c

    return masked_crc32c(data)


def _record(data: bytes) -> bytes:
    header = struct.pack("<Q", len(data))
    return header + struct.pack("<I", _masked_crc(header)) + data + struct.pack("<I", _masked_crc(data))


def export_for_tensorboard(graph_def: Any, logdir: str | Path, *, force: bool = False) -> Path:
    """Write an events file holding ``graph_def`` under ``logdir`` for TensorBoard's graph dashboard.

    This is what ``tf.summary.graph`` / ``FileWriter.add_graph`` write (an ``Event`` with
    ``graph_def`` set), built with TensorBoard's protos, so TensorFlow is not imported. Open
    it with ``tensorboard --logdir LOGDIR`` and the "Graphs" tab. Returns the file's path.
    """
    from tensorboard.compat.proto import event_pb2

    graph_def, _ = graphfile.as_graph_def(graph_def)
    folder = Path(logdir)
    folder.mkdir(parents=True, exist_ok=True)
    now = time.time()
    events = [
        event_pb2.Event(wall_time=now, step=0, file_version="brain.Event:2"),
        event_pb2.Event(wall_time=now, step=0, graph_def=graph_def.SerializeToString()),
    ]
    # TensorBoard reads every "*tfevents*" file; pid and microseconds keep two exports apart
    unique = f"{int(now)}.{socket.gethostname()}.{os.getpid()}.{int(now * 1e6) % 10**6}"
    target = folder / f"events.out.tfevents.{unique}.graphfreeze"
    write_files_atomically({target: b"".join(_record(e.SerializeToString()) for e in events)}, force=force)
    return target
