"""The pages: the reply box (check as you type, stop, send anyway), transcripts, the coach, extra phrases."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from servicehall.audit.models import AuditRecord
from servicehall.conduct.models import ConductFinding, ExtraPhrase, OverriddenReply

pytestmark = pytest.mark.django_db

PAGES = ["/conduct/reply/", "/conduct/transcripts/", "/conduct/coach/"]


@pytest.mark.parametrize("url", PAGES)
def test_every_staff_member_can_open_the_checker_pages(client_for, clerk, url: str) -> None:
    response = client_for(clerk).get(url)
    assert response.status_code == 200


@pytest.mark.parametrize("url", [*PAGES, "/conduct/phrases/"])
def test_anonymous_visitor_is_sent_to_login(citizen_client, url: str) -> None:
    response = citizen_client.get(url)
    assert (response.status_code, response.url.split("?")[0]) == (302, "/accounts/login/")


def test_check_as_you_type_returns_findings_and_the_civil_phrase(client_for, clerk) -> None:
    response = client_for(clerk).post(
        "/conduct/reply/check/", {"text": "有牌子，自己看。"}, headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "<mark" in body
    assert "有牌子，自己看" in body
    assert "有什么需要请讲，我们会尽量帮您" in body


def test_check_as_you_type_of_clean_text(client_for, clerk) -> None:
    response = client_for(clerk).post("/conduct/reply/check/", {"text": "您好，请稍等。"})
    assert "未发现禁忌用语" in response.content.decode()


def test_reply_with_forbidden_phrase_is_stopped_and_asks_for_a_reason(client_for, clerk) -> None:
    response = client_for(clerk).post("/conduct/reply/", {"text": "少啰嗦，让你填就填。", "reason": ""})
    body = response.content.decode()
    assert response.status_code == 200
    assert "未发送" in body
    assert "请您慢慢讲，不要着急" in body
    assert 'name="reason"' in body
    assert OverriddenReply.objects.count() == 0


def test_reply_only_the_model_finds_is_stopped_with_the_categorys_civil_phrase(client_for, clerk) -> None:
    # 唔知 (粤语 不知道) is in no reviewed rule
    response = client_for(clerk).post("/conduct/reply/", {"text": "唔知，你问下别人", "reason": ""})
    body = response.content.decode()
    assert response.status_code == 200
    assert "未发送" in body
    assert "疑似推诿用语（统计模型" in body
    assert "对不起，请稍等，我帮您问一下别的同志" in body
    assert OverriddenReply.objects.count() == 0


def test_reply_sent_anyway_with_a_reason_is_recorded(client_for, clerk) -> None:
    response = client_for(clerk).post("/conduct/reply/", {"text": "少啰嗦。", "reason": "引用群众原话"})
    assert (response.status_code, response.url) == (302, "/conduct/reply/")
    reply = OverriddenReply.objects.get()
    assert (reply.staff, reply.reason, reply.findings[0]["rule_id"]) == (
        clerk,
        "引用群众原话",
        "rebuke.shut_up",
    )
    assert ConductFinding.objects.get().source == "reply"


def test_clean_reply_is_sent(client_for, clerk) -> None:
    response = client_for(clerk).post("/conduct/reply/", {"text": "您好，材料已收齐。"}, follow=True)
    assert "回复已发送" in response.content.decode()
    assert OverriddenReply.objects.count() == 0


def test_pasted_transcript_gets_a_report(client_for, clerk) -> None:
    text = "员：下一个。\n民：请问在哪里交费？\n员：墙上贴着呢，自己看去。\n"
    response = client_for(clerk).post("/conduct/transcripts/", {"text": text})
    body = response.content.decode()
    assert response.status_code == 200
    assert "迎声：缺失" in body
    assert "送声：缺失" in body
    assert "答声：有" in body
    assert "<mark" in body
    assert "自己看" in body


def test_uploaded_gb18030_transcript_is_checked(client_for, clerk) -> None:
    upload = SimpleUploadedFile("对话.txt", "员：您好\n民：谢谢\n员：我不管\n员：再见\n".encode("gb18030"))
    response = client_for(clerk).post("/conduct/transcripts/", {"file": upload})
    body = response.content.decode()
    assert response.status_code == 200
    assert "我不管" in body
    assert "迎声：有" in body
    assert "送声：有" in body


def test_oversized_upload_is_refused_with_a_clear_message(client_for, clerk) -> None:
    upload = SimpleUploadedFile("big.txt", b"a" * 1_048_577)
    response = client_for(clerk).post("/conduct/transcripts/", {"file": upload})
    assert response.status_code == 400
    assert "文件过大" in response.content.decode()


def test_empty_transcript_is_refused(client_for, clerk) -> None:
    response = client_for(clerk).post("/conduct/transcripts/", {"text": ""})
    assert response.status_code == 400


def test_coach_shows_the_seeds_phrases_for_a_situation(client_for, clerk) -> None:
    response = client_for(clerk).get("/conduct/coach/", {"situation": "对方打错电话"})
    body = response.content.decode()
    assert "您打错了，这里是××（单位）" in body
    assert "seed 001 电话用语 4" in body


def test_coach_unknown_situation_is_a_clear_400(client_for, clerk) -> None:
    response = client_for(clerk).get("/conduct/coach/", {"situation": "天气"})
    assert response.status_code == 400
    assert "未找到情形" in response.content.decode()


def test_phrases_page_is_the_centre_administrators(client_for, clerk, centre_administrator) -> None:
    assert client_for(clerk).get("/conduct/phrases/").status_code == 403
    response = client_for(centre_administrator).get("/conduct/phrases/")
    assert response.status_code == 200
    assert "shirk.dont_know" in response.content.decode()


def test_phrases_page_shows_the_models_threshold_and_cross_validated_figures(
    client_for, centre_administrator
) -> None:
    from servicehall.conduct.checker import phrase_model

    model = phrase_model()
    body = client_for(centre_administrator).get("/conduct/phrases/").content.decode()
    assert "统计模型（第二层检查）" in body
    assert f'<dd class="mono">{model.threshold:.2f}</dd>' in body
    chosen = model.cross_validation["chosen"]
    assert f"{chosen['precision']:.3f} / {chosen['recall']:.3f}" in body


def test_centre_administrator_adds_and_removes_an_extra_phrase(client_for, centre_administrator) -> None:
    client = client_for(centre_administrator)
    response = client.post(
        "/conduct/phrases/",
        {"rule_id": "shirk.dont_know", "kind": "pattern", "pattern": "唔知道", "note": "粤语"},
    )
    assert (response.status_code, response.url) == (302, "/conduct/phrases/")
    phrase = ExtraPhrase.objects.get()
    response = client.post(f"/conduct/phrases/{phrase.pk}/remove/")
    assert response.status_code == 302
    assert ExtraPhrase.objects.count() == 0
    assert list(
        AuditRecord.objects.filter(action__startswith="conduct.")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["conduct.extra_phrase_added", "conduct.extra_phrase_removed"]


def test_unusable_extra_phrase_is_a_clear_400(client_for, centre_administrator) -> None:
    response = client_for(centre_administrator).post(
        "/conduct/phrases/", {"rule_id": "shirk.dont_know", "kind": "pattern", "pattern": "管"}
    )
    assert response.status_code == 400
    assert "两个字以上" in response.content.decode()
