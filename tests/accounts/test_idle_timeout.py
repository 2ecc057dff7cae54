"""An idle session ends after SERVICEHALL_IDLE_TIMEOUT_MINUTES; every request pushes the end back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from servicehall.accounts.models import User
from tests.accounts.conftest import log_in


def test_session_lifetime_is_the_idle_timeout_and_renewed_on_every_request() -> None:
    assert settings.SERVICEHALL_IDLE_TIMEOUT_MINUTES == 30
    assert settings.SESSION_COOKIE_AGE == settings.SERVICEHALL_IDLE_TIMEOUT_MINUTES * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"


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
