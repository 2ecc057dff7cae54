"""An idle session ends after SERVICEHALL_IDLE_TIMEOUT_MINUTES; requests push the end back, writing the
session row at most once per SERVICEHALL_SESSION_RENEW_SECONDS."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from servicehall.accounts.models import User
from tests.accounts.conftest import log_in


def test_session_lifetime_is_the_idle_timeout_renewed_by_the_sliding_middleware() -> None:
    assert settings.SERVICEHALL_IDLE_TIMEOUT_MINUTES == 30
    assert settings.SESSION_COOKIE_AGE == settings.SERVICEHALL_IDLE_TIMEOUT_MINUTES * 60
    assert settings.SERVICEHALL_SESSION_RENEW_SECONDS == 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is False
    assert settings.SESSION_ENGINE == "servicehall.accounts.sessions"
    assert "servicehall.accounts.sessions.SlidingSessionMiddleware" in settings.MIDDLEWARE
    assert "django.contrib.sessions.middleware.SessionMiddleware" not in settings.MIDDLEWARE


def logged_in_client(username: str) -> Client:
    client = Client()
    assert log_in(client, username).status_code == 302
    return client


def session_row(client: Client) -> Session:
    return Session.objects.get(session_key=client.session.session_key)


def test_each_request_moves_the_expiry_forward(clerk: User) -> None:
    client = logged_in_client("clerk")
    Session.objects.filter(pk=session_row(client).pk).update(
        expire_date=timezone.now() + timedelta(minutes=2)
    )
    before = timezone.now()
    assert client.get("/").status_code == 200
    expiry = session_row(client).expire_date
    assert before + timedelta(minutes=30) <= expiry <= timezone.now() + timedelta(minutes=30)


def test_a_session_past_its_expiry_is_logged_out(clerk: User) -> None:
    client = logged_in_client("clerk")
    Session.objects.filter(pk=session_row(client).pk).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert client.get("/api/me").status_code == 401


def test_thirty_one_idle_minutes_end_the_session_and_twenty_nine_do_not(
    clerk: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = logged_in_client("clerk")
    last_request = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: last_request + timedelta(minutes=29))
    assert client.get("/").status_code == 200
    # The request above renewed the session; 31 minutes after it, the session is gone.
    renewed_at = last_request + timedelta(minutes=29)
    monkeypatch.setattr(timezone, "now", lambda: renewed_at + timedelta(minutes=31))
    assert client.get("/").status_code == 302


def test_requests_within_the_renewal_interval_do_not_write_the_session(
    clerk: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a session written just now
    client = logged_in_client("clerk")
    written = session_row(client).expire_date
    start = timezone.now()
    # When the clerk makes requests 10 and 59 seconds later
    for seconds in (10, 59):
        monkeypatch.setattr(timezone, "now", lambda seconds=seconds: start + timedelta(seconds=seconds))
        assert client.get("/api/me").status_code == 200
        # Then the row is untouched: no write, the expiry is the one of the login
        assert session_row(client).expire_date == written
    # When a request comes 61 seconds after the login
    monkeypatch.setattr(timezone, "now", lambda: start + timedelta(seconds=61))
    assert client.get("/api/me").status_code == 200
    # Then the expiry moves to 30 minutes after that request
    assert session_row(client).expire_date == start + timedelta(seconds=61, minutes=30)


def test_a_refused_request_is_still_activity_and_renews(clerk: User, monkeypatch: pytest.MonkeyPatch) -> None:
    client = logged_in_client("clerk")
    start = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: start + timedelta(minutes=5))
    # A request refused for a window that does not exist is still activity of a signed-in person
    assert (
        client.post("/api/queueing/windows/999999/recall", content_type="application/json").status_code == 404
    )
    assert session_row(client).expire_date == start + timedelta(minutes=35)


def test_an_anonymous_visit_creates_no_session_row(db: None) -> None:
    before = Session.objects.count()
    assert Client().get("/accounts/login/").status_code == 200
    assert Client().get("/api/me").status_code == 401
    assert Session.objects.count() == before
