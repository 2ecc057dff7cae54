"""POST /api/conduct/check and the other conduct endpoints: JSON in, JSON out, 4xx for anything wrong."""

from __future__ import annotations

import json
from typing import Any

import pytest

from servicehall.conduct.checker import MAX_TEXT_LENGTH
from servicehall.conduct.models import ConductFinding, OverriddenReply

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client_for, clerk):
    client = client_for(clerk)

    def call(method: str, url: str, body: Any = None) -> Any:
        if method == "get":
            return client.get(url, body or {})
        return client.post(url, data=json.dumps(body), content_type="application/json")

    return call


def test_check_returns_findings_in_the_documented_shape(api) -> None:
    response = api("post", "/api/conduct/check", {"text": "快点，要下班了！"})
    assert response.status_code == 200
    answer = response.json()
    assert (answer["text"], answer["ok"]) == ("快点，要下班了！", False)
    (finding,) = answer["findings"]
    assert (
        finding["span"],
        finding["text"],
        finding["category"],
        finding["severity"],
        finding["suggestion"],
    ) == (
        [0, 6],
        "快点，要下班",
        "催促",
        2,
        "请稍候，我马上帮您办理",
    )


@pytest.mark.parametrize("text", ["", "您好，请坐。", "🙂🙂", "Hello 您好"])
def test_clean_or_empty_text_is_ok(api, text: str) -> None:
    assert api("post", "/api/conduct/check", {"text": text}).json() == {
        "text": text,
        "ok": True,
        "findings": [],
    }


def test_a_megabyte_of_text_is_checked(client_for, clerk) -> None:
    # given about 1 MB of UTF-8 text with one forbidden phrase at the end
    text = "请稍等。" * 87_000 + "我不管"
    body = json.dumps({"text": text}, ensure_ascii=False).encode()
    assert len(body) > 1_000_000
    response = client_for(clerk).post("/api/conduct/check", data=body, content_type="application/json")
    assert response.status_code == 200
    assert [finding["start"] for finding in response.json()["findings"]] == [348_000]


def test_text_over_the_limit_is_a_400(api) -> None:
    # Over the checker's limit the body is also over Django's upload limit: refused before parsing.
    response = api("post", "/api/conduct/check", {"text": "好" * (MAX_TEXT_LENGTH + 1)})
    assert response.status_code == 400


def test_missing_text_is_a_400(api) -> None:
    assert api("post", "/api/conduct/check", {}).status_code == 400


def test_anonymous_caller_is_a_401(citizen_client) -> None:
    response = citizen_client.post(
        "/api/conduct/check", data='{"text": "x"}', content_type="application/json"
    )
    assert response.status_code == 401


def test_transcript_endpoint_reports_three_voices_and_records_over_threshold(api, clerk) -> None:
    text = "民：请问怎么办？\n员：我不管。\n"
    answer = api("post", "/api/conduct/transcripts", {"text": text}).json()
    assert answer["missing_voices"] == ["迎声", "送声"]
    assert answer["conduct_finding_id"] == ConductFinding.objects.get(staff=clerk).pk


def test_transcript_for_an_unknown_staff_member_is_a_404(api) -> None:
    response = api("post", "/api/conduct/transcripts", {"text": "员：您好", "staff_id": 99999})
    assert response.status_code == 404


def test_reply_is_stopped_then_sent_with_a_reason(api) -> None:
    stopped = api("post", "/api/conduct/replies", {"text": "我就这态度"}).json()
    assert (stopped["sent"], stopped["reason_required"], stopped["overridden_reply_id"]) == (
        False,
        True,
        None,
    )
    sent = api("post", "/api/conduct/replies", {"text": "我就这态度", "reason": "转述"}).json()
    assert (sent["sent"], sent["overridden_reply_id"]) == (True, OverriddenReply.objects.get().pk)


def test_coach_and_situations(api) -> None:
    answer = api("get", "/api/conduct/coach", {"situation": "材料不全"}).json()
    assert answer["situation"] == "材料不全"
    assert answer["phrases"][0] == {
        "text": "您的手续（材料）还缺少××项，请您准备齐全再来",
        "seed": "seed 001 办公用语 5",
    }
    situations = api("get", "/api/conduct/situations").json()
    assert len(situations) == 21


def test_unknown_situation_is_a_404(api) -> None:
    response = api("get", "/api/conduct/coach", {"situation": "天气"})
    assert (response.status_code, response.json()["code"]) == (404, "unknown_situation")
