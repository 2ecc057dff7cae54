"""Changing the calendar: one override, a whole year's schedule from the official notice, or a site's
local closures (national overrides hold for every site; a site's own win at that site only)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from servicehall.accounts.permissions import require_capability, require_in_scope
from servicehall.accounts.roles import Capability
from servicehall.audit.actions import record
from servicehall.lib.errors import ActionRefused
from servicehall.workdays import service
from servicehall.workdays.calendar import FIRST_DAY, LAST_DAY
from servicehall.workdays.models import CalendarOverride, PublishedYear


@dataclass(frozen=True)
class OverrideRow:
    date: dt.date
    is_working_day: bool
    name: str
    note: str = ""
    line: int | None = None  # the row in the imported file, for messages


def _check_row(row: OverrideRow, line: int | None = None) -> None:
    where = _("第 %(line)d 行：") % {"line": line} if line is not None else ""
    if not FIRST_DAY <= row.date <= LAST_DAY:
        raise ActionRefused(
            where + _("日期超出日历范围（2000–2100 年）。"), code="out_of_range", field="date"
        )
    if not row.name.strip():
        raise ActionRefused(
            where + _("请填写名称（如“春节”“调休上班”“台风停办”）。"), code="name_required", field="name"
        )
    if len(row.name) > 50 or len(row.note) > 200:
        raise ActionRefused(where + _("名称不超过 50 字，说明不超过 200 字。"), code="too_long", field="name")


def _require_site(actor: Any, site: Any) -> None:
    require_capability(actor, Capability.MANAGE_CALENDAR)
    if site is not None:
        require_in_scope(actor, site)


def set_override(actor: Any, row: OverrideRow, site: Any = None) -> CalendarOverride:
    """Declare one day a holiday or a working day — nationally, or at ``site`` only (a local closure)."""
    _require_site(actor, site)
    _check_row(row)
    with transaction.atomic():
        existing = CalendarOverride.objects.select_for_update().filter(date=row.date, site=site).first()
        before = (
            {"is_working_day": existing.is_working_day, "name": existing.name, "note": existing.note}
            if existing
            else None
        )
        override, _created = CalendarOverride.objects.update_or_create(
            date=row.date,
            site=site,
            defaults={
                "is_working_day": row.is_working_day,
                "name": row.name.strip(),
                "note": row.note.strip(),
                "created_by": actor,
            },
        )
        record(
            "workdays.override_set",
            actor=actor,
            site=site or actor.site,
            target=override,
            before=before,
            after={
                **({"site": site.code} if site is not None else {}),
                "date": row.date,
                "is_working_day": row.is_working_day,
                "name": override.name,
                "note": override.note,
            },
        )
        transaction.on_commit(service.invalidate)
    return override


def remove_override(actor: Any, day: dt.date, site: Any = None) -> None:
    _require_site(actor, site)
    with transaction.atomic():
        override = CalendarOverride.objects.select_for_update().filter(date=day, site=site).first()
        if override is None:
            raise ActionRefused(_("该日期没有调整记录。"), code="not_found", field="date")
        before = {
            **({"site": site.code} if site is not None else {}),
            "date": day,
            "is_working_day": override.is_working_day,
            "name": override.name,
        }
        override.delete()
        record(
            "workdays.override_removed",
            actor=actor,
            site=site or actor.site,
            object_type="workdays.calendaroverride",
            object_id=day.isoformat(),
            object_label=before["name"],
            before=before,
        )
        transaction.on_commit(service.invalidate)


def _check_rows(rows: list[OverrideRow], year: int | None) -> None:
    """Every row of an imported file, by its line: a real date (in ``year`` when given), once each."""
    seen: set[dt.date] = set()
    for index, row in enumerate(rows, start=2):
        # Blank rows are skipped and a header is optional, so the position in the list is not the file row.
        line = row.line if row.line is not None else index
        _check_row(row, line)
        if year is not None and row.date.year != year:
            raise ActionRefused(
                _("第 %(line)d 行：日期 %(date)s 不属于 %(year)d 年。")
                % {"line": line, "date": row.date, "year": year},
                code="wrong_year",
                field="file",
            )
        if row.date in seen:
            raise ActionRefused(
                _("第 %(line)d 行：日期 %(date)s 重复。") % {"line": line, "date": row.date},
                code="duplicate",
                field="file",
            )
        seen.add(row.date)


def publish_year(actor: Any, year: int, rows: list[OverrideRow], source: str) -> PublishedYear:
    """Enter a year's holidays and 调休 working days at once and mark the year as covered."""
    require_capability(actor, Capability.MANAGE_CALENDAR)
    if not FIRST_DAY.year <= year <= LAST_DAY.year:
        raise ActionRefused(_("年度超出范围（2000–2100）。"), code="out_of_range", field="year")
    if not source.strip():
        raise ActionRefused(
            _("请填写依据（如国务院办公厅通知文号）。"), code="source_required", field="source"
        )
    if not rows:
        raise ActionRefused(_("没有可导入的日期。"), code="empty", field="file")
    _check_rows(rows, year)
    with transaction.atomic():
        # A site's local closures are its own: the national notice replaces only national overrides.
        national = CalendarOverride.objects.filter(date__year=year, site__isnull=True)
        removed = national.count()
        national.delete()
        CalendarOverride.objects.bulk_create(
            CalendarOverride(
                date=row.date,
                is_working_day=row.is_working_day,
                name=row.name.strip(),
                note=row.note.strip(),
                created_by=actor,
            )
            for row in rows
        )
        published, _created = PublishedYear.objects.update_or_create(
            year=year, defaults={"source": source.strip()[:200], "published_by": actor}
        )
        record(
            "workdays.year_published",
            actor=actor,
            site=actor.site,
            target=published,
            before={"overrides": removed},
            after={
                "year": year,
                "source": published.source,
                "holidays": sum(1 for row in rows if not row.is_working_day),
                "working_days": sum(1 for row in rows if row.is_working_day),
            },
        )
        transaction.on_commit(service.invalidate)
    return published


def import_site_overrides(actor: Any, site: Any, rows: list[OverrideRow]) -> int:
    """Enter a site's local closures (and local working days) from a file; each date replaces that
    site's override of the same date, and the site's other overrides stay. All rows or none."""
    _require_site(actor, site)
    if not rows:
        raise ActionRefused(_("没有可导入的日期。"), code="empty", field="file")
    _check_rows(rows, None)
    with transaction.atomic():
        existing = CalendarOverride.objects.select_for_update().filter(
            site=site, date__in=[row.date for row in rows]
        )
        replaced = len(list(existing.values_list("pk", flat=True)))
        existing.delete()
        CalendarOverride.objects.bulk_create(
            CalendarOverride(
                date=row.date,
                site=site,
                is_working_day=row.is_working_day,
                name=row.name.strip(),
                note=row.note.strip(),
                created_by=actor,
            )
            for row in rows
        )
        record(
            "workdays.site_overrides_imported",
            actor=actor,
            site=site,
            target=site,
            before={"replaced": replaced},
            after={
                "site": site.code,
                "holidays": sum(1 for row in rows if not row.is_working_day),
                "working_days": sum(1 for row in rows if row.is_working_day),
                "dates": [row.date.isoformat() for row in rows],
            },
        )
        transaction.on_commit(service.invalidate)
    return len(rows)


def parse_schedule(content: bytes, filename: str) -> list[OverrideRow]:
    """Rows from a .csv (UTF-8, with or without BOM) or .xlsx: 日期, 类型 (休息/上班), 名称, 说明."""
    if filename.lower().endswith(".xlsx"):
        return _parse_xlsx(content)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ActionRefused(_("文件不是 UTF-8 编码的 CSV。"), code="encoding", field="file") from error
    import csv
    import io

    rows = list(csv.reader(io.StringIO(text)))
    return _rows_from_cells(rows)


def _parse_xlsx(content: bytes) -> list[OverrideRow]:
    import io

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a damaged file
        raise ActionRefused(_("无法读取 Excel 文件。"), code="unreadable", field="file") from error
    sheet = workbook.worksheets[0]
    rows = [["" if cell is None else cell for cell in row] for row in sheet.iter_rows(values_only=True)]
    return _rows_from_cells(rows)


WORKING_WORDS = {"上班", "工作日", "work", "working", "workday", "1", "true"}
HOLIDAY_WORDS = {"休息", "放假", "休息日", "holiday", "off", "0", "false"}


def _rows_from_cells(rows: list[list[Any]]) -> list[OverrideRow]:
    if not rows:
        return []
    body = rows[1:] if rows and str(rows[0][0]).strip() in {"日期", "date", "Date"} else rows
    parsed: list[OverrideRow] = []
    header_offset = 2 if body is not rows else 1
    for number, cells in enumerate(body, start=header_offset):
        cells = list(cells) + [""] * (4 - len(cells))
        if all(str(cell).strip() == "" for cell in cells[:4]):
            continue
        raw_date, raw_kind, name, note = cells[:4]
        if isinstance(raw_date, dt.datetime):
            day = raw_date.date()
        elif isinstance(raw_date, dt.date):
            day = raw_date
        else:
            try:
                day = dt.date.fromisoformat(str(raw_date).strip())
            except ValueError as error:
                raise ActionRefused(
                    _("第 %(line)d 行第 1 列：无效日期 %(value)s。")
                    % {"line": number, "value": str(raw_date)[:20]},
                    code="invalid_date",
                    field="file",
                ) from error
        kind = str(raw_kind).strip().lower()
        if kind in WORKING_WORDS:
            is_working = True
        elif kind in HOLIDAY_WORDS:
            is_working = False
        else:
            raise ActionRefused(
                _("第 %(line)d 行第 2 列：类型应为“休息”或“上班”。") % {"line": number},
                code="invalid_kind",
                field="file",
            )
        parsed.append(OverrideRow(day, is_working, str(name).strip(), str(note).strip(), line=number))
    return parsed
