"""Opening hours (办公时间): a weekly table replaced as a whole, with sane periods, or not at all."""

from __future__ import annotations

from datetime import time

import pytest

from servicehall.audit.models import AuditRecord
from servicehall.lib.errors import PermissionRefused
from servicehall.sites import actions
from servicehall.sites.actions import PeriodData, SiteInputRefused
from servicehall.sites.models import OpeningPeriod
from tests.factories import OpeningPeriodFactory
from tests.sites.conftest import audit_actions_after, last_audit_id, site_rows


def period(weekday: int, start: str, end: str, note: str = "") -> PeriodData:
    return PeriodData(weekday, time.fromisoformat(start), time.fromisoformat(end), note)


WORKING_WEEK = [
    period(weekday, start, end)
    for weekday in range(1, 6)
    for start, end in (("08:30", "12:00"), ("14:30", "17:30"))
] + [period(6, "09:00", "12:00", "周六值班")]


def table(site) -> list[tuple[int, str, str, str]]:
    return [
        (row.weekday, f"{row.starts_at:%H:%M}", f"{row.ends_at:%H:%M}", row.note)
        for row in OpeningPeriod.objects.filter(site=site).order_by("weekday", "starts_at")
    ]


def test_manager_replaces_the_week_and_the_audit_shows_both_tables(centre_administrator, town_site) -> None:
    # Given a town with Monday morning only
    OpeningPeriodFactory(site=town_site, weekday=1, starts_at=time(9), ends_at=time(12))
    # When the whole working week is set
    created = actions.replace_opening_hours(centre_administrator, town_site, WORKING_WEEK)
    # Then exactly the new periods remain
    assert len(created) == 11
    assert table(town_site)[:2] == [(1, "08:30", "12:00", ""), (1, "14:30", "17:30", "")]
    assert table(town_site)[-1] == (6, "09:00", "12:00", "周六值班")
    assert len(table(town_site)) == 11
    # And one record holds the table before and after
    audit = AuditRecord.objects.get(action="sites.opening_hours_replaced")
    assert audit.site_id == town_site.pk
    assert audit.object_type == "sites.site"
    assert audit.before == {"periods": [{"weekday": 1, "starts_at": "09:00", "ends_at": "12:00", "note": ""}]}
    assert audit.after["periods"][0] == {"weekday": 1, "starts_at": "08:30", "ends_at": "12:00", "note": ""}
    assert audit.after["periods"][-1] == {
        "weekday": 6,
        "starts_at": "09:00",
        "ends_at": "12:00",
        "note": "周六值班",
    }
    assert len(audit.after["periods"]) == 11


def test_an_empty_table_closes_the_site_and_is_audited(centre_administrator, town_site) -> None:
    OpeningPeriodFactory(site=town_site)
    assert actions.replace_opening_hours(centre_administrator, town_site, []) == []
    assert table(town_site) == []
    audit = AuditRecord.objects.get(action="sites.opening_hours_replaced")
    assert audit.after == {"periods": []}


def test_touching_periods_do_not_overlap(centre_administrator, town_site) -> None:
    actions.replace_opening_hours(
        centre_administrator,
        town_site,
        [period(1, "08:30", "12:00"), period(1, "12:00", "14:00", "午间值班"), period(1, "14:00", "17:30")],
    )
    assert len(table(town_site)) == 3


def test_the_day_may_run_from_six_to_twenty_two(centre_administrator, town_site) -> None:
    actions.replace_opening_hours(centre_administrator, town_site, [period(7, "06:00", "22:00")])
    assert table(town_site) == [(7, "06:00", "22:00", "")]


@pytest.mark.parametrize(
    ("periods", "errors"),
    [
        (
            [period(1, "12:00", "09:00")],
            {"periods.0": "星期一 12:00–09:00：开始时间必须早于结束时间。"},
        ),
        (
            [period(2, "09:00", "09:00")],
            {"periods.0": "星期二 09:00–09:00：开始时间必须早于结束时间。"},
        ),
        (
            [period(1, "08:30", "12:00"), period(1, "11:00", "14:00")],
            {"periods.1": "星期一 11:00–14:00 与 08:30–12:00 时段重叠。"},
        ),
        (
            [period(3, "14:00", "17:00"), period(3, "08:00", "15:00")],
            {"periods.0": "星期三 14:00–17:00 与 08:00–15:00 时段重叠。"},
        ),
        (
            [period(4, "05:59", "12:00")],
            {"periods.0": "星期四 05:59–12:00：办公时间须在 06:00 至 22:00 之间。"},
        ),
        (
            [period(5, "18:00", "22:01")],
            {"periods.0": "星期五 18:00–22:01：办公时间须在 06:00 至 22:00 之间。"},
        ),
        ([period(8, "09:00", "12:00")], {"periods.0": "星期须为 1（星期一）到 7（星期日）。"}),
        ([period(0, "09:00", "12:00")], {"periods.0": "星期须为 1（星期一）到 7（星期日）。"}),
        (
            [period(1, "07:00", "08:00"), period(1, "08:00", "09:00"), period(1, "09:00", "10:00")]
            + [period(1, "10:00", "11:00"), period(1, "11:00", "12:00")],
            {"periods.4": "星期一最多设置 4 个时段。"},
        ),
        ([period(1, "09:00", "12:00", "说" * 51)], {"periods.0": "说明不能超过 50 个字符。"}),
        ([period(1, "09:00", "12:00", "a\x00")], {"periods.0": "说明不能包含控制字符。"}),
    ],
)
def test_bad_periods_refuse_the_whole_table(centre_administrator, town_site, periods, errors) -> None:
    # Given an existing table
    OpeningPeriodFactory(site=town_site, weekday=1, starts_at=time(9), ends_at=time(12))
    before = site_rows()
    last = last_audit_id()
    # When a table with a bad period is submitted
    with pytest.raises(SiteInputRefused) as refusal:
        actions.replace_opening_hours(centre_administrator, town_site, periods)
    # Then it is refused with the period named, the old table stands, and nothing is audited
    assert refusal.value.errors == errors
    assert refusal.value.status == 400
    assert site_rows() == before
    assert audit_actions_after(last) == []


def test_timezone_aware_times_are_refused(centre_administrator, town_site) -> None:
    aware = time.fromisoformat("09:00+08:00")
    with pytest.raises(SiteInputRefused) as refusal:
        actions.replace_opening_hours(centre_administrator, town_site, [PeriodData(1, aware, time(12))])
    assert refusal.value.errors == {"periods.0": "办公时间请填写当地时间，不带时区。"}


def test_several_problems_are_listed_in_order(centre_administrator, town_site) -> None:
    with pytest.raises(SiteInputRefused) as refusal:
        actions.replace_opening_hours(
            centre_administrator,
            town_site,
            [period(1, "09:00", "12:00"), period(9, "09:00", "10:00"), period(2, "13:00", "12:00")],
        )
    assert list(refusal.value.errors) == ["periods.1", "periods.2"]
    assert refusal.value.field == "periods.1"


def test_other_sites_keep_their_hours(centre_administrator, town_site, other_town_site) -> None:
    OpeningPeriodFactory(site=other_town_site, weekday=1, starts_at=time(8), ends_at=time(12))
    actions.replace_opening_hours(centre_administrator, town_site, [period(1, "09:00", "12:00")])
    assert table(other_town_site) == [(1, "08:00", "12:00", "")]


def test_clerk_cannot_replace_hours(clerk, town_site) -> None:
    OpeningPeriodFactory(site=town_site)
    before = site_rows()
    last = last_audit_id()
    with pytest.raises(PermissionRefused):
        actions.replace_opening_hours(clerk, town_site, [])
    assert site_rows() == before
    assert audit_actions_after(last) == ["access.denied"]
