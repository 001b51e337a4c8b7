"""Bounded reads refuse FIFOs, devices and oversize files without blocking."""

import os
import re

import pytest

from ctxtui.core.safe_io import TooLargeError, UnsafeReadError, read_regular


def test_regular_file_is_read(tmp_path):
    p = tmp_path / "a.md"
    p.write_bytes(b"abc\r\n")
    assert read_regular(p) == b"abc\r\n"


def test_fifo_is_refused_without_blocking(tmp_path):
    p = tmp_path / "x.md"
    os.mkfifo(p)
    with pytest.raises(UnsafeReadError, match="not a regular file"):
        read_regular(p)


def test_device_behind_a_link_is_refused(tmp_path):
    p = tmp_path / "zero.md"
    p.symlink_to("/dev/zero")
    with pytest.raises(UnsafeReadError):
        read_regular(p)


def test_oversize_file_is_refused(tmp_path):
    p = tmp_path / "big.md"
    with open(p, "wb") as f:
        f.truncate(2 * 1024 * 1024 * 1024)  # sparse: 2 GiB of nothing on disk
    with pytest.raises(TooLargeError):
        read_regular(p, max_bytes=1024)


def test_link_not_followed_when_asked(tmp_path):
    (tmp_path / "t.md").write_text("x")
    (tmp_path / "l.md").symlink_to(tmp_path / "t.md")
    with pytest.raises(OSError):
        read_regular(tmp_path / "l.md", follow_symlinks=False)


def test_read_head_lines_keeps_whole_lines_and_refuses_a_fifo(tmp_path):
    from ctxtui.core.safe_io import read_head_lines

    f = tmp_path / "log.jsonl"
    f.write_bytes(b"one\ntwo\nthree\n")
    assert read_head_lines(f, 100) == b"one\ntwo\nthree\n"
    assert read_head_lines(f, 9) == b"one\ntwo\n"  # "three" would be cut: left out
    assert read_head_lines(f, 8) == b"one\ntwo\n"
    assert read_head_lines(f, 2) == b""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(UnsafeReadError):
        read_head_lines(fifo, 10)


@pytest.mark.parametrize("raw,why", [
    (b"\xff{}", "not UTF-8 text"), (b'{"a": ', "not valid JSON (line 1"),
    (b"[" * 100_000, "nested too deeply"), (b"[1]", "not a JSON object (found list)"),
])
def test_json_object_says_in_a_few_words_why_bytes_are_not_an_object(raw, why):
    from ctxtui.core.safe_io import NotAJsonObject, json_object

    assert json_object(b'{"a": [1]}') == {"a": [1]}
    with pytest.raises(NotAJsonObject, match=re.escape(why)):
        json_object(raw)
