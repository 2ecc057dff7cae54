"""The 好差评 API: rating by token (public), figures, my ratings, appeals, rectification.

Each endpoint has a permission matrix; for every refused caller the matrix also asserts that no row of
好差评 or of the violation ledger changed and that nothing but the refusal itself was audited.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest

from servicehall.accounts.roles import Role
from servicehall.audit.models import AuditRecord
from servicehall.feedback.models import (
    Rating,
    RatingAppeal,
    RatingToken,
    Rectification,
    RectificationStatus,
)
from servicehall.supervision.models import Violation
from tests.conftest import make_staff
from tests.feedback.conftest import rate

pytestmark = pytest.mark.django_db

RATINGS = "/api/feedback/public/ratings"
MODELS = (RatingToken, Rating, RatingAppeal, Rectification, Violation)


def post_json(client: Any, url: str, payload: dict[str, Any]) -> Any:
    return client.post(url, data=json.dumps(payload), content_type="application/json")


def snapshot() -> Callable[[], None]:
    """Take a picture now; calling the result asserts no row changed and only refusals were audited."""
    before = {model.__name__: list(model.objects.order_by("pk").values()) for model in MODELS}
    last = AuditRecord.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    def check() -> None:
        assert {model.__name__: list(model.objects.order_by("pk").values()) for model in MODELS} == before
        actions = set(AuditRecord.objects.filter(pk__gt=last).values_list("action", flat=True))
        assert actions <= {"access.denied"}

    return check


@pytest.fixture
def colleague(town_site: Any) -> Any:
    return make_staff(town_site, Role.WINDOW_CLERK, username="colleague", full_name="李同事")


@pytest.fixture
def outsider(other_town_site: Any) -> Any:
    return make_staff(other_town_site, Role.WINDOW_SUPERVISOR, username="outsider", full_name="外站长")


@pytest.fixture
def bad_rating(token: Any, frozen_now: Any) -> Rating:
    return rate(token.key, 1, reasons=["attitude"], comment="态度很差", contact_phone="13812345678")


# ---------------------------------------------------------------------------------------------
# Rating by token


def test_a_citizen_rates_once_by_token_and_a_replay_changes_nothing(
    token: Any, citizen_client: Any, frozen_now: Any
) -> None:
    # Given a finished service's token, when the citizen rates through the API
    response = post_json(
        citizen_client, RATINGS, {"key": token.key, "level": 2, "reasons": ["efficiency"], "comment": "太慢"}
    )
    # Then the rating is stored by the link's channel and a 差评 opens its rectification
    assert response.status_code == 201
    assert response.json() == {
        "grade": "bad",
        "level": 2,
        "channel": "qr_code",
        "rated_at": "2025-03-03T02:00:00Z",
        "held_for_review": False,
    }
    rating = Rating.objects.get()
    assert (rating.token_id, rating.level, rating.comment) == (token.pk, 2, "太慢")
    assert Rectification.objects.get().rating_id == rating.pk
    # When the same key is sent again with another level, then it is refused and nothing changes
    unchanged = snapshot()
    replay = post_json(citizen_client, RATINGS, {"key": token.key, "level": 5})
    assert replay.status_code == 409
    assert replay.json() == {"code": "already_rated", "detail": "这次服务已经评价过了，感谢您的参与。"}
    unchanged()


def test_forged_expired_and_malformed_ratings_are_refused_and_change_nothing(
    token: Any, citizen_client: Any, frozen_now: Any
) -> None:
    unchanged = snapshot()
    forged = post_json(citizen_client, RATINGS, {"key": "x" * 43, "level": 5})
    assert (forged.status_code, forged.json()) == (404, {"code": "invalid_token", "detail": "评价凭证无效。"})
    no_level = post_json(citizen_client, RATINGS, {"key": token.key, "level": 9})
    assert (no_level.status_code, no_level.json()["code"]) == (400, "invalid_level")
    not_a_number = post_json(citizen_client, RATINGS, {"key": token.key, "level": "很好"})
    assert (not_a_number.status_code, not_a_number.json()["code"]) == (400, "invalid_input")
    too_long = post_json(citizen_client, RATINGS, {"key": "k" * 65, "level": 5})
    assert (too_long.status_code, too_long.json()["code"]) == (400, "invalid_input")
    bad_without_reason = post_json(citizen_client, RATINGS, {"key": token.key, "level": 1})
    assert (bad_without_reason.status_code, bad_without_reason.json()["code"]) == (400, "reason_required")
    bad_phone = post_json(citizen_client, RATINGS, {"key": token.key, "level": 5, "contact_phone": "12345"})
    assert (bad_phone.status_code, bad_phone.json()["code"]) == (400, "invalid_phone")
    RatingToken.objects.filter(pk=token.pk).update(expires_at=frozen_now - dt.timedelta(seconds=1))
    unchanged = snapshot()
    expired = post_json(citizen_client, RATINGS, {"key": token.key, "level": 5})
    assert expired.status_code == 410
    assert expired.json() == {
        "code": "token_expired",
        "detail": "评价期限已过，如有意见请通过投诉渠道反映。",
    }
    unchanged()


def test_a_staff_session_cannot_rate_not_even_its_own_service(
    token: Any, clerk: Any, supervisor: Any, client_for: Any, frozen_now: Any
) -> None:
    unchanged = snapshot()
    for person in (clerk, supervisor):
        response = post_json(client_for(person), RATINGS, {"key": token.key, "level": 5})
        assert response.status_code == 403
        assert response.json() == {"code": "staff_cannot_rate", "detail": "工作人员账号不能评价服务。"}
    unchanged()
    token.refresh_from_db()
    assert token.used_at is None


# ---------------------------------------------------------------------------------------------
# Figures and my ratings


def test_figures_are_scoped_to_the_callers_sites(
    bad_rating: Rating,
    supervisor: Any,
    outsider: Any,
    clerk: Any,
    citizen_client: Any,
    client_for: Any,
    other_town_site: Any,
    town_site: Any,
) -> None:
    url = "/api/feedback/figures?start=2025-03-01&end=2025-04-01"
    mine = client_for(supervisor).get(url)
    assert mine.status_code == 200
    body = mine.json()
    assert (body["ratings"], body["bad"], body["bad_rate"], body["good_rate"]) == (1, 1, 100.0, 0.0)
    assert (body["callbacks_needed"], body["callback_rate"], body["rectification_rate"]) == (1, 0.0, None)
    assert town_site.pk in body["site_ids"]
    theirs = client_for(outsider).get(url).json()
    assert (theirs["ratings"], theirs["bad"], theirs["bad_rate"], theirs["site_ids"]) == (
        0,
        0,
        None,
        [other_town_site.pk],
    )
    assert client_for(outsider).get(f"{url}&site_id={town_site.pk}").status_code == 404
    assert client_for(clerk).get(url).status_code == 403
    assert citizen_client.get(url).status_code == 401
    backwards = client_for(supervisor).get("/api/feedback/figures?start=2025-04-01&end=2025-03-01")
    assert (backwards.status_code, backwards.json()["code"]) == (400, "dates_out_of_order")


def test_my_ratings_never_name_the_rater(
    bad_rating: Rating, clerk: Any, colleague: Any, client_for: Any
) -> None:
    response = client_for(clerk).get("/api/feedback/my-ratings")
    assert response.status_code == 200
    [row] = response.json()
    assert (row["id"], row["level"], row["comment"], row["rated_on"], row["excluded"], row["appeals"]) == (
        bad_rating.pk,
        1,
        "态度很差",
        "2025-03-03",
        False,
        [],
    )
    assert "rated_at" not in row
    assert "13812345678" not in response.content.decode()
    assert not any("contact" in field for field in row)
    assert client_for(colleague).get("/api/feedback/my-ratings").json() == []


# ---------------------------------------------------------------------------------------------
# Appeals


def test_appeal_matrix(
    bad_rating: Rating,
    clerk: Any,
    colleague: Any,
    supervisor: Any,
    outsider: Any,
    citizen_client: Any,
    client_for: Any,
) -> None:
    url = f"/api/feedback/ratings/{bad_rating.pk}/appeals"
    payload = {"reason": "群众因政策不符迁怒窗口，有录像为证。"}
    unchanged = snapshot()
    assert post_json(citizen_client, url, payload).status_code == 401
    for person in (colleague, supervisor, outsider):
        assert post_json(client_for(person), url, payload).status_code == 404
    empty = post_json(client_for(clerk), url, {"reason": "  "})
    assert (empty.status_code, empty.json()["code"]) == (400, "required")
    unchanged()
    created = post_json(client_for(clerk), url, payload)
    assert created.status_code == 201
    appeal_id = created.json()["id"]
    assert (created.json()["status"], created.json()["appellant_id"]) == ("pending", clerk.pk)
    again = post_json(client_for(clerk), url, payload)
    assert (again.status_code, again.json()["code"]) == (409, "appeal_pending")

    decision = f"/api/feedback/appeals/{appeal_id}/decision"
    verdict = {"upheld": True, "reason": "查看录像，服务规范。"}
    unchanged = snapshot()
    assert post_json(citizen_client, decision, verdict).status_code == 401
    assert post_json(client_for(clerk), decision, verdict).status_code == 403
    assert post_json(client_for(colleague), decision, verdict).status_code == 403
    assert post_json(client_for(outsider), decision, verdict).status_code == 404
    unchanged()
    decided = post_json(client_for(supervisor), decision, verdict)
    assert decided.status_code == 200
    assert (decided.json()["status"], decided.json()["decided_by_id"]) == ("upheld", supervisor.pk)
    bad_rating.refresh_from_db()
    assert bad_rating.excluded_at is not None
    twice = post_json(client_for(supervisor), decision, verdict)
    assert (twice.status_code, twice.json()["code"]) == (409, "already_decided")


# ---------------------------------------------------------------------------------------------
# Rectification


def test_rectification_matrix_and_flow(
    bad_rating: Rating,
    clerk: Any,
    supervisor: Any,
    outsider: Any,
    citizen_client: Any,
    client_for: Any,
) -> None:
    task = Rectification.objects.get(rating=bad_rating)
    verify = f"/api/feedback/rectifications/{task.pk}/verify"
    payload = {"justified": True, "note": "查看录像，语气生硬属实。"}
    unchanged = snapshot()
    assert post_json(citizen_client, verify, payload).status_code == 401
    assert post_json(client_for(clerk), verify, payload).status_code == 403
    assert post_json(client_for(outsider), verify, payload).status_code == 404
    assert client_for(outsider).get("/api/feedback/rectifications").json() == []
    assert client_for(clerk).get("/api/feedback/rectifications").status_code == 403
    wrong_step = post_json(
        client_for(supervisor), f"/api/feedback/rectifications/{task.pk}/rectify", {"note": "x"}
    )
    assert (wrong_step.status_code, wrong_step.json()["code"]) == (409, "invalid_transition")
    unchanged()

    [listed] = client_for(supervisor).get("/api/feedback/rectifications").json()
    assert (listed["id"], listed["status"], listed["contact_phone_masked"]) == (
        task.pk,
        "verifying",
        "138****5678",
    )
    verified = post_json(client_for(supervisor), verify, payload)
    assert (verified.status_code, verified.json()["status"]) == (200, RectificationStatus.RECTIFYING)
    assert Violation.objects.get().staff_id == clerk.pk
    rectified = post_json(
        client_for(supervisor),
        f"/api/feedback/rectifications/{task.pk}/rectify",
        {"note": "组织文明用语培训。"},
    )
    assert (rectified.status_code, rectified.json()["status"]) == (200, RectificationStatus.CALLING_BACK)
    callback = f"/api/feedback/rectifications/{task.pk}/call-back"
    unchanged = snapshot()
    bad_result = post_json(client_for(supervisor), callback, {"result": "很好"})
    assert (bad_result.status_code, bad_result.json()["code"]) == (400, "invalid_result")
    unchanged()
    closed = post_json(client_for(supervisor), callback, {"result": "satisfied", "note": "群众表示满意"})
    assert closed.status_code == 200
    assert (closed.json()["status"], closed.json()["callback_result"]) == ("closed", "satisfied")
