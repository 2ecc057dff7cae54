"""申诉 against ratings, and 差评整改: 核实 → 整改 → 回访, with 回访率 and 整改率."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from servicehall.audit.models import AuditRecord
from servicehall.feedback import actions as feedback
from servicehall.feedback.metrics import figures
from servicehall.feedback.models import AppealStatus, Rating, RatingToken, Rectification, RectificationStatus
from servicehall.lib.errors import ActionRefused, Conflict, NotFound, PermissionRefused
from servicehall.supervision.models import Violation, ViolationSource
from tests.conftest import make_staff
from tests.feedback.conftest import rate

TODAY = dt.date(2025, 3, 3)


@pytest.fixture
def bad_rating(token: Any) -> Rating:
    return rate(token.key, 1, reasons=["attitude"], comment="态度很差", contact_phone="13812345678")


def test_the_rated_clerk_appeals_and_an_upheld_appeal_excludes_the_rating(
    bad_rating: Rating, clerk: Any, supervisor: Any
) -> None:
    appeal = feedback.appeal_rating(clerk, bad_rating, "该群众因政策不符迁怒窗口，监控可证。")
    feedback.decide_appeal(supervisor, appeal, upheld=True, reason="查看录像，服务规范。")
    bad_rating.refresh_from_db()
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.UPHELD
    assert bad_rating.excluded_at is not None
    task = Rectification.objects.get(rating=bad_rating)
    assert (task.status, task.is_justified) == (RectificationStatus.CLOSED, False)
    counted = figures(Rating.objects.all(), Rectification.objects.all(), today=TODAY)
    assert (counted.ratings, counted.bad, counted.excluded, counted.callbacks_needed) == (0, 0, 1, 0)
    assert AuditRecord.objects.get(action="feedback.appeal_decided").after["excluded"] is True


def test_only_the_rated_clerk_may_appeal_and_only_once_at_a_time(
    bad_rating: Rating, clerk: Any, town_site: Any
) -> None:
    from servicehall.accounts.roles import Role

    colleague = make_staff(town_site, Role.WINDOW_CLERK, username="colleague", full_name="李同事")
    with pytest.raises(PermissionRefused):
        feedback.appeal_rating(colleague, bad_rating, "替同事申诉")
    feedback.appeal_rating(clerk, bad_rating, "评价有误")
    with pytest.raises(Conflict) as refused:
        feedback.appeal_rating(clerk, bad_rating, "再申诉一次")
    assert refused.value.code == "appeal_pending"
    assert bad_rating.appeals.count() == 1


def test_a_supervisor_cannot_decide_their_own_appeal_nor_another_sites(
    bad_rating: Rating, clerk: Any, supervisor: Any, other_town_site: Any
) -> None:
    from servicehall.accounts.roles import Role

    appeal = feedback.appeal_rating(clerk, bad_rating, "评价有误")
    outsider = make_staff(other_town_site, Role.WINDOW_SUPERVISOR, username="outsider", full_name="外站长")
    with pytest.raises(NotFound):
        feedback.decide_appeal(outsider, appeal, upheld=True, reason="越权")
    with pytest.raises(PermissionRefused):
        feedback.decide_appeal(clerk, appeal, upheld=True, reason="自己批")
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.PENDING


def test_a_justified_real_name_bad_rating_is_rectified_called_back_and_recorded_as_a_violation(
    bad_rating: Rating, clerk: Any, supervisor: Any
) -> None:
    task = Rectification.objects.get(rating=bad_rating)
    feedback.verify(supervisor, task, justified=True, note="经查看录像，语气生硬属实。")
    task.refresh_from_db()
    assert (task.status, task.due_on) == (RectificationStatus.RECTIFYING, task.rectify_due)
    violation = Violation.objects.get(source=ViolationSource.RATING)
    assert (violation.staff_id, violation.source_reference) == (clerk.pk, f"rating:{bad_rating.pk}")
    feedback.rectify(supervisor, task, note="批评教育，组织文明用语培训。")
    task.refresh_from_db()
    assert task.status == RectificationStatus.CALLING_BACK
    feedback.call_back(supervisor, task, result="satisfied", note="群众表示认可。")
    task.refresh_from_db()
    assert task.status == RectificationStatus.CLOSED
    assert task.callback_result == "satisfied"
    counted = figures(Rating.objects.all(), Rectification.objects.all(), today=TODAY)
    assert (counted.callback_rate, counted.rectification_rate, counted.overdue) == (100.0, 100.0, 0)


def test_an_unjustified_anonymous_bad_rating_closes_at_verification(token: Any, supervisor: Any) -> None:
    rating = rate(token.key, 2, reasons=["environment"])
    task = Rectification.objects.get(rating=rating)
    feedback.verify(supervisor, task, justified=False, note="当日空调检修，已公告。")
    task.refresh_from_db()
    assert (task.status, task.is_justified) == (RectificationStatus.CLOSED, False)
    assert not Violation.objects.exists()


def test_steps_out_of_order_are_refused_and_change_nothing(bad_rating: Rating, supervisor: Any) -> None:
    task = Rectification.objects.get(rating=bad_rating)
    with pytest.raises(Conflict) as refused:
        feedback.rectify(supervisor, task, note="跳过核实")
    assert refused.value.code == "invalid_transition"
    with pytest.raises(ActionRefused):
        feedback.verify(supervisor, task, justified=True, note="")
    task.refresh_from_db()
    assert (task.status, task.verified_at, task.rectified_at) == (RectificationStatus.VERIFYING, None, None)


def test_an_overdue_task_counts_as_overdue(bad_rating: Rating) -> None:
    task = Rectification.objects.get(rating=bad_rating)
    later = task.due_on + dt.timedelta(days=1)
    assert figures(Rating.objects.all(), Rectification.objects.all(), today=later).overdue == 1


def test_a_clerk_cannot_work_rectifications(bad_rating: Rating, clerk: Any) -> None:
    task = Rectification.objects.get(rating=bad_rating)
    with pytest.raises(PermissionRefused):
        feedback.verify(clerk, task, justified=False, note="不属实")
    task.refresh_from_db()
    assert task.status == RectificationStatus.VERIFYING


def test_a_supervisor_cannot_work_a_bad_rating_about_themselves(token: Any, supervisor: Any) -> None:
    # Given a 差评 of a service the 窗口负责人 gave themselves at a window
    RatingToken.objects.filter(pk=token.pk).update(staff=supervisor)
    rating = rate(token.key, 1, reasons=["attitude"], comment="态度差")
    task = Rectification.objects.get(rating=rating)
    assert task.staff_id == supervisor.pk
    audits = AuditRecord.objects.count()
    # When they try to verify it as not justified, or to exclude it, then both are refused
    with pytest.raises(PermissionRefused) as refused:
        feedback.verify(supervisor, task, justified=False, note="不属实")
    assert refused.value.code == "own_rating"
    with pytest.raises(PermissionRefused):
        feedback.review_held_rating(supervisor, rating, accept=False, reason="不采信")
    # And nothing changed
    task.refresh_from_db()
    rating.refresh_from_db()
    assert (task.status, task.is_justified, task.verified_at) == (RectificationStatus.VERIFYING, None, None)
    assert rating.excluded_at is None
    assert AuditRecord.objects.count() == audits
