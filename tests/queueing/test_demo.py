"""The demo queues load on top of the demo centre, once."""

from __future__ import annotations

from io import StringIO

import pytest

from servicehall.operations.demo import load_demo_centre
from servicehall.queueing.demo import load_demo
from servicehall.queueing.models import Category, CategoryWindow, Ticket

pytestmark = pytest.mark.django_db


def test_demo_queues_load_once() -> None:
    load_demo_centre()
    first = StringIO()
    load_demo(first)
    counts = (Category.objects.count(), CategoryWindow.objects.count(), Ticket.objects.count())
    assert counts[0] == 17
    assert counts[2] == 23
    assert "categories 17, tickets 23" in first.getvalue()
    city_a = Category.objects.get(site__code="ZS-CITY", prefix="A")
    assert sorted(city_a.window_links.values_list("window__number", "is_standby")) == [
        (4, False),
        (15, True),
        (16, False),
    ]
    second = StringIO()
    load_demo(second)
    assert (Category.objects.count(), CategoryWindow.objects.count(), Ticket.objects.count()) == counts
    assert second.getvalue() == ""
