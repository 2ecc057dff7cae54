"""Sessions that end after SERVICEHALL_IDLE_TIMEOUT_MINUTES of inactivity, renewed at most once an interval.

Django's ``SESSION_SAVE_EVERY_REQUEST`` renews the expiry by writing the session row on every request:
one more transaction, and one more flush of the write-ahead log, on every click and every API call of
the counter. Here the session store remembers the expiry it read, and ``SlidingSessionMiddleware``
writes the row only when the last renewal is older than ``SERVICEHALL_SESSION_RENEW_SECONDS``. The idle
timeout is then kept to within that many seconds (60 by default): a session can end that much early,
never late.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.utils import timezone


class SessionStore(DatabaseSessionStore):
    """The database session store, remembering the expiry of the row it loaded."""

    stored_expiry: dt.datetime | None = None

    def _get_session_from_db(self) -> Any:
        session = super()._get_session_from_db()
        self.stored_expiry = session.expire_date if session is not None else None
        return session

    def needs_renewal(self, now: dt.datetime | None = None) -> bool:
        """Whether the row was last written more than the renewal interval ago (or never read)."""
        if self.stored_expiry is None:
            return True
        last_written = self.stored_expiry - dt.timedelta(seconds=self.get_expiry_age())
        elapsed = ((now or timezone.now()) - last_written).total_seconds()
        return elapsed >= settings.SERVICEHALL_SESSION_RENEW_SECONDS


class SlidingSessionMiddleware(SessionMiddleware):
    """Django's session middleware, renewing a signed-in session's expiry at most once per interval."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        session = getattr(request, "session", None)
        if (
            session is not None
            and session.accessed
            and not session.modified
            and isinstance(session, SessionStore)
            and not session.is_empty()
            and session.needs_renewal()
        ):
            session.modified = True
        return super().process_response(request, response)
