"""How fast are the public 办事指南 pages with a catalogue of 2,000 items?

Run from the project directory: `.venv/bin/python bench/catalog_pages.py`. It builds a throw-away
embedded (SQLite) database in a temporary directory, loads 2,000 items (8 materials, 2 fees, 4 steps
and 2 windows each; every 联办件 with one 协办部门) through the catalogue import, gives every window a
post with an A角 and a B角, then times 50 requests of each page with Django's test client — the guide
list and detail, each site's 服务承诺 page and its 今日在岗人员 page (工作人员身份公开, on a working day). The last line printed is one JSON object with the figures, targets and whether each is met.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ITEM_COUNT = 2_000
REQUESTS_PER_PAGE = 50
WARM_UP_REQUESTS = 5
TARGET_MS = 100.0
TOWN_COUNT = 4
DEPARTMENTS_PER_SITE = 5
WINDOWS_PER_SITE = 8

VERBS = ["申领", "变更", "注销", "补办", "备案", "登记", "证明", "审批", "年检", "换发"]
SUBJECTS = [
    "居民身份证",
    "社会保障卡",
    "失业保险金",
    "城乡居民养老保险",
    "婚姻登记记录",
    "个体工商户",
    "食品经营许可",
    "建设工程规划",
    "残疾人证",
    "户口迁移",
    "医疗保险",
    "住房公积金",
    "道路运输证",
    "临时救助",
    "低保待遇",
    "出生医学证明",
    "营业执照",
    "特种设备",
    "排水许可",
    "卫生许可",
]
MATERIAL_NAMES = [
    "申请表",
    "居民身份证",
    "户口簿",
    "近期免冠照片",
    "授权委托书",
    "营业执照",
    "场地证明",
    "承诺书",
]
STEP_NAMES = ["受理", "审核", "决定", "送达"]
# A Monday with official data: the duty page of a closed day would measure nothing.
WORKING_DAY = dt.date(2026, 3, 2)


def prepare_environment(var_directory: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "servicehall.config.settings"
    os.environ["SERVICEHALL_DEPLOYMENT"] = "local"
    os.environ["SERVICEHALL_VAR_DIR"] = var_directory
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    source = Path(__file__).resolve().parent.parent / "src"
    if str(source) not in sys.path:
        sys.path.insert(0, str(source))

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed() -> tuple[list[str], list[int], list[int], float]:
    """Sites, departments, windows and an administrator; then the catalogue through the import."""
    from servicehall.accounts.models import RoleGrant, User
    from servicehall.accounts.roles import Role
    from servicehall.catalog import actions, spreadsheet
    from servicehall.sites.models import Department, Site, SiteLevel, Window

    city = Site.objects.create(
        code="CITY", name="中山市政务服务中心", level=SiteLevel.CITY, address="中山市东区中山四路 1 号"
    )
    sites = [city] + [
        Site.objects.create(
            code=f"TOWN-{number}",
            name=f"第{number}镇便民服务中心",
            level=SiteLevel.TOWN,
            parent=city,
            address=f"第{number}镇政府大院",
            supervision_phone="0760-12345",
        )
        for number in range(1, TOWN_COUNT + 1)
    ]
    departments: list[Department] = []
    windows: dict[str, list[Window]] = {}
    for site in sites:
        site_departments = [
            Department.objects.create(site=site, code=f"D{number}", name=f"进驻部门{number}")
            for number in range(1, DEPARTMENTS_PER_SITE + 1)
        ]
        departments.extend(site_departments)
        windows[site.code] = [
            Window.objects.create(
                site=site,
                number=number,
                name=f"综合窗口{number}",
                department=site_departments[number % DEPARTMENTS_PER_SITE],
            )
            for number in range(1, WINDOWS_PER_SITE + 1)
        ]
    administrator = User.objects.create_user(
        username="bench_admin", password=None, full_name="基准管理员", staff_number="B0001", site=city
    )
    RoleGrant.objects.create(site=city, user=administrator, role=Role.CENTRE_ADMINISTRATOR)
    administrator.forget_cached_roles()

    rows: dict[str, list[list[object]]] = {
        "items": [],
        "materials": [],
        "fees": [],
        "steps": [],
        "windows": [],
        "joint_departments": [],
    }
    codes: list[str] = []
    for index in range(ITEM_COUNT):
        department = departments[index % len(departments)]
        site_code = department.site.code
        code = f"4420{index:06d}"
        codes.append(code)
        item_type = ["承诺件", "即办件", "联办件", "上报件"][index % 4]
        statutory, committed = (0, 0) if item_type == "即办件" else (20, 5 + index % 10)
        name = f"{SUBJECTS[index % len(SUBJECTS)]}{VERBS[(index // len(SUBJECTS)) % len(VERBS)]}（{index}）"
        rows["items"].append(
            [
                code,
                name,
                site_code,
                department.code,
                item_type,
                statutory,
                committed,
                "是" if index % 3 == 0 else "否",
                "申请人为本市户籍居民或在本市就业的人员。" * 3,
                "《中华人民共和国行政许可法》第二十九条",
                "否",
                "是",
                "是",
                "否",
                f"{SUBJECTS[index % len(SUBJECTS)]} 办事",
                "是",
            ]
        )
        for position, material in enumerate(MATERIAL_NAMES):
            rows["materials"].append(
                [
                    code,
                    material,
                    1 + position % 2,
                    "原件" if position % 2 else "复印件",
                    "是",
                    "否",
                    "核对原件后退回",
                ]
            )
        rows["fees"].append([code, "工本费", 10, "粤发改价格〔2021〕12号"])
        rows["fees"].append([code, "证书费", 5.5, "国家发展改革委 财政部文件"])
        for step in STEP_NAMES:
            rows["steps"].append([code, step, f"{step}环节按规定办理"])
        site_windows = windows[site_code]
        for offset in (0, 1):
            window = site_windows[(index + offset) % len(site_windows)]
            rows["windows"].append([code, site_code, window.number])
        if item_type == "联办件":
            position = index % len(departments)
            first_of_site = position - position % DEPARTMENTS_PER_SITE
            partner = departments[first_of_site + (position + 1) % DEPARTMENTS_PER_SITE]
            rows["joint_departments"].append([code, site_code, partner.code])
    content = spreadsheet.write_workbook(rows)
    started = time.perf_counter()
    result = actions.import_catalogue(administrator, content)
    seconds = time.perf_counter() - started
    assert result.created == ITEM_COUNT, result
    staff_windows(sites, windows)
    return codes, [department.pk for department in departments], [site.pk for site in sites], seconds


def staff_windows(sites: list[object], windows: dict[str, list[object]]) -> None:
    """Opening hours Monday–Friday and, at every window, a reception post with a qualified A角 and B角."""
    from servicehall.accounts.models import User
    from servicehall.duty.models import Assignment, AssignmentRole, Post, Qualification, QualificationSource
    from servicehall.sites.models import OpeningPeriod, PostKind

    for site in sites:
        OpeningPeriod.objects.bulk_create(
            OpeningPeriod(site=site, weekday=weekday, starts_at=starts_at, ends_at=ends_at)
            for weekday in range(1, 6)
            for starts_at, ends_at in ((dt.time(9), dt.time(12)), (dt.time(13, 30), dt.time(17, 30)))
        )
        for window in windows[site.code]:  # type: ignore[attr-defined]
            post = Post.objects.create(
                site=site,
                window=window,
                kind=PostKind.RECEPTION,
                name=f"{window.number}号窗口受理岗",
                required_qualification=PostKind.RECEPTION,
            )
            for role in (AssignmentRole.A, AssignmentRole.B):
                person = User.objects.create_user(
                    username=f"{site.code}-{window.number}-{role}".lower(),
                    password=None,
                    full_name=f"窗口人员{window.number}{role}",
                    staff_number=f"{site.code}{window.number:02d}{role}",
                    site=site,
                )
                Qualification.objects.create(
                    site=site,
                    staff=person,
                    post_kind=PostKind.RECEPTION,
                    valid_from=dt.date(2026, 1, 1),
                    valid_until=dt.date(2026, 12, 31),
                    source=QualificationSource.ENTERED,
                )
                Assignment.objects.create(
                    site=site, post=post, staff=person, role=role, valid_from=dt.date(2026, 1, 1)
                )


def measure(client: object, paths: list[str]) -> list[float]:
    timings = []
    for index in range(WARM_UP_REQUESTS + REQUESTS_PER_PAGE):
        path = paths[index % len(paths)]
        started = time.perf_counter()
        response = client.get(path)  # type: ignore[attr-defined]
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")
        if index >= WARM_UP_REQUESTS:
            timings.append(elapsed)
    return timings


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="servicehall-bench-") as var_directory:
        prepare_environment(var_directory)
        from django.test import Client

        print(f"正在准备 {ITEM_COUNT} 个事项（每项 8 份材料、2 项收费、4 个环节、2 个窗口）…")
        codes, department_ids, site_ids, import_seconds = seed()
        print(f"  通过导入写入用时 {import_seconds:.1f} 秒")
        from servicehall.catalog import public_views

        # The duty page reads "today"; the run pins it to a working day so the roster is really computed.
        public_views.timezone = SimpleNamespace(localdate=lambda: WORKING_DAY)  # type: ignore[assignment]
        client = Client(HTTP_HOST="127.0.0.1")
        pages = {
            "list_first_page": ["/guide/"],
            "list_search": ["/guide/?q=社会保障卡", "/guide/?q=证明", "/guide/?q=4420000123"],
            "list_department": [f"/guide/?department={identifier}" for identifier in department_ids[:10]],
            "detail": [f"/guide/{code}/" for code in codes[:: ITEM_COUNT // REQUESTS_PER_PAGE]],
            "site": [f"/guide/sites/{identifier}/" for identifier in site_ids],
            "site_staff": [f"/guide/sites/{identifier}/staff/" for identifier in site_ids],
        }
        labels = {
            "list_first_page": "办事指南列表（第一页）",
            "list_search": "办事指南列表（搜索）",
            "list_department": "办事指南列表（按部门）",
            "detail": "事项详情页（含二维码）",
            "site": "服务承诺与监督电话页",
            "site_staff": "今日在岗人员页（工作人员身份公开）",
        }
        figures: dict[str, dict[str, float | bool | int]] = {}
        for key, paths in pages.items():
            timings = measure(client, paths)
            median = statistics.median(timings)
            p95 = percentile(timings, 0.95)
            met = median < TARGET_MS and p95 < TARGET_MS
            figures[key] = {
                "requests": len(timings),
                "median_ms": round(median, 1),
                "p95_ms": round(p95, 1),
                "target_ms": TARGET_MS,
                "met": met,
            }
            verdict = "达标" if met else "未达标"
            print(
                f"  {labels[key]}：中位数 {median:.1f} ms，p95 {p95:.1f} ms（目标 < {TARGET_MS:.0f} ms）{verdict}"
            )
        summary = {
            "benchmark": "catalog_pages",
            "items": ITEM_COUNT,
            "database": "sqlite",
            "import_seconds": round(import_seconds, 2),
            "pages": figures,
            "all_met": all(page["met"] for page in figures.values()),
        }
        print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
