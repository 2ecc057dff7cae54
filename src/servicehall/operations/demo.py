"""The demo centre: a believable 中山市 service centre drawn from the seeds, loaded idempotently.

Sites follow the three levels of seed 002 (DB4420 §5.1), whose drafting units name 三角镇, 东区街道 and
the 光明村 and 结民村 committees; windows carry the posts of DB4420 §5.2–5.3 with the supervisor at
1号窗口 (seed 003 公安窗口 2); opening hours have separate morning and afternoon periods (seed 000
工作纪律 2) and the city centre has Saturday duty (seed 003 午间和周六休息时间窗口值班制).

Loading only ever creates what is missing, keyed by natural keys (site code, department code, window
number, username); an existing row is never changed, so an operator's edits survive `make run`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
import unicodedata
from base64 import b32encode
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from servicehall.accounts.models import Rank, RoleGrant, User
from servicehall.accounts.roles import ADMINISTRATOR_POSTS, Role
from servicehall.audit.actions import record
from servicehall.lib.identity import resident_id_check_character
from servicehall.sites.models import (
    Department,
    OpeningPeriod,
    PostKind,
    Site,
    SiteLevel,
    Weekday,
    Window,
    WindowPost,
)

DEMO_PASSWORD = "Hall#2026demo"
ZHONGSHAN_AREA_CODE = "442000"
DEMO_DEVICE_NAME = "演示身份验证器"
CITY_CODE = "ZS-CITY"


@dataclass(frozen=True)
class DemoSite:
    code: str
    name: str
    level: SiteLevel
    parent_code: str | None
    address: str
    service_phone: str
    supervision_phone: str = "0760-12345"
    saturday_duty: bool = False


@dataclass(frozen=True)
class DemoDepartment:
    site_code: str
    code: str
    name: str


@dataclass(frozen=True)
class DemoWindow:
    site_code: str
    number: int
    name: str
    posts: tuple[PostKind, ...]
    department_code: str | None = None
    is_supervisor_window: bool = False


@dataclass(frozen=True)
class DemoStaff:
    username: str
    full_name: str
    staff_number: str
    site_code: str
    department_code: str | None
    rank: Rank
    roles: tuple[Role, ...]
    is_male: bool
    birth_date: dt.date

    @property
    def resident_id(self) -> str:
        # The 17th digit is odd for men and even for women (GB 11643-1999).
        order = int(hashlib.sha256(self.username.encode()).hexdigest(), 16) % 50 * 2 + (
            1 if self.is_male else 0
        )
        first_seventeen = f"{ZHONGSHAN_AREA_CODE}{self.birth_date:%Y%m%d}{order + 100:03d}"
        return first_seventeen + resident_id_check_character(first_seventeen)

    @property
    def mobile_phone(self) -> str:
        digest = int(hashlib.sha256(f"phone:{self.username}".encode()).hexdigest(), 16)
        prefixes = ("135", "137", "138", "139", "150", "158", "186", "189")
        return f"{prefixes[digest % len(prefixes)]}{digest // 8 % 100_000_000:08d}"


SITES: tuple[DemoSite, ...] = (
    DemoSite(
        CITY_CODE,
        "中山市政务服务中心",
        SiteLevel.CITY,
        None,
        "中山市东区兴中道 1 号（演示地址）",
        "0760-88880000",
        saturday_duty=True,
    ),
    DemoSite(
        "ZS-SANJIAO",
        "三角镇便民服务中心",
        SiteLevel.TOWN,
        CITY_CODE,
        "中山市三角镇政务服务路 8 号（演示地址）",
        "0760-85400000",
    ),
    DemoSite(
        "ZS-DONGQU",
        "东区街道便民服务中心",
        SiteLevel.TOWN,
        CITY_CODE,
        "中山市东区街道便民路 6 号（演示地址）",
        "0760-88300000",
    ),
    DemoSite(
        "ZS-SANJIAO-GUANGMING",
        "三角镇光明村便民服务站",
        SiteLevel.VILLAGE,
        "ZS-SANJIAO",
        "中山市三角镇光明村委会一楼（演示地址）",
        "0760-85410000",
    ),
    DemoSite(
        "ZS-SANJIAO-JIEMIN",
        "三角镇结民村便民服务站",
        SiteLevel.VILLAGE,
        "ZS-SANJIAO",
        "中山市三角镇结民村委会一楼（演示地址）",
        "0760-85420000",
    ),
)

DEPARTMENTS: tuple[DemoDepartment, ...] = (
    DemoDepartment(CITY_CODE, "ZW", "政务服务数据管理局"),
    DemoDepartment(CITY_CODE, "RS", "人力资源和社会保障局"),
    DemoDepartment(CITY_CODE, "SB", "社会保险基金管理局（社保）"),
    DemoDepartment(CITY_CODE, "GA", "公安局（户政/出入境/交警）"),
    DemoDepartment(CITY_CODE, "SJ", "市场监督管理局"),
    DemoDepartment(CITY_CODE, "BDC", "不动产登记中心"),
    DemoDepartment(CITY_CODE, "SW", "税务局"),
    DemoDepartment(CITY_CODE, "YB", "医疗保障局"),
    DemoDepartment(CITY_CODE, "GJJ", "住房公积金管理中心"),
    DemoDepartment("ZS-SANJIAO", "GF", "三角镇公共服务办公室"),
    DemoDepartment("ZS-SANJIAO", "SBYB", "社保医保服务点"),
    DemoDepartment("ZS-SANJIAO", "HZ", "公安户政服务点"),
    DemoDepartment("ZS-DONGQU", "GF", "东区街道公共服务办公室"),
    DemoDepartment("ZS-DONGQU", "SBYB", "社保医保服务点"),
)

WINDOWS: tuple[DemoWindow, ...] = (
    DemoWindow(CITY_CODE, 1, "综合咨询（负责人）", (PostKind.GUIDE,), "ZW", is_supervisor_window=True),
    DemoWindow(CITY_CODE, 2, "导办台", (PostKind.GUIDE, PostKind.VOLUNTEER), "ZW"),
    DemoWindow(CITY_CODE, 3, "预审台", (PostKind.PRE_REVIEW,), "ZW"),
    DemoWindow(CITY_CODE, 4, "综合窗口（无差别受理）", (PostKind.COMPREHENSIVE, PostKind.RECEPTION), "ZW"),
    DemoWindow(CITY_CODE, 5, "人社业务窗口", (PostKind.RECEPTION,), "RS"),
    DemoWindow(CITY_CODE, 6, "社保业务窗口", (PostKind.RECEPTION,), "SB"),
    DemoWindow(CITY_CODE, 7, "户政窗口", (PostKind.RECEPTION,), "GA"),
    DemoWindow(CITY_CODE, 8, "出入境窗口", (PostKind.RECEPTION,), "GA"),
    DemoWindow(CITY_CODE, 9, "交警业务窗口", (PostKind.RECEPTION,), "GA"),
    DemoWindow(CITY_CODE, 10, "市场主体登记窗口", (PostKind.RECEPTION, PostKind.PARTY_MEMBER), "SJ"),
    DemoWindow(CITY_CODE, 11, "不动产登记窗口", (PostKind.RECEPTION,), "BDC"),
    DemoWindow(CITY_CODE, 12, "税务窗口", (PostKind.RECEPTION,), "SW"),
    DemoWindow(CITY_CODE, 13, "医保窗口", (PostKind.RECEPTION,), "YB"),
    DemoWindow(CITY_CODE, 14, "公积金窗口", (PostKind.RECEPTION,), "GJJ"),
    DemoWindow(CITY_CODE, 15, "潮汐岗", (PostKind.TIDAL, PostKind.COMPREHENSIVE), "ZW"),
    DemoWindow(CITY_CODE, 16, "爱心专窗", (PostKind.CARING, PostKind.RECEPTION), "ZW"),
    DemoWindow(CITY_CODE, 17, "“办不成事”反映窗口", (PostKind.CANNOT_GET_DONE,), "ZW"),
    DemoWindow(CITY_CODE, 18, "投诉处理台", (PostKind.COMPLAINT,), "ZW"),
    DemoWindow("ZS-SANJIAO", 1, "综合咨询（负责人）", (PostKind.GUIDE,), "GF", is_supervisor_window=True),
    DemoWindow("ZS-SANJIAO", 2, "综合窗口", (PostKind.COMPREHENSIVE, PostKind.RECEPTION), "GF"),
    DemoWindow("ZS-SANJIAO", 3, "社保医保窗口", (PostKind.RECEPTION,), "SBYB"),
    DemoWindow("ZS-SANJIAO", 4, "户政窗口", (PostKind.RECEPTION,), "HZ"),
    DemoWindow("ZS-DONGQU", 1, "综合咨询（负责人）", (PostKind.GUIDE,), "GF", is_supervisor_window=True),
    DemoWindow("ZS-DONGQU", 2, "综合窗口", (PostKind.COMPREHENSIVE, PostKind.PRE_REVIEW), "GF"),
    DemoWindow("ZS-DONGQU", 3, "社保医保窗口", (PostKind.RECEPTION,), "SBYB"),
    DemoWindow("ZS-SANJIAO-GUANGMING", 1, "综合服务窗口", (PostKind.COMPREHENSIVE, PostKind.GUIDE)),
    DemoWindow("ZS-SANJIAO-GUANGMING", 2, "代办帮办窗口", (PostKind.RECEPTION, PostKind.VOLUNTEER)),
    DemoWindow("ZS-SANJIAO-JIEMIN", 1, "综合服务窗口", (PostKind.COMPREHENSIVE, PostKind.GUIDE)),
)


def _staff(
    username: str,
    full_name: str,
    staff_number: str,
    site_code: str,
    department_code: str | None,
    rank: Rank,
    roles: tuple[Role, ...],
    sex: str,
    birth_date: str,
) -> DemoStaff:
    return DemoStaff(
        username=username,
        full_name=full_name,
        staff_number=staff_number,
        site_code=site_code,
        department_code=department_code,
        rank=rank,
        roles=roles,
        is_male=sex == "男",
        birth_date=dt.date.fromisoformat(birth_date),
    )


STAFF: tuple[DemoStaff, ...] = (
    _staff("chen.jing", "陈静", "ZS0101", CITY_CODE, "ZW", Rank.SECTION_CHIEF, (Role.WINDOW_SUPERVISOR,), "女", "1982-05-14"),
    _staff("huang.wei", "黄伟", "ZS0102", CITY_CODE, "ZW", Rank.DEPUTY_DIVISION_CHIEF, (Role.CENTRE_ADMINISTRATOR,), "男", "1978-11-02"),
    _staff("he.jun", "何军", "ZS0103", CITY_CODE, "ZW", Rank.DEPUTY_SECTION_CHIEF, (Role.SYSTEM_ADMINISTRATOR,), "男", "1986-03-21"),
    _staff("liang.min", "梁敏", "ZS0104", CITY_CODE, "ZW", Rank.DEPUTY_SECTION_CHIEF, (Role.SECURITY_ADMINISTRATOR,), "女", "1988-07-09"),
    _staff("zhou.yan", "周燕", "ZS0105", CITY_CODE, "ZW", Rank.DEPUTY_SECTION_CHIEF, (Role.AUDIT_ADMINISTRATOR,), "女", "1984-12-30"),
    _staff("li.na", "李娜", "ZS0106", CITY_CODE, "ZW", Rank.STAFF_MEMBER, (Role.GUIDE,), "女", "1995-04-18"),
    _staff("tan.xiaoyu", "谭晓雨", "ZS0107", CITY_CODE, "ZW", Rank.CLERK, (Role.GUIDE,), "女", "1998-09-03"),
    _staff("wu.ting", "吴婷", "ZS0108", CITY_CODE, "ZW", Rank.STAFF_MEMBER, (Role.PRE_REVIEWER,), "女", "1993-02-27"),
    _staff("lin.hao", "林浩", "ZS0109", CITY_CODE, "ZW", Rank.STAFF_MEMBER, (Role.PRE_REVIEWER, Role.WINDOW_CLERK), "男", "1991-06-11"),
    _staff("lu.hong", "卢红", "ZS0110", CITY_CODE, "ZW", Rank.SECTION_CHIEF, (Role.COMPLAINT_HANDLER,), "女", "1980-06-06"),
    _staff("ou.jiahao", "区嘉豪", "ZS0111", CITY_CODE, "ZW", Rank.CLERK, (Role.WINDOW_CLERK,), "男", "1996-01-15"),
    _staff("cai.meiling", "蔡美玲", "ZS0112", CITY_CODE, "ZW", Rank.STAFF_MEMBER, (Role.WINDOW_CLERK, Role.COMPLAINT_HANDLER), "女", "1990-10-10"),
    _staff("wang.qiang", "王强", "ZS0201", CITY_CODE, "RS", Rank.STAFF_MEMBER, (Role.WINDOW_CLERK,), "男", "1990-08-08"),
    _staff("jian.hui", "简慧", "ZS0202", CITY_CODE, "RS", Rank.DEPUTY_SECTION_CHIEF, (Role.BACK_OFFICE_APPROVER,), "女", "1984-02-19"),
    _staff("zheng.lihua", "郑丽华", "ZS0301", CITY_CODE, "SB", Rank.STAFF_MEMBER, (Role.WINDOW_CLERK,), "女", "1987-01-23"),
    _staff("luo.zhiming", "罗志明", "ZS0401", CITY_CODE, "GA", Rank.STAFF_MEMBER, (Role.WINDOW_CLERK,), "男", "1985-10-16"),
    _staff("mai.yingshan", "麦颖珊", "ZS0402", CITY_CODE, "GA", Rank.STAFF_MEMBER, (Role.WINDOW_CLERK,), "女", "1994-03-05"),
    _staff("deng.jianhua", "邓建华", "ZS0403", CITY_CODE, "GA", Rank.DEPUTY_SECTION_CHIEF, (Role.BACK_OFFICE_APPROVER,), "男", "1983-07-29"),
    _staff("su.wenjie", "苏文杰", "ZS0501", CITY_CODE, "SJ", Rank.STAFF_MEMBER, (Role.WINDOW_CLERK,), "男", "1992-12-12"),
    _staff("ye.qing", "叶青", "ZS0502", CITY_CODE, "SJ", Rank.SECTION_CHIEF, (Role.BACK_OFFICE_APPROVER,), "女", "1989-05-20"),
    _staff("liu.yang", "刘洋", "ZS0601", CITY_CODE, "BDC", Rank.STAFF_MEMBER, (Role.WINDOW_CLERK,), "男", "1990-02-14"),
    _staff("gan.shuyi", "甘淑仪", "ZS0602", CITY_CODE, "BDC", Rank.DEPUTY_SECTION_CHIEF, (Role.BACK_OFFICE_APPROVER,), "女", "1986-09-25"),
    _staff("zhang.lei", "张磊", "ZS0701", CITY_CODE, "SW", Rank.STAFF_MEMBER, (Role.WINDOW_CLERK,), "男", "1988-04-07"),
    _staff("yang.fang", "杨芳", "ZS0801", CITY_CODE, "YB", Rank.STAFF_MEMBER, (Role.WINDOW_CLERK,), "女", "1991-11-19"),
    _staff("ouyang.ming", "欧阳明", "ZS0901", CITY_CODE, "GJJ", Rank.STAFF_MEMBER, (Role.WINDOW_CLERK,), "男", "1987-08-31"),
    _staff("guo.mingde", "郭明德", "ZS0999", CITY_CODE, None, Rank.CLERK, (Role.SOCIAL_SUPERVISOR,), "男", "1962-03-08"),
    _staff("lai.zhihong", "赖志宏", "SJ0101", "ZS-SANJIAO", "GF", Rank.SECTION_CHIEF, (Role.WINDOW_SUPERVISOR,), "男", "1979-04-12"),
    _staff("huang.xiaoling", "黄晓玲", "SJ0102", "ZS-SANJIAO", "GF", Rank.STAFF_MEMBER, (Role.WINDOW_CLERK,), "女", "1993-08-21"),
    _staff("chen.yuting", "陈雨婷", "SJ0103", "ZS-SANJIAO", "GF", Rank.CLERK, (Role.GUIDE,), "女", "1997-12-02"),
    _staff("mo.jiawei", "莫家伟", "SJ0201", "ZS-SANJIAO", "SBYB", Rank.STAFF_MEMBER, (Role.WINDOW_CLERK,), "男", "1995-06-28"),
    _staff("peng.guoqiang", "彭国强", "SJ0301", "ZS-SANJIAO", "HZ", Rank.STAFF_MEMBER, (Role.WINDOW_CLERK,), "男", "1981-10-05"),
    _staff("xie.weiguo", "谢卫国", "SJ0999", "ZS-SANJIAO", None, Rank.CLERK, (Role.SOCIAL_SUPERVISOR,), "男", "1968-01-17"),
    _staff("kuang.lijuan", "邝丽娟", "DQ0101", "ZS-DONGQU", "GF", Rank.SECTION_CHIEF, (Role.WINDOW_SUPERVISOR,), "女", "1983-03-26"),
    _staff("he.zhiwei", "何志伟", "DQ0102", "ZS-DONGQU", "GF", Rank.STAFF_MEMBER, (Role.WINDOW_CLERK, Role.PRE_REVIEWER), "男", "1992-07-14"),
    _staff("xu.ming", "徐明", "DQ0103", "ZS-DONGQU", "GF", Rank.CLERK, (Role.GUIDE,), "男", "1999-05-09"),
    _staff("liang.jiayi", "梁嘉怡", "DQ0201", "ZS-DONGQU", "SBYB", Rank.STAFF_MEMBER, (Role.WINDOW_CLERK,), "女", "1996-11-30"),
    _staff("lu.jianguo", "陆建国", "GM0101", "ZS-SANJIAO-GUANGMING", None, Rank.STAFF_MEMBER, (Role.WINDOW_CLERK, Role.GUIDE), "男", "1975-09-13"),
    _staff("tang.meifang", "汤美芳", "GM0102", "ZS-SANJIAO-GUANGMING", None, Rank.CLERK, (Role.WINDOW_CLERK,), "女", "1988-02-08"),
    _staff("cen.haiyan", "岑海燕", "JM0101", "ZS-SANJIAO-JIEMIN", None, Rank.STAFF_MEMBER, (Role.WINDOW_CLERK, Role.GUIDE), "女", "1985-06-22"),
)  # fmt: skip

# The logins a first-time visitor should try: a clerk, the city supervisor, a guide and the auditor.
SUGGESTED_LOGINS: tuple[tuple[Role, str], ...] = (
    (Role.WINDOW_CLERK, "wang.qiang"),
    (Role.WINDOW_SUPERVISOR, "chen.jing"),
    (Role.GUIDE, "li.na"),
    (Role.AUDIT_ADMINISTRATOR, "zhou.yan"),
)

WEEKDAY_PERIODS: tuple[tuple[dt.time, dt.time, str], ...] = (
    (dt.time(9, 0), dt.time(12, 0), "上午"),
    (dt.time(13, 30), dt.time(17, 30), "下午"),
)
SATURDAY_PERIOD = (dt.time(9, 0), dt.time(12, 0), "周六值班")


@dataclass
class DemoLoadResult:
    created: Counter[str] = field(default_factory=Counter)
    skipped_usernames: list[str] = field(default_factory=list)

    @property
    def created_anything(self) -> bool:
        return sum(self.created.values()) > 0


def load_demo_centre() -> DemoLoadResult:
    """Create whatever part of the demo centre is missing; one audit record if anything was created."""
    result = DemoLoadResult()
    with transaction.atomic():
        sites = _load_sites(result)
        departments = _load_departments(sites, result)
        _load_windows(sites, departments, result)
        _load_opening_periods(sites, result)
        _load_staff(sites, departments, result)
        if result.created_anything:
            record(
                "operations.demo_loaded",
                object_type="operations.demo",
                object_label="演示中心 / demo centre",
                after={"created": dict(sorted(result.created.items()))},
            )
    return result


def _load_sites(result: DemoLoadResult) -> dict[str, Site]:
    sites: dict[str, Site] = {}
    for demo in SITES:
        site = Site.objects.filter(code=demo.code).first()
        if site is None:
            site = Site.objects.create(
                code=demo.code,
                name=demo.name,
                level=demo.level,
                parent=sites[demo.parent_code] if demo.parent_code else None,
                address=demo.address,
                service_phone=demo.service_phone,
                supervision_phone=demo.supervision_phone,
            )
            result.created["sites"] += 1
        sites[demo.code] = site
    return sites


def _load_departments(sites: dict[str, Site], result: DemoLoadResult) -> dict[tuple[str, str], Department]:
    departments: dict[tuple[str, str], Department] = {}
    for demo in DEPARTMENTS:
        site = sites[demo.site_code]
        department = Department.objects.filter(site=site, code=demo.code).first()
        if department is None:
            department = Department.objects.create(site=site, code=demo.code, name=demo.name)
            result.created["departments"] += 1
        departments[(demo.site_code, demo.code)] = department
    return departments


def _load_windows(
    sites: dict[str, Site], departments: dict[tuple[str, str], Department], result: DemoLoadResult
) -> None:
    for demo in WINDOWS:
        site = sites[demo.site_code]
        if Window.objects.filter(site=site, number=demo.number).exists():
            continue
        department = departments[(demo.site_code, demo.department_code)] if demo.department_code else None
        # A department an operator moved to another site no longer fits this window; leave it unset.
        if department is not None and department.site_id != site.pk:
            department = None
        window = Window.objects.create(
            site=site,
            number=demo.number,
            name=demo.name,
            department=department,
            is_supervisor_window=demo.is_supervisor_window,
        )
        WindowPost.objects.bulk_create(WindowPost(site=site, window=window, kind=kind) for kind in demo.posts)
        result.created["windows"] += 1
        result.created["window_posts"] += len(demo.posts)


def _load_opening_periods(sites: dict[str, Site], result: DemoLoadResult) -> None:
    for demo in SITES:
        site = sites[demo.code]
        # Hours are set per site as a whole: adding demo periods to hours an operator set would overlap.
        if OpeningPeriod.objects.filter(site=site).exists():
            continue
        periods = [
            OpeningPeriod(site=site, weekday=weekday, starts_at=starts_at, ends_at=ends_at, note=note)
            for weekday in (
                Weekday.MONDAY,
                Weekday.TUESDAY,
                Weekday.WEDNESDAY,
                Weekday.THURSDAY,
                Weekday.FRIDAY,
            )
            for starts_at, ends_at, note in WEEKDAY_PERIODS
        ]
        if demo.saturday_duty:
            starts_at, ends_at, note = SATURDAY_PERIOD
            periods.append(
                OpeningPeriod(
                    site=site, weekday=Weekday.SATURDAY, starts_at=starts_at, ends_at=ends_at, note=note
                )
            )
        OpeningPeriod.objects.bulk_create(periods)
        result.created["opening_periods"] += len(periods)


def _load_staff(
    sites: dict[str, Site], departments: dict[tuple[str, str], Department], result: DemoLoadResult
) -> None:
    existing_usernames = set(User.objects.values_list("username", flat=True))
    existing_staff_numbers = set(User.objects.values_list("staff_number", flat=True))
    # One hash for every demo account: they share one published password anyway, and hashing it
    # forty times with the production work factor would make every `make run` wait for seconds.
    password_hash = make_password(DEMO_PASSWORD)
    now = timezone.now()
    for demo in STAFF:
        if demo.username in existing_usernames:
            continue
        if demo.staff_number in existing_staff_numbers:
            result.skipped_usernames.append(demo.username)
            continue
        site = sites[demo.site_code]
        department = departments.get((demo.site_code, demo.department_code)) if demo.department_code else None
        if department is not None and department.site_id != site.pk:
            department = None
        user = User.objects.create(
            username=demo.username,
            password=password_hash,
            full_name=demo.full_name,
            staff_number=demo.staff_number,
            site=site,
            department=department,
            rank=demo.rank,
            mobile_phone=demo.mobile_phone,
            resident_id=demo.resident_id,
            date_joined=now,
            password_changed_at=now,
        )
        RoleGrant.objects.bulk_create(
            RoleGrant(site=site, user=user, role=role, granted_at=now) for role in demo.roles
        )
        result.created["staff"] += 1
        result.created["role_grants"] += len(demo.roles)
        if set(demo.roles) & ADMINISTRATOR_POSTS:
            TOTPDevice.objects.create(user=user, name=DEMO_DEVICE_NAME, confirmed=True)
            result.created["totp_devices"] += 1


@dataclass(frozen=True)
class DemoLogin:
    username: str
    full_name: str
    roles: list[str]
    site_name: str
    totp_secret: str


def demo_logins() -> list[DemoLogin]:
    """The demo accounts as they are now in the database, in the order of the demo roster."""
    users = {
        user.username: user
        for user in User.objects.filter(username__in=[demo.username for demo in STAFF])
        .select_related("site")
        .prefetch_related("role_grants")
    }
    devices = {
        device.user_id: device
        for device in TOTPDevice.objects.filter(user__in=users.values(), confirmed=True).order_by("id")
    }
    logins = []
    for demo in STAFF:
        user = users.get(demo.username)
        if user is None:
            continue
        held = {grant.role for grant in user.role_grants.all()}
        device = devices.get(user.pk)
        logins.append(
            DemoLogin(
                username=user.username,
                full_name=user.full_name,
                roles=[str(role.label) for role in Role if role.value in held],
                site_name=user.site.name,
                totp_secret=base32_secret(device) if device is not None else "",
            )
        )
    return logins


def base32_secret(device: TOTPDevice) -> str:
    """The key as authenticator apps expect it to be typed in."""
    return b32encode(device.bin_key).decode("ascii").rstrip("=")


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(character) in "WF" else 1 for character in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def format_table(headers: Iterable[str], rows: Iterable[Iterable[str]]) -> list[str]:
    header_cells = list(headers)
    body = [list(row) for row in rows]
    widths = [
        max(display_width(row[column]) for row in [header_cells, *body])
        for column in range(len(header_cells))
    ]
    lines = ["  ".join(_pad(cell, width) for cell, width in zip(header_cells, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * width for width in widths))
    lines += [
        "  ".join(_pad(cell, width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in body
    ]
    return lines


def login_sheet(logins: list[DemoLogin]) -> str:
    """What `servicehall demo` prints: who can log in, with which password and second factor."""
    lines = ["演示账户 / demo logins:", ""]
    lines += format_table(
        ["登录名 / username", "姓名 / name", "角色 / roles", "场所 / site"],
        ([login.username, login.full_name, "、".join(login.roles), login.site_name] for login in logins),
    )
    lines += ["", f"所有演示账户的密码 / password of every demo account: {DEMO_PASSWORD}"]
    administrators = [login for login in logins if login.totp_secret]
    if administrators:
        lines += [
            "",
            "管理员账户须输入动态验证码（TOTP）；把密钥添加到身份验证器，"
            "或运行命令查看当前验证码 / administrator accounts need a TOTP code: add the secret to an "
            "authenticator app, or run the command shown:",
        ]
        width = max(display_width(login.username) for login in administrators)
        lines += [
            f"  {_pad(login.username, width)}  密钥 / secret: {login.totp_secret}"
            f"  或运行 / or run: .venv/bin/servicehall demo-otp {login.username}"
            for login in administrators
        ]
    present = {login.username for login in logins}
    suggestions = [f"{role.label} {username}" for role, username in SUGGESTED_LOGINS if username in present]
    if suggestions:
        lines += ["", "建议先试 / suggested logins: " + "，".join(suggestions)]
    if "lai.zhihong" in present:
        lines += [
            "好差评与差评整改的演示数据在三角镇：窗口负责人 lai.zhihong / the ratings and 差评 rectification "
            "demo is at 三角镇: log in as its window supervisor lai.zhihong"
        ]
    return "\n".join(lines)


class DemoAccountError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def current_totp_code(username: str, now: float | None = None) -> tuple[str, int]:
    """The 6-digit code of the account's confirmed authenticator right now, and seconds until it changes."""
    user = User.objects.filter(username=username).first()
    if user is None:
        raise DemoAccountError("未找到该登录名的账户 / no account with that username")
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()
    if device is None:
        raise DemoAccountError("该账户未绑定身份验证器 / that account has no confirmed authenticator")
    moment = time.time() if now is None else now
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = moment
    remaining = device.step - int(moment - device.t0) % device.step
    return str(totp.token()).zfill(device.digits), remaining
