# ruff: noqa: F811  (fixtures imported from tests/queueing are used as parameters)
"""好差评 fixtures: the hall of tests/queueing (Monday 3 March 2025) and a service finished at window 3."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from servicehall.feedback import actions as feedback
from servicehall.queueing import actions as queueing
from tests.queueing.conftest import (  # noqa: F401, F811  (fixtures)
    _fresh_caches,
    at,
    at_window,
    frozen_now,
    issue,
    opening_hours,
    social_security,
    window_four,
    window_six,
)


def serve(clerk: Any, window: Any, category: Any, minute: int) -> Any:
    """One citizen served at the window: issued at 9:<minute>, served for five minutes."""
    ticket = issue(category, minute)
    queueing.call_next(clerk, window, now=at(9, minute + 1))
    queueing.start_service(clerk, window, now=at(9, minute + 2))
    queueing.finish_service(clerk, window, now=at(9, minute + 7))
    ticket.refresh_from_db()
    return ticket


@pytest.fixture
def finished_ticket(clerk: Any, at_window: Any, social_security: Any) -> Any:  # noqa: F811
    return serve(clerk, at_window, social_security, 10)


@pytest.fixture
def token(finished_ticket: Any) -> Any:
    return feedback.issue_token_for_ticket(finished_ticket, now=at(9, 18))


RATED_AT = at(9, 20)
LATER = RATED_AT + dt.timedelta(days=1)


def rate(key: str, level: int = 5, **fields: Any) -> Any:
    return feedback.rate(
        key, level=level, channel=fields.pop("channel", "qr_code"), now=fields.pop("now", RATED_AT), **fields
    )
