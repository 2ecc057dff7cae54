"""`servicehall conduct check` (stdin lines → JSON lines, in order, bad lines answered not fatal) and
`servicehall conduct evaluate`."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from servicehall.conduct.checker import MAX_TEXT_LENGTH, base_ruleset
from servicehall.conduct.management.commands.conduct import answer_stream

ROOT = Path(__file__).resolve().parents[2]


def _answers(data: bytes) -> list[dict]:
    written: list[str] = []
    count = answer_stream(base_ruleset(), io.BytesIO(data), written.append)
    assert count == len(written)
    return [json.loads(line) for line in written]


def test_each_line_gets_one_answer_in_order() -> None:
    answers = _answers("我不管\n您好，请坐\n\n這事不歸我管\n".encode())
    assert [(answer["text"], answer["ok"]) for answer in answers] == [
        ("我不管", False),
        ("您好，请坐", True),
        ("", True),
        ("這事不歸我管", False),
    ]
    assert answers[0]["findings"][0]["rule_id"] == "cold.i_dont_care"


def test_bad_bytes_bom_crlf_and_emoji_lines_do_not_lose_the_others() -> None:
    data = (
        b"\xef\xbb\xbf\xe6\x88\x91\xe4\xb8\x8d\xe7\xae\xa1\r\n\xff\xfe\xfd\n"
        + "😀不知道😀".encode()
        + b"\nlast"
    )
    answers = _answers(data)
    assert [answer["ok"] for answer in answers] == [False, False, False, True]
    assert answers[0]["text"] == "我不管"
    assert answers[1]["error"]["code"] == "invalid_utf8"
    assert answers[1]["findings"] == []
    assert answers[2]["findings"][0]["text"] == "不知道"
    assert answers[3] == {"text": "last", "ok": True, "findings": []}


def test_too_long_line_is_an_error_line() -> None:
    answers = _answers(("好" * (MAX_TEXT_LENGTH + 1)).encode() + b"\n\xe5\xa5\xbd\n")
    assert (answers[0]["error"]["code"], answers[1]) == (
        "too_long",
        {"text": "好", "ok": True, "findings": []},
    )


def test_a_megabyte_line_is_answered() -> None:
    line = ("请稍等。" * 90_000 + "我不管").encode()
    assert len(line) > 1_000_000
    (answer,) = _answers(line)
    assert (answer["ok"], answer["findings"][0]["start"]) == (False, 360_000)


@pytest.mark.django_db
def test_command_reads_stdin(monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("不知道\n请稍等\n".encode())))
    output = io.StringIO()
    call_command("conduct", "check", stdout=output)
    assert [json.loads(line)["ok"] for line in output.getvalue().splitlines()] == [False, True]


def test_command_line_entry_point_writes_utf8_json_lines() -> None:
    environment = {**os.environ, "SERVICEHALL_DEPLOYMENT": "local", "PYTHONIOENCODING": "ascii"}
    completed = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "servicehall"), "conduct", "check", "--base-rules"],
        input=b"\xe6\x88\x91\xe4\xb8\x8d\xe7\xae\xa1\n\x80\n",
        capture_output=True,
        env=environment,
        timeout=120,
        check=True,
    )
    lines = completed.stdout.decode("utf-8").splitlines()
    assert [json.loads(line)["ok"] for line in lines] == [False, False]
    assert json.loads(lines[0])["text"] == "我不管"


def test_evaluate_prints_precision_and_recall_per_part() -> None:
    output = io.StringIO()
    call_command("conduct", "evaluate", stdout=output)
    lines = output.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines if "precision=" in line] == [
        "development (rules only)",
        "development",
        "development/seeds-and-variants",
        "development/fresh-1",
        "development/fresh-2",
        "development/blind-3",
        "development/near-miss-3",
        "development/fresh-4",
        "development/fresh-5",
        "development/informal-polite",
        "development/fresh-6",
        "development/near-miss-6",
        "development/fresh-7",
        "development/near-miss-7",
        "development/fresh-8",
        "development/fresh-9",
        "development/near-miss-9",
        "development/fresh-10",
        "development/families-10",
        "development/near-miss-10",
        "development/fresh-11",
        "development/near-miss-11",
        "development/fresh-12",
        "development/near-miss-12",
        "development/fresh-13",
        "development/near-miss-13",
        "development/near-miss-model",
        "heldout (rules only)",
        "heldout",
        "heldout/before-rules",
        "heldout/after-rules",
        "heldout/blind-4",
        "heldout/blind-7",
        "heldout/blind-8",
        "heldout/blind-9",
        "heldout/blind-10",
    ]
    assert lines[-1] == "目标 / targets: precision ≥ 0.95, recall ≥ 0.9"
