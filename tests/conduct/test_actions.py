"""State changes: replies sent despite a warning, findings for supervision, the centre's extra phrases."""

from __future__ import annotations

import pytest

from servicehall.audit.models import AuditRecord
from servicehall.conduct import actions, service
from servicehall.conduct.models import ConductFinding, ExtraPhrase, OverriddenReply
from servicehall.lib.errors import ActionRefused, NotFound, PermissionRefused

pytestmark = pytest.mark.django_db


def test_clean_reply_is_sent_and_nothing_is_kept(clerk) -> None:
    outcome = actions.submit_reply(clerk, "您好，您的材料已经受理，请收好回执。")
    assert (outcome.sent, outcome.findings, outcome.overridden) == (True, [], None)
    assert (OverriddenReply.objects.count(), ConductFinding.objects.count()) == (0, 0)


def test_reply_with_forbidden_phrase_is_stopped_without_a_reason(clerk) -> None:
    # given a reply with 不知道, when it is submitted without a reason
    outcome = actions.submit_reply(clerk, "不知道，你问别人去。")
    # then it is not sent, the suggestion comes back, and nothing is written
    assert (outcome.sent, outcome.reason_required) == (False, True)
    assert outcome.findings[0].suggestion == "对不起，请稍等，我帮您问一下别的同志"
    assert (
        OverriddenReply.objects.count(),
        AuditRecord.objects.filter(action__startswith="conduct.").count(),
    ) == (
        0,
        0,
    )


def test_reply_sent_anyway_is_recorded_with_reason_and_audited(clerk) -> None:
    # given a reply with one severity-2 finding and a reason
    outcome = actions.submit_reply(clerk, "这个我不知道。", "  群众询问的是外省政策，确实无从知晓  ")
    # then it is sent and kept with who, what and why
    reply = OverriddenReply.objects.get()
    assert (outcome.sent, outcome.overridden, reply.staff, reply.site, reply.reason) == (
        True,
        reply,
        clerk,
        clerk.site,
        "群众询问的是外省政策，确实无从知晓",
    )
    assert [finding["rule_id"] for finding in reply.findings] == ["shirk.dont_know"]
    audit = AuditRecord.objects.get(action="conduct.reply_overridden")
    assert (audit.actor, audit.after["rule_ids"]) == (clerk, ["shirk.dont_know"])
    # and one severity-2 finding is under the threshold: no finding for supervision
    assert (outcome.conduct_finding, ConductFinding.objects.count()) == (None, 0)


def test_severe_reply_sent_anyway_creates_a_redacted_finding(clerk) -> None:
    # given a severity-3 phrase next to a citizen's mobile number
    text = "我不管，13812345678 这个号码你自己打。"
    outcome = actions.submit_reply(clerk, text, "群众要求原话转达")
    finding = ConductFinding.objects.get()
    # then the finding is for supervision, with the number masked
    assert outcome.conduct_finding == finding
    assert (finding.staff, finding.site, finding.source, finding.rule_ids, finding.highest_severity) == (
        clerk,
        clerk.site,
        "reply",
        ["cold.i_dont_care"],
        3,
    )
    assert "13812345678" not in finding.excerpt
    assert finding.excerpt.startswith("我不管，138")
    assert finding.claimed_at is None
    assert AuditRecord.objects.filter(action="conduct.finding_recorded", actor=clerk).count() == 1


def test_two_findings_reach_the_threshold(clerk) -> None:
    actions.submit_reply(clerk, "不知道，你问别人去。", "测试")
    assert ConductFinding.objects.get().finding_count == 2


def test_threshold_comes_from_settings(clerk, settings) -> None:
    settings.SERVICEHALL_CONDUCT_FINDING_MIN_SEVERITY = 2
    actions.submit_reply(clerk, "这个我不知道。", "测试")
    assert ConductFinding.objects.count() == 1


@pytest.mark.parametrize(
    ("text", "reason", "code"),
    [
        ("", "", "empty"),
        ("   ", "", "empty"),
        ("好" * 5001, "", "too_long"),
        ("我不管", "理" * 501, "too_long"),
    ],
)
def test_bad_reply_input_is_refused(clerk, text: str, reason: str, code: str) -> None:
    with pytest.raises(ActionRefused) as refused:
        actions.submit_reply(clerk, text, reason)
    assert refused.value.code == code


def test_text_with_nul_and_lone_surrogate_is_stored_safely(clerk) -> None:
    actions.submit_reply(clerk, "我不管\x00\ud800！", "测试")
    assert OverriddenReply.objects.get().text == "我不管?！"


TRANSCRIPT = """员：下一个。
民：请问养老保险怎么转移？
员：我不管，你找领导去吧。
"""


def test_transcript_over_the_threshold_creates_one_finding_however_often_checked(clerk) -> None:
    first = actions.check_transcript(clerk, TRANSCRIPT)
    second = actions.check_transcript(clerk, TRANSCRIPT)
    finding = ConductFinding.objects.get()
    assert (first.conduct_finding, second.conduct_finding) == (finding, None)
    assert (finding.source, finding.excerpt, finding.rule_ids) == (
        "transcript",
        "3：我不管，你找领导去吧。",
        ["cold.i_dont_care", "shirk.go_to_the_boss"],
    )
    assert first.report.missing_voices == ["迎声", "送声"]


def test_clean_transcript_creates_no_finding(clerk) -> None:
    outcome = actions.check_transcript(clerk, "员：您好\n民：谢谢\n员：再见")
    assert (outcome.conduct_finding, ConductFinding.objects.count()) == (None, 0)


def test_supervisor_checks_a_clerks_transcript_in_scope(supervisor, clerk) -> None:
    outcome = actions.check_transcript(supervisor, TRANSCRIPT, subject=clerk)
    assert outcome.conduct_finding.staff == clerk
    assert AuditRecord.objects.get(action="conduct.finding_recorded").actor == supervisor


def test_clerk_cannot_attribute_a_transcript_to_someone_else(clerk, supervisor) -> None:
    with pytest.raises(PermissionRefused):
        actions.check_transcript(clerk, TRANSCRIPT, subject=supervisor)
    assert ConductFinding.objects.count() == 0


def test_staff_of_another_site_is_not_found(supervisor, other_site_clerk) -> None:
    with pytest.raises(NotFound):
        actions.check_transcript(supervisor, TRANSCRIPT, subject=other_site_clerk)


def test_extra_phrase_is_added_audited_and_used(
    centre_administrator, clerk, django_capture_on_commit_callbacks
) -> None:
    # given a dialect variant of 不知道 that no reviewed rule knows (only the model finds it resembling one)
    assert [finding.rule_id for finding in service.current_ruleset().check("唔知，你问下别人")] == [
        "model.推诿"
    ]
    with django_capture_on_commit_callbacks(execute=True):
        phrase = actions.add_extra_phrase(
            centre_administrator, "shirk.dont_know", "pattern", "唔知|唔知道", "粤语"
        )
    # then it is kept, audited, and the next check uses it
    audit = AuditRecord.objects.get(action="conduct.extra_phrase_added")
    assert (audit.actor, audit.after) == (
        centre_administrator,
        {"rule_id": "shirk.dont_know", "kind": "pattern", "pattern": "唔知|唔知道", "note": "粤语"},
    )
    assert [finding.rule_id for finding in actions.check_reply(clerk, "唔知，你问下别人")] == [
        "shirk.dont_know"
    ]
    # and removing it restores the reviewed rules
    with django_capture_on_commit_callbacks(execute=True):
        actions.remove_extra_phrase(centre_administrator, phrase.pk)
    assert ExtraPhrase.objects.count() == 0
    assert AuditRecord.objects.filter(action="conduct.extra_phrase_removed").count() == 1
    assert [finding.rule_id for finding in service.current_ruleset().check("唔知，你问下别人")] == [
        "model.推诿"
    ]


@pytest.mark.parametrize(
    ("rule_id", "kind", "pattern", "code"),
    [
        ("shirk.dont_know", "pattern", "管", "invalid_pattern"),
        ("no.such.rule", "pattern", "唔知道", "invalid_pattern"),
        ("shirk.dont_know", "sometimes", "唔知道", "invalid_kind"),
        ("shirk.dont_know", "pattern", "", "invalid_pattern"),
        ("cold.curt_refusal", "pattern", "请稍等", "flags_civil_phrase"),
    ],
)
def test_unusable_extra_phrase_is_refused(centre_administrator, rule_id, kind, pattern, code) -> None:
    with pytest.raises(ActionRefused) as refused:
        actions.add_extra_phrase(centre_administrator, rule_id, kind, pattern)
    assert (refused.value.code, ExtraPhrase.objects.count()) == (code, 0)


def test_duplicate_extra_phrase_is_refused(centre_administrator) -> None:
    actions.add_extra_phrase(centre_administrator, "shirk.dont_know", "pattern", "唔知道")
    with pytest.raises(ActionRefused) as refused:
        actions.add_extra_phrase(centre_administrator, "shirk.dont_know", "pattern", "唔知道")
    assert refused.value.code == "duplicate"


def test_only_the_centre_administrator_manages_extra_phrases(clerk, supervisor, system_administrator) -> None:
    for actor in (clerk, supervisor, system_administrator):
        with pytest.raises(PermissionRefused):
            actions.add_extra_phrase(actor, "shirk.dont_know", "pattern", "唔知道")
    assert AuditRecord.objects.filter(action="access.denied").count() == 3


def test_removing_a_missing_phrase_is_not_found(centre_administrator) -> None:
    with pytest.raises(NotFound):
        actions.remove_extra_phrase(centre_administrator, 999)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("员：您好\n".encode(), "员：您好\n"),
        ("\ufeff员：您好\n".encode(), "员：您好\n"),
        ("员：您好\n".encode("gb18030"), "员：您好\n"),
        (b"\xff\xfe\xfa", "\ufffd\ufffd\ufffd"),
    ],
)
def test_uploaded_transcripts_decode_as_utf8_or_gb18030(data: bytes, expected: str) -> None:
    assert actions.decode_transcript(data) == expected
