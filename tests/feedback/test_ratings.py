"""好差评: one rating per service that happened, by its single-use token; 差评 open a rectification."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from servicehall.audit.models import AuditChainHead, AuditRecord
from servicehall.feedback import actions as feedback
from servicehall.feedback.metrics import figures
from servicehall.feedback.models import (
    Channel,
    Grade,
    Rating,
    RatingToken,
    Rectification,
    RectificationStatus,
)
from servicehall.lib.errors import ActionRefused, Conflict, NotFound, PermissionRefused
from tests.feedback.conftest import RATED_AT, at, issue, rate, serve


def test_finishing_a_service_issues_exactly_one_token(
    clerk: Any, at_window: Any, social_security: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # Given a citizen served at window 3
    ticket = issue(social_security, 10)
    from servicehall.queueing import actions as queueing

    queueing.call_next(clerk, at_window, now=at(9, 11))
    queueing.start_service(clerk, at_window, now=at(9, 12))
    # When the clerk finishes the service (the hook runs on commit)
    with django_capture_on_commit_callbacks(execute=True):
        queueing.finish_service(clerk, at_window, now=at(9, 17))
    # Then one token exists for it, naming the clerk and window, valid 7 days from the end of service
    token = RatingToken.objects.get(ticket=ticket)
    assert (token.staff_id, token.window_id, token.used_at) == (clerk.pk, at_window.pk, None)
    assert token.expires_at == at(9, 17) + dt.timedelta(days=7)
    # And issuing again returns the same token
    ticket.refresh_from_db()
    assert feedback.issue_token_for_ticket(ticket).pk == token.pk
    assert RatingToken.objects.count() == 1


def test_a_service_that_did_not_happen_gets_no_token(social_security: Any) -> None:
    waiting = issue(social_security, 10)
    with pytest.raises(ActionRefused) as refused:
        feedback.issue_token_for_ticket(waiting)
    assert refused.value.code == "service_not_finished"
    assert RatingToken.objects.count() == 0


def test_a_good_rating_is_recorded_once_and_audited_without_contact_details(token: Any, clerk: Any) -> None:
    rating = rate(token.key, 5, reasons=["attitude"], contact_name="王女士", contact_phone="13812345678")
    assert (rating.grade, rating.staff_id, rating.channel, rating.reasons) == (
        Grade.GOOD,
        clerk.pk,
        Channel.QR_CODE,
        ["attitude"],
    )
    token.refresh_from_db()
    assert token.used_at == RATED_AT
    assert not Rectification.objects.exists()
    audit = AuditRecord.objects.get(action="feedback.rated")
    assert "13812345678" not in str(audit.after)
    assert "王女士" not in str(audit.after)
    assert audit.after["real_name"] is True


def test_a_rating_takes_six_statements_between_its_savepoints(
    token: Any, django_assert_num_queries: Any
) -> None:
    # Given a token whose site's audit chain has its head (serving the citizen was recorded)
    assert AuditChainHead.objects.filter(chain=token.site_id).exists()
    # When a citizen rates: claim the token (one UPDATE … RETURNING), the burst check, the rating, and
    # the audit record (lock the chain head, insert, move the head); issue 7 needs 200 a second
    with django_assert_num_queries(8):
        rating = rate(token.key, 5, source=feedback.fingerprint("address", "10.0.0.7"))
    # Then the rating and its audit record are there
    assert AuditRecord.objects.filter(action="feedback.rated", object_id=str(rating.pk)).count() == 1


def test_rating_twice_is_refused_and_changes_nothing(token: Any) -> None:
    first = rate(token.key, 4)
    with pytest.raises(Conflict) as refused:
        rate(token.key, 1, reasons=["attitude"])
    assert refused.value.code == "already_rated"
    assert list(Rating.objects.values_list("pk", "level")) == [(first.pk, 4)]
    assert not Rectification.objects.exists()


@pytest.mark.parametrize("key", ["", "forged-token-that-was-never-issued", "x" * 200])
def test_a_forged_token_is_refused(token: Any, key: str) -> None:
    with pytest.raises(NotFound):
        rate(key, 5)
    assert Rating.objects.count() == 0


def test_an_expired_token_is_refused(token: Any) -> None:
    with pytest.raises(ActionRefused) as refused:
        rate(token.key, 5, now=token.expires_at)
    assert refused.value.code == "token_expired"
    token.refresh_from_db()
    assert (token.used_at, Rating.objects.count()) == (None, 0)


def test_staff_accounts_cannot_rate(token: Any, clerk: Any) -> None:
    with pytest.raises(PermissionRefused) as refused:
        rate(token.key, 5, actor=clerk)
    assert refused.value.code == "staff_cannot_rate"
    assert Rating.objects.count() == 0


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"level": 0}, "invalid_level"),
        ({"level": "五"}, "invalid_level"),
        ({"level": 5, "reasons": ["bribe"]}, "invalid_reason"),
        ({"level": 1}, "reason_required"),
        ({"level": 5, "contact_phone": "12345"}, "invalid_phone"),
        ({"level": 5, "comment": "很" * 501}, "too_long"),
        ({"level": 5, "channel": "telepathy"}, "invalid_channel"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(token: Any, fields: dict[str, Any], code: str) -> None:
    level = fields.pop("level")
    with pytest.raises(ActionRefused) as refused:
        rate(token.key, level, **fields)
    assert refused.value.code == code
    token.refresh_from_db()
    assert (token.used_at, Rating.objects.count()) == (None, 0)


def test_a_bad_rating_opens_a_rectification_with_working_day_deadlines(token: Any, clerk: Any) -> None:
    # Given a 差评 on Monday 3 March 2025
    rating = rate(token.key, 2, reasons=["efficiency"], comment="等了很久")
    # Then a rectification is open: verify by Tuesday, rectify within 15 working days (Monday 24 March)
    task = Rectification.objects.get(rating=rating)
    assert (task.status, task.staff_id) == (RectificationStatus.VERIFYING, clerk.pk)
    assert (task.verify_due, task.rectify_due, task.due_on) == (
        dt.date(2025, 3, 4),
        dt.date(2025, 3, 24),
        dt.date(2025, 3, 4),
    )


def test_an_improbable_burst_from_one_source_is_held_and_not_counted(
    clerk: Any, at_window: Any, social_security: Any, settings: Any
) -> None:
    settings.SERVICEHALL_RATING_BURST_COUNT = 2
    tokens = [
        feedback.issue_token_for_ticket(serve(clerk, at_window, social_security, minute))
        for minute in (0, 10, 20)
    ]
    source = feedback.fingerprint("address", "10.0.0.9")
    ratings = [
        rate(token.key, 5, source=source, now=RATED_AT + dt.timedelta(seconds=index))
        for index, token in enumerate(tokens)
    ]
    assert [rating.held_for_review for rating in ratings] == [False, False, True]
    counted = figures(Rating.objects.all(), Rectification.objects.all(), today=dt.date(2025, 3, 3))
    assert (counted.ratings, counted.good, counted.held) == (2, 2, 1)
