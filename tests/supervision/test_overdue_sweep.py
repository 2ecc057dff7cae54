"""The complaint's timeline shows the sweep's 超期 line as the system's, not as the public's."""

from __future__ import annotations

import datetime as dt
from typing import Any

from servicehall.supervision.sweeps import mark_overdue_complaints
from tests.supervision.conftest import register


def test_the_detail_page_labels_the_overdue_line_as_the_systems(
    handler: Any, town_site: Any, client_for: Any
) -> None:
    complaint = register(handler, town_site)
    mark_overdue_complaints(
        today=complaint.deadline + dt.timedelta(days=1), now=dt.datetime(2026, 1, 5, 2, tzinfo=dt.UTC)
    )
    page = client_for(handler).get(f"/supervision/complaints/{complaint.pk}/").content.decode()
    assert f"超期（系统巡查） · 系统：超过办理期限 {complaint.deadline:%Y-%m-%d}" in page
    assert "受理 · 卢投诉" in page
    assert "公众（网上表单）" not in page
