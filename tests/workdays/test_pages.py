"""The centre administrator's calendar page: overrides, next year's import, warnings, permissions.

Today is frozen at 2026-11-23: the State Council has not yet published 2027's holidays, and the
official data covers 2004–2026.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from servicehall.accounts.models import User
from servicehall.audit.models import AuditRecord
from servicehall.workdays import actions, service, views
from servicehall.workdays.calendar import CountAnswer, DateAnswer
from servicehall.workdays.models import CalendarOverride, PublishedYear

TODAY = dt.date(2026, 11, 23)
MISSING_2027 = "2027 年的节假日安排尚未录入：该年日期暂按周一至周五计算"
TYPHOON_TUESDAY = dt.date(2025, 11, 18)
SOURCE = "国办发明电〔2026〕7号（测试用）"
# An invented 2027 schedule for the tests: New Year's Day and two Spring Festival days off, one Saturday worked.
SCHEDULE_2027 = "日期,类型,名称,说明\n2027-01-01,休息,元旦,\n2027-02-08,休息,春节,\n2027-02-09,休息,春节,\n2027-02-20,上班,春节调休,周六上班\n"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views, "timezone", SimpleNamespace(localdate=lambda: TODAY))


@pytest.fixture
def administrator_client(client_for: Callable[[User], Client], centre_administrator: User) -> Client:
    return client_for(centre_administrator)


def csv_upload(text: str, name: str = "2027.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8-sig"), content_type="text/csv")


def xlsx_upload(rows: list[list[Any]], name: str = "2027.xlsx") -> SimpleUploadedFile:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    content = io.BytesIO()
    workbook.save(content)
    return SimpleUploadedFile(
        name,
        content.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def overrides_now() -> list[tuple[dt.date, bool, str]]:
    return list(CalendarOverride.objects.order_by("date").values_list("date", "is_working_day", "name"))


def audit_actions_except_refusals() -> list[str]:
    return list(
        AuditRecord.objects.exclude(action="access.denied").order_by("id").values_list("action", flat=True)
    )


# The page ------------------------------------------------------------------------------------------------


def test_the_page_shows_the_year_and_warns_that_next_years_schedule_is_missing(
    administrator_client: Client,
) -> None:
    # Given today is 2026-11-23 and nobody has imported 2027
    # When the centre administrator opens the calendar
    response = administrator_client.get("/calendar/")
    # Then this year is shown with its holidays and swapped weekend days, and 2027 is flagged
    assert response.status_code == 200
    body = response.content.decode()
    assert "2026 年工作日历" in body
    assert "已有正式安排" in body
    assert body.count(MISSING_2027) == 1
    assert 'class="day-holiday" title="2026-10-01"' in body
    assert 'class="day-swapped" title="2026-10-10"' in body
    assert 'class="day-rest" title="2026-11-22"' in body
    assert service.missing_years(TODAY) == [2027]


def test_a_year_without_a_schedule_is_shown_as_provisional(administrator_client: Client) -> None:
    response = administrator_client.get("/calendar/?year=2027")
    assert response.status_code == 200
    body = response.content.decode()
    assert "2027 年工作日历" in body
    assert "暂定（周一至周五）" in body
    assert "已有正式安排" not in body
    # 2027-01-01 is a Friday: without a schedule it counts as a working day
    assert '<td class="" title="2027-01-01">1</td>' in body


@pytest.mark.parametrize("year", ["1999", "2101"])
def test_a_year_out_of_range_is_refused(administrator_client: Client, year: str) -> None:
    response = administrator_client.get(f"/calendar/?year={year}")
    assert response.status_code == 400
    assert "年度超出范围（2000–2100）。" in response.content.decode()


def test_a_year_that_is_not_a_number_shows_this_year(administrator_client: Client) -> None:
    response = administrator_client.get("/calendar/?year=abc")
    assert response.status_code == 200
    assert "2026 年工作日历" in response.content.decode()


# Overrides ---------------------------------------------------------------------------------------------------


def test_a_holiday_override_changes_the_answers_at_once_and_is_audited(
    administrator_client: Client,
    centre_administrator: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # Given Tuesday 2025-11-18 is an ordinary working day
    assert service.add(dt.date(2025, 11, 17), 1) == DateAnswer(TYPHOON_TUESDAY, False)
    # When the centre administrator closes the centre that day for a typhoon
    with django_capture_on_commit_callbacks(execute=True):
        response = administrator_client.post(
            "/calendar/overrides/",
            {"date": "2025-11-18", "is_working_day": "0", "name": "台风停办", "note": "台风红色预警"},
        )
    # Then the override is stored, the next answer skips the day, and the change is audited
    assert (response.status_code, response["Location"]) == (302, "/calendar/?year=2025")
    assert overrides_now() == [(TYPHOON_TUESDAY, False, "台风停办")]
    assert CalendarOverride.objects.get().created_by == centre_administrator
    assert service.add(dt.date(2025, 11, 17), 1) == DateAnswer(dt.date(2025, 11, 19), False)
    assert service.between(dt.date(2025, 11, 14), dt.date(2025, 11, 21)) == CountAnswer(4, False)
    audit = AuditRecord.objects.get(action="workdays.override_set")
    assert audit.actor == centre_administrator
    assert audit.before is None
    assert audit.after == {
        "date": "2025-11-18",
        "is_working_day": False,
        "name": "台风停办",
        "note": "台风红色预警",
    }
    # And the page lists it
    body = administrator_client.get("/calendar/?year=2025").content.decode()
    assert 'class="day-holiday" title="2025-11-18 台风停办"' in body


def test_a_working_override_on_a_sunday_counts_that_sunday(
    administrator_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    assert service.add(dt.date(2025, 11, 14), 1) == DateAnswer(dt.date(2025, 11, 17), False)
    with django_capture_on_commit_callbacks(execute=True):
        response = administrator_client.post(
            "/calendar/overrides/", {"date": "2025-11-16", "is_working_day": "1", "name": "集中办理日"}
        )
    assert response.status_code == 302
    assert overrides_now() == [(dt.date(2025, 11, 16), True, "集中办理日")]
    assert service.add(dt.date(2025, 11, 14), 1) == DateAnswer(dt.date(2025, 11, 16), False)


def test_changing_an_override_records_what_it_was(
    administrator_client: Client, centre_administrator: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        actions.set_override(centre_administrator, actions.OverrideRow(TYPHOON_TUESDAY, False, "台风停办"))
        response = administrator_client.post(
            "/calendar/overrides/", {"date": "2025-11-18", "is_working_day": "1", "name": "恢复办公"}
        )
    assert response.status_code == 302
    assert overrides_now() == [(TYPHOON_TUESDAY, True, "恢复办公")]
    latest = AuditRecord.objects.filter(action="workdays.override_set").order_by("-id").first()
    assert latest.before == {"is_working_day": False, "name": "台风停办", "note": ""}
    assert service.add(dt.date(2025, 11, 17), 1) == DateAnswer(TYPHOON_TUESDAY, False)


def test_removing_an_override_restores_the_official_answer(
    administrator_client: Client, centre_administrator: User, django_capture_on_commit_callbacks: Any
) -> None:
    # Given a typhoon closure in force
    with django_capture_on_commit_callbacks(execute=True):
        actions.set_override(centre_administrator, actions.OverrideRow(TYPHOON_TUESDAY, False, "台风停办"))
    assert service.add(dt.date(2025, 11, 17), 1) == DateAnswer(dt.date(2025, 11, 19), False)
    # When it is removed
    with django_capture_on_commit_callbacks(execute=True):
        response = administrator_client.post("/calendar/overrides/remove/", {"date": "2025-11-18"})
    # Then the official answer is back and the removal is audited
    assert (response.status_code, response["Location"]) == (302, "/calendar/?year=2025")
    assert overrides_now() == []
    assert service.add(dt.date(2025, 11, 17), 1) == DateAnswer(TYPHOON_TUESDAY, False)
    audit = AuditRecord.objects.get(action="workdays.override_removed")
    assert (audit.actor, audit.object_id) == (centre_administrator, "2025-11-18")
    assert audit.before == {"date": "2025-11-18", "is_working_day": False, "name": "台风停办"}


@pytest.mark.parametrize(
    ("date", "message"),
    [("2025-11-19", "该日期没有调整记录。"), ("2025-02-30", "无效日期。"), ("", "无效日期。")],
)
def test_removing_what_is_not_there_is_refused(
    administrator_client: Client, centre_administrator: User, date: str, message: str
) -> None:
    actions.set_override(centre_administrator, actions.OverrideRow(TYPHOON_TUESDAY, False, "台风停办"))
    recorded = audit_actions_except_refusals()
    response = administrator_client.post("/calendar/overrides/remove/", {"date": date})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert overrides_now() == [(TYPHOON_TUESDAY, False, "台风停办")]
    assert audit_actions_except_refusals() == recorded


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"date": "2025-02-30", "is_working_day": "0", "name": "台风停办"}, "日期: "),
        ({"date": "2025-11-18", "is_working_day": "0", "name": ""}, "名称: "),
        ({"date": "2025-11-18", "is_working_day": "2", "name": "台风停办"}, "类型: "),
        (
            {"date": "1999-11-18", "is_working_day": "0", "name": "台风停办"},
            "日期超出日历范围（2000–2100 年）。",
        ),
        ({"date": "2025-11-18", "is_working_day": "0", "name": "   "}, "名称: "),
    ],
)
def test_a_bad_override_is_refused_and_changes_nothing(
    administrator_client: Client, form: dict[str, str], message: str
) -> None:
    response = administrator_client.post("/calendar/overrides/", form)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert overrides_now() == []
    assert audit_actions_except_refusals() == []
    assert service.add(dt.date(2025, 11, 17), 1) == DateAnswer(TYPHOON_TUESDAY, False)


def test_the_post_endpoints_refuse_get(administrator_client: Client) -> None:
    for path in ("/calendar/overrides/", "/calendar/overrides/remove/", "/calendar/import/"):
        assert administrator_client.get(path).status_code == 405


# Importing next year's schedule ----------------------------------------------------------------------------


def assert_2027_schedule_in_force() -> None:
    assert PublishedYear.objects.get().year == 2027
    assert service.add(dt.date(2026, 12, 31), 1) == DateAnswer(dt.date(2027, 1, 4), False)
    assert service.add(dt.date(2027, 2, 5), 1) == DateAnswer(dt.date(2027, 2, 10), False)
    assert service.between(dt.date(2027, 2, 19), dt.date(2027, 2, 20)) == CountAnswer(1, False)
    assert service.missing_years(TODAY) == []


def test_importing_a_csv_publishes_the_year_and_makes_its_answers_final(
    administrator_client: Client, centre_administrator: User, django_capture_on_commit_callbacks: Any
) -> None:
    # Given 2027 is answered provisionally, and a local closure was entered for 2027 earlier
    assert service.add(dt.date(2027, 2, 5), 1) == DateAnswer(dt.date(2027, 2, 8), True)
    actions.set_override(centre_administrator, actions.OverrideRow(dt.date(2027, 3, 1), False, "临时停办"))
    # When the State Council's schedule is imported from a CSV
    with django_capture_on_commit_callbacks(execute=True):
        response = administrator_client.post(
            "/calendar/import/", {"year": "2027", "source": SOURCE, "file": csv_upload(SCHEDULE_2027)}
        )
    # Then it replaces the year's overrides, the year is published, and its answers are no longer provisional
    assert (response.status_code, response["Location"]) == (302, "/calendar/?year=2027")
    assert overrides_now() == [
        (dt.date(2027, 1, 1), False, "元旦"),
        (dt.date(2027, 2, 8), False, "春节"),
        (dt.date(2027, 2, 9), False, "春节"),
        (dt.date(2027, 2, 20), True, "春节调休"),
    ]
    assert PublishedYear.objects.get().source == SOURCE
    assert_2027_schedule_in_force()
    audit = AuditRecord.objects.get(action="workdays.year_published")
    assert audit.actor == centre_administrator
    assert audit.before == {"overrides": 1}
    assert audit.after == {"year": 2027, "source": SOURCE, "holidays": 3, "working_days": 1}
    # And the back office no longer warns about 2027
    page = administrator_client.get("/calendar/?year=2027").content.decode()
    assert MISSING_2027 not in page
    assert "已有正式安排" in page
    assert SOURCE in page


def test_importing_an_xlsx_publishes_the_year(
    administrator_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    # Given a workbook as an administrator would type it: real date cells, a blank row, no note column
    upload = xlsx_upload(
        [
            ["日期", "类型", "名称", "说明"],
            [dt.datetime(2027, 1, 1), "休息", "元旦"],
            [dt.date(2027, 2, 8), "放假", "春节"],
            [None, None, None, None],
            ["2027-02-09", "休息", "春节", "正月初三"],
            [dt.date(2027, 2, 20), "上班", "春节调休", "周六上班"],
        ]
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = administrator_client.post(
            "/calendar/import/", {"year": "2027", "source": SOURCE, "file": upload}
        )
    assert response.status_code == 302
    assert len(overrides_now()) == 4
    assert_2027_schedule_in_force()


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        (
            "日期,类型,名称\n2027-01-01,休息,元旦\n2027-02-30,休息,春节\n",
            "第 3 行第 1 列：无效日期 2027-02-30。",
        ),
        (
            "日期,类型,名称\n2027-01-01,休息,元旦\n\n2028-01-01,休息,元旦\n",
            "第 4 行：日期 2028-01-01 不属于 2027 年。",
        ),
        ("日期,类型,名称\n2027-01-01,休息,元旦\n2027-01-01,上班,调休\n", "第 3 行：日期 2027-01-01 重复。"),
        ("日期,类型,名称\n2027-01-01,请假,元旦\n", "第 2 行第 2 列：类型应为“休息”或“上班”。"),
        ("日期,类型,名称\n2027-01-01,休息,\n", "第 2 行：请填写名称（如“春节”“调休上班”“台风停办”）。"),
        ("2027-01-01,休息,元旦\n2027-13-01,休息,元旦\n", "第 2 行第 1 列：无效日期 2027-13-01。"),
        ("日期,类型,名称\n", "没有可导入的日期。"),
    ],
)
def test_a_csv_with_a_bad_row_is_refused_with_its_row_number_and_nothing_is_imported(
    administrator_client: Client, centre_administrator: User, schedule: str, message: str
) -> None:
    # Given a local closure already entered for 2027
    actions.set_override(centre_administrator, actions.OverrideRow(dt.date(2027, 3, 1), False, "临时停办"))
    recorded = audit_actions_except_refusals()
    # When a schedule with one bad row is imported
    response = administrator_client.post(
        "/calendar/import/", {"year": "2027", "source": SOURCE, "file": csv_upload(schedule)}
    )
    # Then it is refused, naming the row, and nothing changed
    assert response.status_code == 400
    assert message in response.content.decode()
    assert overrides_now() == [(dt.date(2027, 3, 1), False, "临时停办")]
    assert PublishedYear.objects.count() == 0
    assert audit_actions_except_refusals() == recorded
    assert service.add(dt.date(2027, 2, 5), 1) == DateAnswer(dt.date(2027, 2, 8), True)


def test_an_xlsx_with_a_bad_row_is_refused_with_its_row_number(administrator_client: Client) -> None:
    upload = xlsx_upload(
        [["日期", "类型", "名称"], [dt.date(2027, 1, 1), "休息", "元旦"], ["2027/02/08", "休息", "春节"]]
    )
    response = administrator_client.post(
        "/calendar/import/", {"year": "2027", "source": SOURCE, "file": upload}
    )
    assert response.status_code == 400
    assert "第 3 行第 1 列：无效日期 2027/02/08。" in response.content.decode()
    assert overrides_now() == []
    assert PublishedYear.objects.count() == 0


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"year": "2027", "source": SOURCE, "file": b"\xff\xfe\x00bad"}, "文件不是 UTF-8 编码的 CSV。"),
        (
            {"year": "2027", "source": SOURCE, "file": b"not a workbook", "name": "2027.xlsx"},
            "无法读取 Excel 文件。",
        ),
        ({"year": "1999", "source": SOURCE, "file": SCHEDULE_2027.encode()}, "年度: "),
        ({"year": "2027", "source": "", "file": SCHEDULE_2027.encode()}, "依据（通知文号）: "),
    ],
)
def test_an_unreadable_file_or_form_is_refused_and_changes_nothing(
    administrator_client: Client, form: dict[str, Any], message: str
) -> None:
    upload = SimpleUploadedFile(form.pop("name", "2027.csv"), form.pop("file"))
    response = administrator_client.post("/calendar/import/", {**form, "file": upload})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert overrides_now() == []
    assert PublishedYear.objects.count() == 0
    assert audit_actions_except_refusals() == []


# Permission matrix -------------------------------------------------------------------------------------------

REFUSED_PERSONAS = [
    "clerk",
    "supervisor",
    "system_administrator",
    "security_administrator",
    "audit_administrator",
]


def calendar_requests() -> dict[str, Callable[[Client], Any]]:
    return {
        "page": lambda client: client.get("/calendar/"),
        "override_set": lambda client: client.post(
            "/calendar/overrides/", {"date": "2025-11-18", "is_working_day": "0", "name": "台风停办"}
        ),
        "override_remove": lambda client: client.post("/calendar/overrides/remove/", {"date": "2027-03-01"}),
        "import": lambda client: client.post(
            "/calendar/import/", {"year": "2027", "source": SOURCE, "file": csv_upload(SCHEDULE_2027)}
        ),
    }


@pytest.fixture
def existing_override(centre_administrator: User) -> None:
    actions.set_override(centre_administrator, actions.OverrideRow(dt.date(2027, 3, 1), False, "临时停办"))


def state_now() -> tuple[list[tuple[dt.date, bool, str]], int, list[str]]:
    return overrides_now(), PublishedYear.objects.count(), audit_actions_except_refusals()


@pytest.mark.parametrize("endpoint", ["page", "override_set", "override_remove", "import"])
@pytest.mark.parametrize("persona", REFUSED_PERSONAS)
def test_staff_without_the_calendar_capability_are_refused_and_nothing_changes(
    request: pytest.FixtureRequest,
    client_for: Callable[[User], Client],
    existing_override: None,
    persona: str,
    endpoint: str,
) -> None:
    # Given a member of staff who does not manage the calendar
    user = request.getfixturevalue(persona)
    client = client_for(user)
    before = state_now()
    refusals = AuditRecord.objects.filter(action="access.denied").count()
    # When they try the endpoint
    response = calendar_requests()[endpoint](client)
    # Then they get 403, the refusal is audited, and nothing else changed
    assert response.status_code == 403
    assert "您没有访问此页面的权限。" in response.content.decode()
    assert state_now() == before
    denied = AuditRecord.objects.filter(action="access.denied").order_by("-id")
    assert denied.count() == refusals + 1
    assert denied.first().actor == user
    assert service.add(dt.date(2025, 11, 17), 1) == DateAnswer(TYPHOON_TUESDAY, False)


@pytest.mark.parametrize("endpoint", ["page", "override_set", "override_remove", "import"])
def test_an_anonymous_visitor_is_sent_to_login_and_nothing_changes(
    citizen_client: Client, existing_override: None, endpoint: str
) -> None:
    before = state_now()
    response = calendar_requests()[endpoint](citizen_client)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/calendar/")
    assert state_now() == before
    assert service.add(dt.date(2025, 11, 17), 1) == DateAnswer(TYPHOON_TUESDAY, False)


@pytest.mark.parametrize("endpoint", ["page", "override_set", "override_remove", "import"])
def test_the_centre_administrator_may_use_every_endpoint(
    administrator_client: Client, existing_override: None, endpoint: str
) -> None:
    response = calendar_requests()[endpoint](administrator_client)
    assert response.status_code == (200 if endpoint == "page" else 302)
