"""Listeners for the hooks of queueing and cases: a finished service gets its rating token.

They run after the service's own transaction committed; a failure here must not turn the clerk's
successful 办结 into an error page, so it is logged and the token is issued on first use instead
(``issue_token_for_*`` are idempotent).
"""

from __future__ import annotations

import logging
from typing import Any

from servicehall.feedback import actions

logger = logging.getLogger(__name__)


def token_for_finished_service(sender: Any, *, ticket: Any, **_: Any) -> None:
    try:
        ticket.refresh_from_db(fields=["status", "finished_at", "clerk", "window"])
        actions.issue_token_for_ticket(ticket)
    except Exception:
        logger.exception("rating token for ticket %s not issued", ticket.pk)


def token_for_completed_case(sender: Any, *, case: Any, **_: Any) -> None:
    try:
        case.refresh_from_db(fields=["state"])
        actions.issue_token_for_case(case)
    except Exception:
        logger.exception("rating token for case %s not issued", case.pk)
