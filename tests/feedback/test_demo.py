"""The demo 好差评: ratings over the last working days and 差评 in every rectification state; loading twice
adds nothing and leaves today's queue and the windows as they were."""

from __future__ import annotations

from io import StringIO

from servicehall.feedback.demo import load_demo
from servicehall.feedback.models import Rating, RatingAppeal, Rectification
from servicehall.operations.demo import load_demo_centre
from servicehall.queueing import demo as queueing_demo
from servicehall.queueing.models import Ticket, WindowState


def test_the_demo_loads_ratings_and_rectifications_idempotently(db) -> None:
    # Given the demo centre and its queues, with today's waiting tickets
    load_demo_centre()
    queueing_demo.load_demo(StringIO())
    waiting_before = sorted(Ticket.objects.filter(status="waiting").values_list("pk", flat=True))
    # When the feedback demo loads
    output = StringIO()
    load_demo(output)
    # Then twelve services were rated, the 差评 sit in each state, and one appeal waits
    assert output.getvalue() == "已载入演示评价 / demo ratings loaded: 12\n"
    assert Rating.objects.count() == 12
    assert sorted(Rating.objects.values_list("grade", flat=True)) == ["bad"] * 5 + ["good"] * 6 + ["neutral"]
    assert sorted(Rectification.objects.values_list("status", flat=True)) == [
        "calling_back",
        "closed",
        "closed",
        "rectifying",
        "verifying",
    ]
    assert RatingAppeal.objects.get().appellant.username == "peng.guoqiang"
    assert sorted(Ticket.objects.filter(status="waiting").values_list("pk", flat=True)) == waiting_before
    assert not WindowState.objects.filter(clerk__isnull=False).exists()
    counts = (Rating.objects.count(), Rectification.objects.count(), Ticket.objects.count())
    # When it loads again, nothing is added
    again = StringIO()
    load_demo(again)
    assert again.getvalue() == ""
    assert (Rating.objects.count(), Rectification.objects.count(), Ticket.objects.count()) == counts


def test_without_the_demo_centre_nothing_is_loaded(db) -> None:
    output = StringIO()
    load_demo(output)
    assert output.getvalue() == ""
    assert Rating.objects.count() == 0
