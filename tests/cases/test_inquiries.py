"""咨询登记 and 首问责任制: who owns the matter, 导办/转办 with 去向, and 一跟到底 until it is done."""

from __future__ import annotations

import pytest

from servicehall.accounts.models import Rank
from servicehall.accounts.roles import Role
from servicehall.audit.models import AuditRecord
from servicehall.cases import actions
from servicehall.cases.models import Inquiry, Notification, Referral
from servicehall.lib.errors import ActionRefused, Conflict, NotFound, PermissionRefused
from tests.conftest import make_staff


def inquiry_data(**overrides):
    fields = {
        "channel": "phone",
        "asker_name": "欧阳娜娜",
        "asker_organisation": "某某贸易公司",
        "asker_contact": "139-1234-5678",
        "question": "办理失业金需要哪些材料？",
        "answer": "告知了申领条件、所需材料、办理窗口和时限。",
    }
    fields.update(overrides)
    return actions.InquiryData(**fields)


@pytest.fixture
def guide(town_site):
    return make_staff(town_site, Role.GUIDE, username="guide", full_name="陈导办", rank=Rank.CLERK)


@pytest.fixture
def senior_guide(town_site):
    return make_staff(town_site, Role.GUIDE, username="senior", full_name="梁科长", rank=Rank.SECTION_CHIEF)


def test_the_recorder_is_the_first_responder_and_the_asker_is_kept_masked(guide, committed_item) -> None:
    inquiry = actions.record_inquiry(guide, inquiry_data(item_id=committed_item.pk))
    # Then the fields of DB4420 §6.2.13 are kept: who, unit, contact, item, question, answer, time
    assert (inquiry.channel, inquiry.asker_name, inquiry.asker_organisation, inquiry.asker_contact) == (
        "phone",
        "欧阳娜娜",
        "某某贸易公司",
        "13912345678",
    )
    assert inquiry.item == committed_item
    assert inquiry.first_responder == guide
    assert inquiry.recorded_by == guide
    assert (inquiry.masked_asker_name, inquiry.masked_asker_contact) == ("欧***", "139****5678")
    audit = AuditRecord.objects.get(action="cases.inquiry_recorded")
    assert audit.after["asker"] == "欧***"
    assert "13912345678" not in str(audit.after)


def test_when_two_answer_together_the_higher_rank_is_the_first_responder(guide, senior_guide) -> None:
    inquiry = actions.record_inquiry(guide, inquiry_data(answered_with_ids=[senior_guide.pk]))
    assert inquiry.first_responder == senior_guide
    assert inquiry.recorded_by == guide
    assert list(inquiry.answered_with.all()) == [senior_guide]
    # And the senior colleague is told they own it
    assert Notification.objects.get().recipient == senior_guide


def test_on_equal_rank_the_recorder_stays_first_responder(clerk, guide) -> None:
    clerk.rank = Rank.CLERK
    clerk.save()
    inquiry = actions.record_inquiry(guide, inquiry_data(answered_with_ids=[clerk.pk]))
    assert inquiry.first_responder == guide


def test_the_highest_rank_wins_whoever_recorded_it_and_equal_seniors_go_by_the_order_named(
    town_site, guide, senior_guide
) -> None:
    # Given two section chiefs and a deputy division chief answered together with the guide
    chief = make_staff(town_site, Role.GUIDE, username="chief", full_name="何科长", rank=Rank.SECTION_CHIEF)
    deputy = make_staff(
        town_site, Role.GUIDE, username="deputy", full_name="罗副处", rank=Rank.DEPUTY_DIVISION_CHIEF
    )
    # When the guide records it naming both section chiefs, the later-created one first
    inquiry = actions.record_inquiry(guide, inquiry_data(answered_with_ids=[chief.pk, senior_guide.pk]))
    # Then of the equally ranked seniors, the one named first is 首问责任人
    assert inquiry.first_responder == chief
    # When the deputy division chief also answered, named last and twice
    inquiry = actions.record_inquiry(
        guide, inquiry_data(answered_with_ids=[senior_guide.pk, chief.pk, deputy.pk, deputy.pk])
    )
    # Then the highest 职级 is 首问责任人 whatever the order, and each colleague is kept once
    assert inquiry.first_responder == deputy
    assert sorted(inquiry.answered_with.values_list("username", flat=True)) == ["chief", "deputy", "senior"]


def test_a_colleague_that_is_not_a_number_is_refused(guide) -> None:
    with pytest.raises(ActionRefused) as refused:
        actions.record_inquiry(guide, inquiry_data(answered_with_ids=["张三"]))
    assert (refused.value.field, refused.value.message) == (
        "answered_with_ids",
        "共同答复人不存在或不在本场所。",
    )
    assert Inquiry.objects.count() == 0


def test_a_colleague_of_another_site_cannot_be_named(guide, other_site_clerk) -> None:
    with pytest.raises(ActionRefused) as refused:
        actions.record_inquiry(guide, inquiry_data(answered_with_ids=[other_site_clerk.pk]))
    assert refused.value.message == "共同答复人不存在或不在本场所。"
    assert Inquiry.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"channel": "fax"}, "channel", "咨询方式无效。"),
        ({"asker_name": ""}, "asker_name", "咨询人不能为空。"),
        ({"question": " "}, "question", "咨询内容不能为空。"),
        (
            {"asker_contact": "12345"},
            "asker_contact",
            "手机号码应为11位数字 / Mobile phone number must be 11 digits",
        ),
        ({"asker_name": "张\x00三"}, "asker_name", "咨询人不能包含控制字符。"),
        ({"question": "问" * 2001}, "question", "咨询内容不能超过 2000 个字符。"),
    ],
)
def test_bad_input_is_refused_and_nothing_recorded(guide, overrides, field, message) -> None:
    with pytest.raises(ActionRefused) as refused:
        actions.record_inquiry(guide, inquiry_data(**overrides))
    assert (refused.value.field, refused.value.message) == (field, message)
    assert Inquiry.objects.count() == 0


def test_a_referral_records_where_and_why_and_the_first_responder_keeps_the_matter(
    guide, window, department
) -> None:
    inquiry = actions.record_inquiry(guide, inquiry_data())
    # When the guide sends the person to window 3
    referral = actions.refer_inquiry(
        guide, inquiry, 1, actions.ReferralData(kind="guide", reason="属社保窗口职责", to_window_id=window.pk)
    )
    # Then the 去向 is recorded
    assert (referral.kind, referral.destination, referral.reason, referral.to_window) == (
        "guide",
        "3号窗口 社保综合窗口",
        "属社保窗口职责",
        window,
    )
    # And the inquiry is still the guide's (一跟到底)
    inquiry = Inquiry.objects.get()
    assert (inquiry.status, inquiry.first_responder, inquiry.version) == ("referred", guide, 2)
    assert list(Inquiry.objects.filter(first_responder=guide).exclude(status="done")) == [inquiry]
    # When it is transferred onwards, and finally done
    actions.refer_inquiry(
        guide,
        inquiry,
        2,
        actions.ReferralData(kind="transfer", reason="需部门核实", to_department_id=department.pk),
    )
    actions.close_inquiry(guide, inquiry, 3, "已由社保窗口办结")
    inquiry = Inquiry.objects.get()
    assert (inquiry.status, inquiry.outcome) == ("done", "已由社保窗口办结")
    assert list(Referral.objects.values_list("kind", "destination")) == [
        ("guide", "3号窗口 社保综合窗口"),
        ("transfer", "人力资源和社会保障局"),
    ]


def test_referral_outside_the_centre_must_name_the_body(guide) -> None:
    inquiry = actions.record_inquiry(guide, inquiry_data())
    with pytest.raises(ActionRefused) as refused:
        actions.refer_inquiry(guide, inquiry, 1, actions.ReferralData(kind="outside", reason="不属于本中心"))
    assert refused.value.message == "请写明承办单位及地址（去向）。"
    actions.refer_inquiry(
        guide,
        inquiry,
        1,
        actions.ReferralData(kind="outside", reason="不属于本中心", destination="市公积金中心，兴中道 8 号"),
    )
    assert Referral.objects.get().destination == "市公积金中心，兴中道 8 号"


def test_only_the_first_responder_or_a_supervisor_handles_the_inquiry(guide, clerk, supervisor) -> None:
    inquiry = actions.record_inquiry(guide, inquiry_data())
    with pytest.raises(PermissionRefused) as refused:
        actions.close_inquiry(clerk, inquiry, 1, "我来办结")
    assert refused.value.message == "只有首问责任人（或窗口负责人）可以处理此咨询。"
    assert Inquiry.objects.get().status == "open"
    assert AuditRecord.objects.filter(action="access.denied").count() == 1
    actions.close_inquiry(supervisor, inquiry, 1, "负责人协调办结")
    assert Inquiry.objects.get().status == "done"


def test_a_done_inquiry_cannot_be_referred(guide, window) -> None:
    inquiry = actions.record_inquiry(guide, inquiry_data())
    actions.close_inquiry(guide, inquiry, 1, "当场答复完毕")
    with pytest.raises(ActionRefused) as refused:
        actions.refer_inquiry(
            guide, inquiry, 2, actions.ReferralData(kind="guide", reason="再导办", to_window_id=window.pk)
        )
    assert refused.value.message == "咨询当前状态为「已办结」，不能再处理。"


def test_a_stale_inquiry_version_is_refused(guide, window) -> None:
    inquiry = actions.record_inquiry(guide, inquiry_data())
    actions.refer_inquiry(
        guide, inquiry, 1, actions.ReferralData(kind="guide", reason="导办", to_window_id=window.pk)
    )
    with pytest.raises(Conflict):
        actions.close_inquiry(guide, inquiry, 1, "办结")
    assert Inquiry.objects.get().status == "referred"


def test_an_inquiry_of_another_site_does_not_exist_for_them(guide, other_site_clerk) -> None:
    inquiry = actions.record_inquiry(guide, inquiry_data())
    with pytest.raises(NotFound):
        actions.close_inquiry(other_site_clerk, inquiry, 1, "办结")
