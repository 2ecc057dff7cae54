"""潮汐岗 and the calling-rules cache: what the monitor suggests and what a window then calls never lag
behind a change made in this process.

``actions._call_rules`` keeps the categories and limits of every window of a site (one query for all
of them) for ``RULES_CACHE_SECONDS``; the tests stretch that to an hour, so a change that forgot to invalidate it fails deterministically.
The monitor's picture (``selectors.hall_picture``) is read fresh on every request; the tests pin that
sign-in/out, pause/resume and threshold edits show at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django.urls import reverse

from servicehall.lib.errors import ActionRefused
from servicehall.queueing import actions, selectors
from servicehall.queueing.models import Category, CategoryWindow, TicketStatus
from tests.conftest import verified_client
from tests.queueing.conftest import at, issue

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _rules_kept_for_an_hour() -> Iterator[None]:
    with mock.patch.object(actions, "RULES_CACHE_SECONDS", 3600.0):
        yield


@pytest.fixture
def at_six(second_clerk, window_six, social_security) -> Any:
    """黄第二 signed in at window 6, which stands by for A (社保) and calls nothing yet."""
    actions.sign_in(second_clerk, window_six, now=at(9))
    return window_six


def data_of(category: Category, **changes: Any) -> actions.CategoryData:
    links = dict(CategoryWindow.objects.filter(category=category).values_list("window_id", "is_standby"))
    data = actions.CategoryData(prefix=category.prefix, name=category.name)
    for name in actions.CATEGORY_AUDITED_FIELDS:
        setattr(data, name, getattr(category, name))
    data.window_ids = [window_id for window_id, standby in links.items() if not standby]
    data.standby_window_ids = [window_id for window_id, standby in links.items() if standby]
    for name, value in changes.items():
        setattr(data, name, value)
    return data


def candidates(site: Any, category: Category) -> list[int]:
    picture = selectors.hall_picture(site, now=at(10))
    queue = next(queue for queue in picture.categories if queue.category.pk == category.pk)
    return [candidate["window"].number for candidate in queue.candidates]


# ---------------------------------------------------------------------------------------------
# Opening and closing a tidal window


def test_an_opened_tidal_window_calls_the_category_at_its_next_press(
    at_six, second_clerk, supervisor, social_security, django_capture_on_commit_callbacks
) -> None:
    ticket = issue(social_security, 1)
    # Given window 6 pressed "call" before it was opened: its (empty) rules are now cached
    with pytest.raises(ActionRefused) as refusal:
        actions.call_next(second_clerk, at_six, now=at(9, 5))
    assert refusal.value.code == "no_categories"
    # When the 窗口负责人 opens it for A
    with django_capture_on_commit_callbacks(execute=True):
        actions.open_window_for_category(supervisor, social_security, at_six)
    # Then its next press calls the A ticket
    called = actions.call_next(second_clerk, at_six, now=at(9, 6))
    assert (called.pk, called.status) == (ticket.pk, TicketStatus.CALLED)


def test_a_closed_tidal_window_stops_calling_the_category_at_once(
    at_six, second_clerk, supervisor, social_security, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        actions.open_window_for_category(supervisor, social_security, at_six)
    issue(social_security, 1)
    issue(social_security, 2)
    actions.call_next(second_clerk, at_six, now=at(9, 5))  # caches A for window 6
    actions.mark_no_show(second_clerk, at_six, now=at(9, 6))
    with django_capture_on_commit_callbacks(execute=True):
        actions.close_window_for_category(supervisor, social_security, at_six)
    with pytest.raises(ActionRefused) as refusal:
        actions.call_next(second_clerk, at_six, now=at(9, 7))
    assert refusal.value.code == "no_categories"


def test_the_rules_are_forgotten_only_once_the_change_is_committed(
    at_six, second_clerk, supervisor, social_security, django_capture_on_commit_callbacks
) -> None:
    # Forgetting before the commit would let a concurrent call re-read the old links and keep them.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        actions.open_window_for_category(supervisor, social_security, at_six)
    assert actions.forget_call_rules in callbacks


def test_the_monitor_click_opens_the_window_and_the_counter_calls_from_it(
    at_six, second_clerk, supervisor, social_security, frozen_now, django_capture_on_commit_callbacks
) -> None:
    for minute in range(10):
        issue(social_security, minute)
    counter = verified_client(second_clerk)
    monitor = verified_client(supervisor)
    refused = counter.post(
        reverse("queueing:counter", args=[at_six.pk]), {"operation": "call"}, follow=True
    ).content.decode()
    assert "6 号窗口没有设置叫号业务" in refused
    assert "开放 6 号窗口" in monitor.get(reverse("queueing:monitor")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        opened = monitor.post(
            reverse("queueing:monitor_tidal"), {"category": social_security.pk, "window": at_six.pk}
        )
    assert opened.status_code == 302
    # The monitor no longer suggests it, and window 6 now calls A
    page = monitor.get(reverse("queueing:monitor")).content.decode()
    assert "开放 6 号窗口" not in page
    called = counter.post(
        reverse("queueing:counter", args=[at_six.pk]), {"operation": "call"}, follow=True
    ).content.decode()
    assert "已叫号：请 A001 号到 6 号窗口办理" in called


# ---------------------------------------------------------------------------------------------
# Editing a category


def test_editing_a_categorys_limits_reaches_the_calling_rules_at_once(
    at_window, clerk, centre_administrator, social_security, town_site
) -> None:
    assert actions._call_rules(at_window).streak_limit == 3
    actions.save_category(
        centre_administrator,
        town_site,
        data_of(social_security, priority_streak_limit=1, ordinary_max_wait_minutes=5),
        social_security,
    )
    rules = actions._call_rules(at_window)
    assert (rules.streak_limit, rules.ordinary_max_wait_minutes) == (1, 5)


def test_deactivating_a_category_stops_its_windows_calling_it(
    at_window, clerk, centre_administrator, social_security, town_site
) -> None:
    issue(social_security, 1)
    assert actions._call_rules(at_window).category_ids == [social_security.pk]
    actions.save_category(
        centre_administrator, town_site, data_of(social_security, is_active=False), social_security
    )
    with pytest.raises(ActionRefused) as refusal:
        actions.call_next(clerk, at_window, now=at(9, 10))
    assert refusal.value.code == "no_categories"


def test_moving_a_window_to_standby_in_the_category_form_reaches_the_rules(
    at_window, window_four, window_six, centre_administrator, social_security, town_site
) -> None:
    assert actions._call_rules(at_window).category_ids == [social_security.pk]
    data = data_of(
        social_security, window_ids=[window_four.pk], standby_window_ids=[window_six.pk, at_window.pk]
    )
    actions.save_category(centre_administrator, town_site, data, social_security)
    assert actions._call_rules(at_window).category_ids == []


def test_lowering_a_tidal_threshold_shows_the_suggestion_at_once(
    social_security, centre_administrator, town_site, window_six
) -> None:
    for minute in range(3):
        issue(social_security, minute)
    assert candidates(town_site, social_security) == []
    actions.save_category(
        centre_administrator, town_site, data_of(social_security, tidal_waiting_threshold=3), social_security
    )
    assert candidates(town_site, social_security) == [6]
    actions.save_category(
        centre_administrator, town_site, data_of(social_security, tidal_waiting_threshold=4), social_security
    )
    assert candidates(town_site, social_security) == []


# ---------------------------------------------------------------------------------------------
# Sign-in/out and pause/resume: the suggestions follow the windows' state at once


def test_the_suggestions_follow_sign_in_pause_resume_and_sign_out(
    social_security, household, second_clerk, window_five, town_site
) -> None:
    for minute in range(10):
        issue(social_security, minute)
    # Window 5 (户政 B) is closed: only the standby window 6 is suggested for A
    assert candidates(town_site, social_security) == [6]
    # Signed in it is idle and could open for A
    actions.sign_in(second_clerk, window_five, now=at(9, 30))
    assert candidates(town_site, social_security) == [6, 5]
    # Paused it is not a candidate; resumed it is again; signed out it is gone
    actions.pause(second_clerk, window_five, reason="取档案", now=at(9, 31))
    assert candidates(town_site, social_security) == [6]
    actions.resume(second_clerk, window_five, now=at(9, 35))
    assert candidates(town_site, social_security) == [6, 5]
    actions.sign_out(second_clerk, window_five, now=at(9, 40))
    assert candidates(town_site, social_security) == [6]


def test_sign_in_pause_and_resume_do_not_need_the_rules_forgotten(at_window, clerk, social_security) -> None:
    # The calling rules hold only categories and limits, which none of these change: the cached rules
    # stay right, and the window calls its categories after each of them.
    issue(social_security, 1)
    issue(social_security, 2)
    rules = actions._call_rules(at_window)
    actions.pause(clerk, at_window, reason="取档案", now=at(9, 5))
    actions.resume(clerk, at_window, now=at(9, 6))
    assert actions._call_rules(at_window) is rules
    assert actions.call_next(clerk, at_window, now=at(9, 7)).number == "A001"
    actions.mark_no_show(clerk, at_window, now=at(9, 8))
    actions.sign_out(clerk, at_window, now=at(9, 9))
    actions.sign_in(clerk, at_window, now=at(9, 10))
    assert actions.call_next(clerk, at_window, now=at(9, 11)).number == "A002"


def test_one_query_reads_the_rules_of_every_window_of_the_site(
    at_window, window_five, window_six, social_security, django_assert_num_queries
) -> None:
    # Given window 5 calling A (社保) and window 6 only standing by for it
    CategoryWindow.objects.get_or_create(
        site=window_five.site, category=social_security, window=window_five, defaults={"is_standby": False}
    )
    CategoryWindow.objects.update_or_create(
        site=window_six.site, category=social_security, window=window_six, defaults={"is_standby": True}
    )
    actions.forget_call_rules()
    # When the rules of three windows of the site are asked for
    with django_assert_num_queries(1):
        first = actions._call_rules(at_window)
        fifth = actions._call_rules(window_five)
        sixth = actions._call_rules(window_six)
    # Then one query answered them all, and a standby window calls nothing
    assert first.category_ids == [social_security.pk]
    assert fifth.category_ids == [social_security.pk]
    assert sixth.category_ids == []
    assert sixth is actions.NO_CALL_RULES
