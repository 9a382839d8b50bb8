"""Atomic, no-surprise file writes shared by every helper that writes an artifact."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable, Union

from .errors import InputError, OutputExistsError

PathLike = Union[str, "os.PathLike[str]"]


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def check_writable(paths: Iterable[PathLike], *, force: bool = False) -> None:
    """Fail before any work when an output exists (without ``force``) or cannot be written."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            raise OutputExistsError(f"output {str(path)!r} is a directory; give a file name")
        if path.exists() and not force:
            raise OutputExistsError(f"output {str(path)!r} already exists; pass --force (force=True) to overwrite it")
        parent = path.parent if str(path.parent) else Path(".")
        blocker = next((p for p in (parent, *parent.parents) if p.exists() and not p.is_dir()), None)
        if blocker is not None:
            raise InputError(f"cannot write {str(path)!r}: {str(blocker)!r} is a file, not a directory")
        if not parent.is_dir():
            raise InputError(f"output directory {str(parent)!r} does not exist; create it first")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise InputError(f"output directory {str(parent)!r} is not writable")


def write_files_atomically(files: dict[PathLike, Union[bytes, Callable[[BinaryIO], Any]]], *,
                           force: bool = False) -> None:
    """Write every file or none: temporary files in the target folder, then renames.

    A value is the file's bytes, or a function that writes them to the open file (called in
    the dict's order, so a later file may use what an earlier writer found, such as a hash).

    Without ``force`` an existing target is never replaced, even if it appears while
    we write (the final step is a hard link, which fails on an existing name).
    """
    check_writable(files, force=force)
    staged: list[tuple[Path, Path]] = []
    placed: list[Path] = []
    try:
        for raw, data in files.items():
            target = Path(raw)
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
            staged.append((Path(tmp), target))
            os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; a saved artifact reads like any file
            with os.fdopen(fd, "wb") as handle:
                if callable(data):
                    data(handle)
                else:
                    handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        for tmp, target in staged:
            if force:
                os.replace(tmp, target)
            else:
                try:
                    os.link(tmp, target)
                except FileExistsError:
                    raise OutputExistsError(
                        f"output {str(target)!r} already exists; pass --force (force=True) to overwrite it"
                    ) from None
                os.unlink(tmp)
            placed.append(target)
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        if not force:
            for target in placed:
                target.unlink(missing_ok=True)
        raise
