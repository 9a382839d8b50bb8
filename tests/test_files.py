import os

import pytest

from graphfreeze_helpers import files
from graphfreeze_helpers.errors import InputError, OutputExistsError


def test_writes_all_files(tmp_path):
    a, b = tmp_path / "a.pb", tmp_path / "a.json"
    files.write_files_atomically({a: b"x", b: b"y"})
    assert a.read_bytes() == b"x" and b.read_bytes() == b"y"
    assert sorted(os.listdir(tmp_path)) == ["a.json", "a.pb"]  # no temporary files left


def test_never_overwrites_without_force(tmp_path):
    a, b = tmp_path / "a.pb", tmp_path / "a.json"
    b.write_bytes(b"keep")
    with pytest.raises(OutputExistsError, match="--force"):
        files.write_files_atomically({a: b"x", b: b"y"})
    assert b.read_bytes() == b"keep"
    assert not a.exists()
    assert sorted(os.listdir(tmp_path)) == ["a.json"]


def test_force_replaces(tmp_path):
    a = tmp_path / "a.pb"
    a.write_bytes(b"old")
    files.write_files_atomically({a: b"new"}, force=True)
    assert a.read_bytes() == b"new"


def test_race_with_appearing_file_keeps_the_other_writer(tmp_path, monkeypatch):
    a, b = tmp_path / "a.pb", tmp_path / "a.json"
    real_link = os.link

    def link_then_collide(src, dst, *args, **kwargs):
        if str(dst).endswith(".json"):
            b.write_bytes(b"someone else")
        return real_link(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "link", link_then_collide)
    with pytest.raises(OutputExistsError):
        files.write_files_atomically({a: b"x", b: b"y"})
    assert b.read_bytes() == b"someone else"
    assert not a.exists()  # all or nothing
    assert sorted(os.listdir(tmp_path)) == ["a.json"]


def test_missing_directory(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        files.check_writable([tmp_path / "nope" / "a.pb"])


def test_directory_as_output(tmp_path):
    with pytest.raises(OutputExistsError, match="directory"):
        files.check_writable([tmp_path])


def test_sha256(tmp_path):
    p = tmp_path / "f"
    p.write_bytes(b"abc")
    assert files.sha256_file(p) == files.sha256_bytes(b"abc")
    assert files.sha256_bytes(b"abc").startswith("ba7816bf")


def test_written_files_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        files.write_files_atomically({tmp_path / "a.pb": b"x"})
    finally:
        os.umask(old)
    assert (tmp_path / "a.pb").stat().st_mode & 0o777 == 0o644
