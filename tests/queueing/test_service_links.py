"""A visit is linked to the 咨询登记 or 办件 it produced only if that object is real, of the visit's site,
and (for a case) one the clerk may see; every refusal is a clear 4xx and changes nothing."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest

from servicehall.accounts.models import User
from servicehall.accounts.roles import Capability
from servicehall.audit.models import AuditRecord
from servicehall.cases.models import ApplicantKind, Case, Inquiry, InquiryChannel
from servicehall.catalog.models import ItemType, ServiceItem
from servicehall.lib.errors import ActionRefused
from servicehall.queueing import actions
from servicehall.queueing.models import EventKind, Ticket, TicketStatus, VisitEvent
from tests.conftest import verified_client
from tests.factories import DepartmentFactory
from tests.queueing.conftest import at, issue

pytestmark = pytest.mark.django_db


def make_inquiry(site: Any, staff: User) -> Inquiry:
    return Inquiry.objects.create(
        site=site,
        channel=InquiryChannel.ONSITE,
        asker_name="张三",
        question="社保转移需要什么材料？",
        recorded_by=staff,
        first_responder=staff,
    )


def make_case(site: Any, staff: User, number: str) -> Case:
    department = DepartmentFactory(site=site, code=f"D{number[-4:]}", name=f"部门{number[-4:]}")
    item = ServiceItem.objects.create(
        site=site,
        department=department,
        code=f"IT{number[-6:]}",
        item_type=ItemType.COMMITTED,
        name="社保关系转移",
        statutory_limit_days=20,
        committed_limit_days=5,
    )
    return Case.objects.create(
        site=site,
        item=item,
        department=department,
        number=number,
        applicant_kind=ApplicantKind.PERSON,
        applicant_name="张三",
        applicant_id_number="440101199003070011",
        applicant_phone="13812345678",
        first_handler=staff,
    )


def link_of(ticket: Ticket) -> tuple[str, str]:
    return tuple(
        Ticket.objects.filter(pk=ticket.pk).values_list("linked_object_type", "linked_object_id").get()
    )


def changes() -> tuple[int, int, list[tuple[str, str, str]]]:
    return (
        VisitEvent.objects.count(),
        AuditRecord.objects.exclude(action="access.denied").count(),
        list(Ticket.objects.order_by("pk").values_list("status", "linked_object_type", "linked_object_id")),
    )


@pytest.fixture
def serving(at_window, clerk, social_security) -> Ticket:
    """A1 called at window 3 at 9:10 and being served from 9:11."""
    ticket = issue(social_security, 1)
    actions.call_next(clerk, at_window, now=at(9, 10))
    actions.start_service(clerk, at_window, now=at(9, 11))
    return Ticket.objects.get(pk=ticket.pk)


@pytest.fixture
def called(at_window, clerk, social_security) -> Ticket:
    ticket = issue(social_security, 1)
    actions.call_next(clerk, at_window, now=at(9, 10))
    return Ticket.objects.get(pk=ticket.pk)


# ---------------------------------------------------------------------------------------------
# The happy paths


def test_linking_a_served_visit_to_an_inquiry_of_the_site(serving, clerk, town_site) -> None:
    inquiry = make_inquiry(town_site, clerk)
    linked = actions.link_service(clerk, serving, "cases.inquiry", str(inquiry.pk))
    assert link_of(linked) == ("cases.inquiry", str(inquiry.pk))
    record = AuditRecord.objects.get(action="queueing.visit_linked")
    assert (record.before, record.after) == (
        {"linked_object_type": "", "linked_object_id": ""},
        {"linked_object_type": "cases.inquiry", "linked_object_id": str(inquiry.pk)},
    )


def test_linking_a_finished_visit_to_a_case_of_the_site(serving, clerk, at_window, town_site) -> None:
    actions.finish_service(clerk, at_window, now=at(9, 20))
    case = make_case(town_site, clerk, "2025030300000001")
    linked = actions.link_service(clerk, serving, "cases.case", f" {case.pk} ")
    assert (linked.status, link_of(linked)) == (TicketStatus.FINISHED, ("cases.case", str(case.pk)))


def test_start_service_links_at_once_and_says_so_in_the_started_event(
    called, clerk, at_window, town_site
) -> None:
    inquiry = make_inquiry(town_site, clerk)
    actions.start_service(
        clerk, at_window, linked_object_type="cases.inquiry", linked_object_id=str(inquiry.pk), now=at(9, 11)
    )
    assert link_of(called) == ("cases.inquiry", str(inquiry.pk))
    started = VisitEvent.objects.get(ticket=called, kind=EventKind.STARTED)
    assert started.detail == {"linked": f"cases.inquiry:{inquiry.pk}"}


# ---------------------------------------------------------------------------------------------
# Refusals: each one a clear message, nothing changed


def refused(call: Any) -> ActionRefused:
    before = changes()
    with pytest.raises(ActionRefused) as refusal:
        call()
    assert changes() == before
    assert refusal.value.status == 400
    return refusal.value


@pytest.mark.parametrize(
    ("link_type", "link_id"),
    [("auth.user", "1"), ("cases.referral", "1"), ("", "5"), ("cases.inquiry", ""), ("cases.case", "1; --")],
)
def test_an_unknown_type_or_malformed_id_is_refused(serving, clerk, link_type, link_id) -> None:
    refusal = refused(lambda: actions.link_service(clerk, serving, link_type, link_id))
    assert (refusal.code, refusal.message) == ("invalid_link", "关联的咨询或办件编号无效。")


def test_an_empty_link_is_refused_by_link_service(serving, clerk) -> None:
    refusal = refused(lambda: actions.link_service(clerk, serving, "", ""))
    assert (refusal.code, refusal.message) == ("link_required", "请填写关联的咨询或办件编号。")


@pytest.mark.parametrize("link_id", ["999999", "abc", "0"])
def test_an_inquiry_that_does_not_exist_is_refused(serving, clerk, town_site, link_id) -> None:
    make_inquiry(town_site, clerk)
    refusal = refused(lambda: actions.link_service(clerk, serving, "cases.inquiry", link_id))
    assert (refusal.code, refusal.message) == ("link_not_found", f"未找到本场所编号为 {link_id} 的咨询登记。")


def test_a_case_that_does_not_exist_is_refused(serving, clerk) -> None:
    refusal = refused(lambda: actions.link_service(clerk, serving, "cases.case", "424242"))
    assert (refusal.code, refusal.message) == (
        "link_not_found",
        "未找到本场所编号为 424242、您可查看的办件。",
    )


def test_an_inquiry_of_another_site_is_refused_like_a_missing_one(
    serving, clerk, other_town_site, other_site_clerk
) -> None:
    elsewhere = make_inquiry(other_town_site, other_site_clerk)
    refusal = refused(lambda: actions.link_service(clerk, serving, "cases.inquiry", str(elsewhere.pk)))
    assert refusal.message == f"未找到本场所编号为 {elsewhere.pk} 的咨询登记。"


def test_a_case_of_another_site_is_refused_even_for_a_user_who_sees_both_sites(
    serving, clerk, other_town_site, other_site_clerk
) -> None:
    elsewhere = make_case(other_town_site, other_site_clerk, "2025030300000002")
    with mock.patch.object(User, "accessible_site_ids", return_value={serving.site_id, other_town_site.pk}):
        refusal = refused(lambda: actions.link_service(clerk, serving, "cases.case", str(elsewhere.pk)))
    assert refusal.message == f"未找到本场所编号为 {elsewhere.pk}、您可查看的办件。"


def test_a_case_the_clerk_may_not_see_is_refused(serving, clerk, town_site) -> None:
    case = make_case(town_site, clerk, "2025030300000003")
    # A counter user without any case capability (HANDLE/APPROVE/SUPERVISE) sees no case at all.
    original = User.has_capability

    def without_cases(user: User, capability: Any) -> bool:
        if capability in (Capability.HANDLE_CASES, Capability.APPROVE_CASES, Capability.SUPERVISE_CASES):
            return False
        return original(user, capability)

    with mock.patch.object(User, "has_capability", without_cases):
        refusal = refused(lambda: actions.link_service(clerk, serving, "cases.case", str(case.pk)))
    assert refusal.code == "link_not_found"
    # The same clerk with the capability links it
    actions.link_service(clerk, serving, "cases.case", str(case.pk))
    assert link_of(serving) == ("cases.case", str(case.pk))


def test_a_waiting_or_called_ticket_cannot_be_linked(called, clerk, town_site) -> None:
    inquiry = make_inquiry(town_site, clerk)
    refusal = refused(lambda: actions.link_service(clerk, called, "cases.inquiry", str(inquiry.pk)))
    assert refusal.code == "invalid_transition"


def test_start_service_with_a_bad_link_calls_nothing_and_starts_nothing(
    called, clerk, at_window, other_town_site, other_site_clerk
) -> None:
    elsewhere = make_inquiry(other_town_site, other_site_clerk)
    refusal = refused(
        lambda: actions.start_service(
            clerk,
            at_window,
            linked_object_type="cases.inquiry",
            linked_object_id=str(elsewhere.pk),
            now=at(9, 11),
        )
    )
    assert refusal.code == "link_not_found"
    assert Ticket.objects.get(pk=called.pk).status == TicketStatus.CALLED


def test_the_api_answers_a_bad_link_with_a_400_and_the_message(
    called, clerk, at_window, town_site, other_town_site, other_site_clerk
) -> None:
    client = verified_client(clerk)
    url = f"/api/queueing/windows/{at_window.pk}/start"
    elsewhere = make_inquiry(other_town_site, other_site_clerk)
    before = changes()
    for payload, code in [
        ({"linked_object_type": "auth.user", "linked_object_id": "1"}, "invalid_link"),
        ({"linked_object_type": "cases.inquiry", "linked_object_id": str(elsewhere.pk)}, "link_not_found"),
        ({"linked_object_type": "cases.case", "linked_object_id": "777"}, "link_not_found"),
    ]:
        response = client.post(url, payload, content_type="application/json")
        assert response.status_code == 400, response.content
        assert response.json()["code"] == code
        assert response.json()["field"] == "linked_object_id"
    assert changes() == before
    inquiry = make_inquiry(town_site, clerk)
    response = client.post(
        url,
        {"linked_object_type": "cases.inquiry", "linked_object_id": str(inquiry.pk)},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert link_of(called) == ("cases.inquiry", str(inquiry.pk))


def test_the_counter_page_shows_the_refusal_and_keeps_the_ticket_called(
    called, clerk, at_window, frozen_now
) -> None:
    client = verified_client(clerk)
    response = client.post(
        f"/hall/counter/{at_window.pk}/",
        {"operation": "start", "linked_object_type": "cases.case", "linked_object_id": "888"},
        follow=True,
    )
    assert "未找到本场所编号为 888、您可查看的办件。" in response.content.decode()
    assert Ticket.objects.get(pk=called.pk).status == TicketStatus.CALLED
