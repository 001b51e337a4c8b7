"""Redaction of secrets in training export: every rule's own examples, every form the
hardening issue lists, ordinary prose left alone, and every export format and field."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from conftest import WSHOBSON, persona_text
from ctxtui.analytics import redaction, training
from ctxtui.analytics.redaction import redact
from ctxtui.analytics.transcripts import Invocation, Session
from ctxtui.core.config import load_settings
from ctxtui.core.workspace import Workspace

RULE_EXAMPLES = [(r.id, i, ex) for r in redaction.rules() for i, ex in enumerate(r.examples)]


@pytest.mark.parametrize(("rule", "index", "example"), RULE_EXAMPLES, ids=[f"{r}-{i}" for r, i, _ in RULE_EXAMPLES])
def test_each_rule_redacts_its_own_examples(rule, index, example):
    before, rest = example.split("«", 1)
    secret, after = rest.split("»", 1)
    out = redact(before + secret + after)
    assert secret not in out and "[REDACTED" in out
    assert out.startswith(before)  # the label before the secret stays readable


def test_every_rule_names_its_source_and_has_an_example():
    text = redaction.rules_text()
    assert "github.com/gitleaks/gitleaks" in text and "config/gitleaks.toml" in text
    for rule in redaction.rules():
        assert rule.source and rule.examples, rule.id
        assert all(k == k.lower() for k in rule.keywords), rule.id
    assert sum(r.source.startswith("gitleaks:") for r in redaction.rules()) >= 15


AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
# Every form the hardening issue found leaking (20 of 39), as a user would paste it.
ISSUE_FORMS = {
    "aws credentials file": (f"[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = {AWS_SECRET}\n", [AWS_SECRET, "AKIAIOSFODNN7EXAMPLE"]),
    "aws env": (f"AWS_SECRET_ACCESS_KEY={AWS_SECRET} aws s3 ls", [AWS_SECRET]),
    "asia key id": ("key id ASIAY34FZKBOKMUTVV7A expires soon", ["ASIAY34FZKBOKMUTVV7A"]),
    "pgp private key": ("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF0a8WsBCAC0y3G7cW5uQh3F0t\n=Ab1C\n-----END PGP PRIVATE KEY BLOCK-----\n", ["lQOYBF0a8WsBCAC0y3G7cW5uQh3F0t"]),
    "private key without END": ("here:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgO\nEePzNm0tRgeLezV6ffAt0gun\n", ["MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgO", "EePzNm0tRgeLezV6ffAt0gun"]),
    "env DATABASE_PASSWORD": ("DATABASE_PASSWORD=hunter2\n", ["hunter2"]),
    "env DB_PASS": ("DB_PASS=pw1\n", ["pw1"]),
    "env SECRET_KEY": ("SECRET_KEY=django-insecure-abc\n", ["django-insecure-abc"]),
    "env JWT_SECRET": ("JWT_SECRET=s3\n", ["s3"]),
    "env short password": ("PASSWORD=ab\nPOSTGRES_PASSWORD='x'\n", ["=ab", "'x'"]),
    "json password": ('{"user": "bob", "password": "pw"}', ['"pw"']),
    "json client_secret": ('{"client_id": "123", "client_secret": "GOCSPX-abc"}', ["GOCSPX-abc"]),
    "url password localhost": ("postgres://app:hunter2@localhost:5432/app", ["hunter2"]),
    "url password ip": ("mysql://root:toor@192.168.1.20/db", ["toor"]),
    "url password bare host": ("redis://default:Tr0ub4dor@cache:6379/0", ["Tr0ub4dor"]),
    "stripe live": ("stripe key sk_live_4eC39HqLyjWDarjtT1zdp7dc", ["4eC39HqLyjWDarjtT1zdp7dc"]),
    "npm": ("//registry.npmjs.org/:_authToken=npm_abcdefghijklmnopqrstuvwxyz0123456789", ["npm_abcdefghij"]),
    "hugging face": ("HF token hf_abcdefghijklmnopqrstuvwxyzABCDEFGH", ["hf_abcdefghij"]),
    "gitlab": ("git clone https://oauth2:glpat-abcdefghij0123456789@gitlab.com/x.git and glpat-0123456789abcdefghij", ["glpat-", "abcdefghij0123456789"]),
    "authorization basic": ("Authorization: Basic dXNlcjpwYXNzd29yZA==", ["dXNlcjpwYXNzd29yZA"]),
}


@pytest.mark.parametrize("form", sorted(ISSUE_FORMS))
def test_every_form_the_issue_lists_is_redacted(form):
    text, leaks = ISSUE_FORMS[form]
    out = redact(text)
    for leak in leaks:
        assert leak not in out, out


def test_forms_caught_before_stay_caught():
    text = ("ghp_" + "a" * 36 + " AKIAABCDEFGHIJKLMNOP Bearer abcdefghijklmnopqrstuv password=hunter22hunter "
            "sk-ant-api03-abcdefghijklmnopqrstuvwxyz xoxb-1234567890-abcdefghij AIza" + "b" * 35 + " bob@example.com "
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U")
    out = redact(text)
    for leaked in ("ghp_", "AKIA", "abcdefghijklmnopqrstuv", "hunter22", "sk-ant", "xoxb-", "AIza", "bob@", "eyJhbGci"):
        assert leaked not in out


PROSE = """\
Set the password policy to require twelve characters, and rotate the secret every quarter.
The token budget for startup is 20k tokens; max_tokens: 4096 is the output limit.
Store the API key in a secret manager, never in the repository. Keys: id, name, email.
Password: must be at least 8 characters long.
Connect with postgres://localhost:5432/app or http://127.0.0.1:8000/health.
Basic authentication is discouraged; use OAuth with a bearer token instead.
An ASIAN market report. The SECRET of good tests is isolation. MONKEY=patching is fun.
Run `ctxtui activate NAME`; the key: value format is YAML. def get_password(user):
    password = getpass.getpass()
    token = tokens[0]
    secret = None
-----BEGIN PUBLIC KEY----- is fine to share. **All tests pass:**
def show(conn, %{"token" => token}) do
TOKEN="${REVIEW_TOKEN:-}"
"""


def test_ordinary_prose_and_code_survive():
    assert redact(PROSE) == PROSE


def test_persona_library_prose_is_almost_untouched():
    changed = []
    files = sorted(WSHOBSON.rglob("*.md"))
    assert len(files) > 200
    for f in files:
        text = f.read_text(encoding="utf-8", errors="replace")
        out = redact(text)
        if out != text:
            changed.append((f.name, out.count("[REDACTED")))
    # code samples with literal demo credentials are redacted; prose is not
    assert sum(n for _, n in changed) < 0.05 * len(files) * 10, changed


@pytest.mark.parametrize("text", [
    "a" * 200_000 + "=",
    "PASSWORD_" * 20_000,
    "-----BEGIN RSA PRIVATE KEY-----" + "\nAAAAAAAA" * 20_000 + "\n-----BEGIN",
    "http://" + "a:" * 50_000,
    "password" * 30_000 + ":" + " " * 10_000,
], ids=["long-word", "long-env-name", "key-without-end", "url-colons", "long-key"])
def test_pathological_input_is_redacted_in_linear_time(text):
    start = time.perf_counter()
    redact(text)
    assert time.perf_counter() - start < 2


def _ws_with_secret_persona(tmp_path: Path) -> Workspace:
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "ops.md").write_text(persona_text(
        "ops", "Runs deployments.", f"You deploy. Use aws_secret_access_key = {AWS_SECRET}\nDB_PASS=pw1\n"
    ))
    project = tmp_path / "project"
    project.mkdir()
    return Workspace(load_settings(workspace=project, library_dirs=[lib]))


@pytest.mark.parametrize("fmt", training.FORMATS)
def test_every_export_format_redacts_prompt_response_trigger_and_body(tmp_path, fmt):
    ws = _ws_with_secret_persona(tmp_path)
    s = Session("s1", "proj", Path("/x/s1.jsonl"), start="2026-11-01T10:00:00Z")
    s.invocations.append(Invocation(
        "t1", "ops", "d", prompt="deploy with postgres://app:hunter2@localhost/app", time=s.start,
        trigger="here is my key sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        response='done. config: {"password": "pw", "client_secret": "GOCSPX-abc"}',
    ))
    out = tmp_path / f"{fmt}.jsonl"
    summary = training.export(ws, [s], out, fmt, validation_pct=0)
    assert summary.train == 1
    text = out.read_text()
    json.loads(text)
    for leak in (AWS_SECRET, "pw1", "hunter2", "4eC39HqLyjWDarjtT1zdp7dc", '"pw"', "GOCSPX-abc"):
        assert leak not in text, (fmt, leak)
    assert text.count("[REDACTED") >= (6 if fmt == "jsonl" else 5)
