"""Figures from the service log alone: waiting, service time, no-show rate and service level."""

from __future__ import annotations

import pytest

from servicehall.queueing import actions, metrics
from tests.queueing.conftest import MONDAY, at, issue

pytestmark = pytest.mark.django_db


@pytest.fixture
def morning(clerk, second_clerk, at_window, window_four, social_security) -> dict:
    """Window 3 (clerk) and window 4 (second clerk) serve three A tickets between 9:00 and 10:00."""
    actions.sign_in(second_clerk, window_four, now=at(9))
    first = issue(social_security, 0)  # waits 10 min, served 9:11–9:21 at window 3
    second = issue(
        social_security, 5
    )  # waits 20 min (over the 15-minute target), served 9:26–9:32 at window 4
    third = issue(social_security, 6)  # called at 9:40 and passed over (no-show) at window 3
    actions.call_next(clerk, at_window, now=at(9, 10))
    actions.start_service(clerk, at_window, now=at(9, 11))
    actions.finish_service(clerk, at_window, now=at(9, 21))
    actions.call_next(second_clerk, window_four, now=at(9, 25))
    actions.start_service(second_clerk, window_four, now=at(9, 26))
    actions.finish_service(second_clerk, window_four, now=at(9, 32))
    actions.call_next(clerk, at_window, now=at(10, 40))
    actions.mark_no_show(clerk, at_window, now=at(10, 42))
    return {"first": first, "second": second, "third": third}


def test_ticket_figures_come_from_events(morning, social_security) -> None:
    figures = {
        figure.ticket_id: figure for figure in metrics.ticket_figures(social_security.site_id, MONDAY, MONDAY)
    }
    first = figures[morning["first"].pk]
    assert (first.waiting_minutes, first.service_minutes, first.no_show) == (10.0, 10.0, False)
    second = figures[morning["second"].pk]
    assert (second.waiting_minutes, second.service_minutes) == (20.0, 6.0)
    third = figures[morning["third"].pk]
    assert (third.waiting_minutes, third.service_minutes, third.no_show) == (94.0, None, True)


def test_summaries_by_category_window_clerk_hour_and_day(
    morning, social_security, at_window, window_four, clerk, second_clerk
) -> None:
    site_id = social_security.site_id
    by_category = metrics.report(site_id, MONDAY, MONDAY, "category")
    assert by_category == {
        social_security.pk: {
            "tickets": 3,
            "called": 3,
            "served": 2,
            "no_shows": 1,
            "average_wait_minutes": 41.33,
            "median_wait_minutes": 20.0,
            "average_service_minutes": 8.0,
            "no_show_rate": 0.3333,
            "service_level": 0.3333,
        }
    }
    by_window = metrics.report(site_id, MONDAY, MONDAY, "window")
    assert (by_window[at_window.pk]["called"], by_window[window_four.pk]["called"]) == (2, 1)
    assert by_window[window_four.pk]["service_level"] == 0.0
    by_clerk = metrics.report(site_id, MONDAY, MONDAY, "clerk")
    assert (by_clerk[clerk.pk]["no_shows"], by_clerk[second_clerk.pk]["average_service_minutes"]) == (1, 6.0)
    by_hour = metrics.report(site_id, MONDAY, MONDAY, "hour")
    assert {hour: row["called"] for hour, row in by_hour.items()} == {9: 2, 10: 1}
    by_day = metrics.report(site_id, MONDAY, MONDAY, "day")
    assert list(by_day) == [MONDAY]


def test_a_longer_target_raises_the_service_level(morning, social_security) -> None:
    figures = metrics.ticket_figures(social_security.site_id, MONDAY, MONDAY)
    summary = metrics.summarize(figures, "category", targets={social_security.pk: 30})[social_security.pk]
    assert summary.service_level == 0.6667


def test_unknown_dimension_is_refused() -> None:
    with pytest.raises(ValueError):
        metrics.summarize([], "weekday")


def test_metrics_api(client_for, supervisor, morning, social_security) -> None:
    response = client_for(supervisor).get(
        f"/api/queueing/sites/{social_security.site_id}/metrics",
        {"start": "2025-03-03", "end": "2025-03-03", "by": "hour"},
    )
    assert response.status_code == 200
    assert [(row["key"], row["called"]) for row in response.json()] == [("10", 1), ("9", 2)]
    bad = client_for(supervisor).get(
        f"/api/queueing/sites/{social_security.site_id}/metrics", {"by": "weekday"}
    )
    assert bad.status_code == 400
