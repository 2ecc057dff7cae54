"""Demo cases for the demo centre: a handful in different states, one yellow and one red, and inquiries.

Idempotent: each demo case has a fixed number (DEMO…) and is created only when missing. The cases are
made through ``cases.actions`` with the clock set back, so their history reads as real work. When the
catalogue has no demo items yet, a few are created with codes starting DEMO-.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TextIO

from django.db import transaction
from django.utils import timezone

from servicehall.accounts.models import User
from servicehall.cases import actions, clock
from servicehall.cases.models import Case, Inquiry, ItemCaseSetting
from servicehall.catalog.models import ItemType, Material, ProcessStep, ServiceItem
from servicehall.lib.identity import resident_id_check_character, unified_social_credit_code_check_character
from servicehall.sites.models import Department, Site
from servicehall.workdays import service as workdays

CITY_CODE = "ZS-CITY"


def _resident_id(sequence: int) -> str:
    first_seventeen = f"44200019{80 + sequence % 20:02d}0612{100 + sequence:03d}"
    return first_seventeen + resident_id_check_character(first_seventeen)


def _credit_code(sequence: int) -> str:
    first_seventeen = f"91442000MA5{sequence:06d}"
    return first_seventeen + unified_social_credit_code_check_character(first_seventeen)


def _working_days_before(day: dt.date, count: int) -> dt.date:
    while count > 0:
        day -= dt.timedelta(days=1)
        if workdays.is_working_day(day):
            count -= 1
    return day


def _at(day: dt.date, hour: int = 10) -> Any:
    return clock.frozen(timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0))))


def _item(code: str, department: Department, **fields: Any) -> ServiceItem:
    item = ServiceItem.objects.filter(code=code).first()
    if item is not None:
        return item
    materials = fields.pop("materials")
    item = ServiceItem.objects.create(site=department.site, department=department, code=code, **fields)
    for position, (name, mandatory, deferrable, notes) in enumerate(materials, start=1):
        Material.objects.create(
            site=item.site,
            item=item,
            position=position,
            name=name,
            is_mandatory=mandatory,
            is_deferrable=deferrable,
            notes=notes,
        )
    for position, name in enumerate(("窗口受理", "部门审查", "作出决定", "送达"), start=1):
        ProcessStep.objects.create(site=item.site, item=item, position=position, name=name)
    return item


def _demo_items(departments: dict[str, Department]) -> dict[str, ServiceItem]:
    items = {
        "rs": _item(
            "DEMO-RS-001",
            departments["RS"],
            name="失业保险金申领（演示）",
            item_type=ItemType.COMMITTED,
            statutory_limit_days=20,
            committed_limit_days=5,
            conditions="在本市参加失业保险，非本人意愿中断就业，已办理失业登记并有求职要求。",
            legal_basis="《失业保险条例》第十四条",
            delivery_by_cabinet=True,
            materials=[
                ("居民身份证", True, False, "原件核验"),
                ("失业保险金申领表", True, False, "本人签名"),
                ("解除或终止劳动合同证明", True, True, "加盖单位公章"),
                ("本人银行卡复印件", False, False, ""),
            ],
        ),
        "ga": _item(
            "DEMO-GA-001",
            departments["GA"],
            name="户籍证明开具（演示）",
            item_type=ItemType.IMMEDIATE,
            statutory_limit_days=0,
            committed_limit_days=0,
            legal_basis="《户口登记条例》",
            materials=[("居民身份证", True, False, "原件核验")],
        ),
        "joint": _item(
            "DEMO-LB-001",
            departments["SJ"],
            name="企业开办（联办，演示）",
            item_type=ItemType.JOINT,
            statutory_limit_days=20,
            committed_limit_days=8,
            deemed_approval_on_timeout=True,
            conditions="名称已自主申报，住所真实有效。",
            legal_basis="《市场主体登记管理条例》",
            delivery_by_post=True,
            materials=[
                ("设立登记申请书", True, False, "法定代表人签字"),
                ("公司章程", True, False, "全体股东签署"),
                ("住所使用证明", True, True, "租赁合同或产权证明"),
            ],
        ),
    }
    ItemCaseSetting.objects.get_or_create(
        item=items["rs"], defaults={"site_id": items["rs"].site_id, "statutory_extension_days": 10}
    )
    ItemCaseSetting.objects.get_or_create(
        item=items["joint"], defaults={"site_id": items["joint"].site_id, "statutory_extension_days": 10}
    )
    return items


def _received(case: Case, *missing: str) -> list[actions.MaterialUpdate]:
    return [
        actions.MaterialUpdate(check.pk, "missing" if check.name in missing else "received")
        for check in case.material_checks.all()
    ]


def _open(clerk: User, item: ServiceItem, sequence: int, number: str, *, organisation: bool = False) -> Case:
    if organisation:
        applicant = actions.ApplicantData(
            kind="organisation",
            name=f"中山市演示科技有限公司{sequence}",
            id_number=_credit_code(sequence),
            phone=f"1390000{sequence:04d}",
            agent_name="梁经办",
        )
    else:
        applicant = actions.ApplicantData(
            kind="person",
            name=("陈", "黄", "梁", "何", "吴")[sequence % 5] + "演示",
            id_number=_resident_id(sequence),
            phone=f"1380000{sequence:04d}",
        )
    case = actions.open_case(clerk, item, applicant)
    Case.objects.filter(pk=case.pk).update(number=number)
    case.number = number
    return case


def _refresh(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


def load_demo(stdout: TextIO) -> None:
    city = Site.objects.filter(code=CITY_CODE).first()
    staff = {
        user.username: user
        for user in User.objects.filter(
            username__in=["wang.qiang", "jian.hui", "ye.qing", "chen.jing", "li.na", "su.wenjie"]
        )
    }
    if city is None or len(staff) < 6:
        stdout.write(
            "演示办件：未找到演示中心或演示人员，跳过 / demo cases skipped: demo centre not loaded\n"
        )
        return
    departments = {department.code: department for department in Department.objects.filter(site=city)}
    if not {"RS", "GA", "SJ"} <= set(departments):
        stdout.write("演示办件：演示部门不全，跳过 / demo cases skipped: departments missing\n")
        return
    today = clock.today()
    created = 0
    with transaction.atomic():
        items = _demo_items(departments)
        clerk, approver = staff["wang.qiang"], staff["jian.hui"]
        business_clerk, business_approver = staff["su.wenjie"], staff["ye.qing"]

        def draft(number: str) -> None:
            with _at(today, 9):
                _open(clerk, items["rs"], 1, number)

        def supplement(number: str) -> None:
            with _at(today, 9):
                case = _open(clerk, items["rs"], 2, number)
                actions.request_supplement(
                    clerk, case, case.version, updates=_received(case, "失业保险金申领表")
                )

        def green(number: str) -> None:
            with _at(today, 9):
                case = _open(clerk, items["rs"], 3, number)
                actions.accept(clerk, case, case.version, updates=_received(case))

        def yellow(number: str) -> None:
            with _at(_working_days_before(today, 4)):
                case = _open(clerk, items["rs"], 4, number)
                actions.accept(clerk, case, case.version, updates=_received(case))

        def red(number: str) -> None:
            with _at(_working_days_before(today, 8)):
                case = _open(clerk, items["rs"], 5, number)
                actions.accept(clerk, case, case.version, updates=_received(case))
                case = _refresh(case)
                actions.start_approval(
                    clerk, case, case.version, "sequential", [actions.TaskPlan(departments["RS"].pk, 3)]
                )

        def parallel(number: str) -> None:
            with _at(_working_days_before(today, 2)):
                case = _open(business_clerk, items["joint"], 6, number, organisation=True)
                actions.accept(business_clerk, case, case.version, updates=_received(case))
                case = _refresh(case)
                actions.start_approval(
                    business_clerk,
                    case,
                    case.version,
                    "parallel",
                    [actions.TaskPlan(departments["SJ"].pk, 5), actions.TaskPlan(departments["RS"].pk, 5)],
                )
            with _at(_working_days_before(today, 1)):
                task = case.approval_tasks.get(department=departments["SJ"])
                actions.decide_task(business_approver, task, task.version, True, "材料齐全，同意。")

        def deferred(number: str) -> None:
            with _at(_working_days_before(today, 1)):
                case = _open(clerk, items["rs"], 7, number)
                actions.accept_with_deferred(
                    clerk, case, case.version, 3, updates=_received(case, "解除或终止劳动合同证明")
                )

        def delivered(number: str) -> None:
            with _at(_working_days_before(today, 5)):
                case = _open(clerk, items["rs"], 8, number)
                actions.accept(clerk, case, case.version, updates=_received(case))
                case = _refresh(case)
                actions.start_approval(
                    clerk, case, case.version, "sequential", [actions.TaskPlan(departments["RS"].pk, 3)]
                )
            with _at(_working_days_before(today, 3)):
                task = case.approval_tasks.get()
                actions.decide_task(approver, task, task.version, True, "符合条件。")
                case = _refresh(case)
                actions.complete(clerk, case, case.version, "核定失业保险金 12 个月。")
                case = _refresh(case)
                actions.deliver(clerk, case, case.version, "cabinet")

        def immediate(number: str) -> None:
            with _at(today, 9):
                case = _open(staff["wang.qiang"], items["ga"], 9, number)
                actions.accept(clerk, case, case.version, updates=_received(case))
                case = _refresh(case)
                actions.decide_case(clerk, case, case.version, True, "")
                case = _refresh(case)
                actions.complete(clerk, case, case.version, "当场出具户籍证明。")

        def not_accepted(number: str) -> None:
            with _at(today, 9):
                case = _open(clerk, items["rs"], 10, number)
                actions.refuse(
                    clerk,
                    case,
                    case.version,
                    "申请人已按月领取养老保险待遇，不属于失业保险金领取范围。",
                    "《失业保险条例》第十五条",
                )

        recipes: list[tuple[str, Callable[[str], None]]] = [
            ("DEMO00000001", draft),
            ("DEMO00000002", supplement),
            ("DEMO00000003", green),
            ("DEMO00000004", yellow),
            ("DEMO00000005", red),
            ("DEMO00000006", parallel),
            ("DEMO00000007", deferred),
            ("DEMO00000008", delivered),
            ("DEMO00000009", immediate),
            ("DEMO00000010", not_accepted),
        ]
        for number, recipe in recipes:
            if not Case.objects.filter(number=number).exists():
                recipe(number)
                created += 1
        if not Inquiry.objects.filter(question__startswith="【演示】").exists():
            inquiry = actions.record_inquiry(
                staff["li.na"],
                actions.InquiryData(
                    channel="onsite",
                    asker_name="周演示",
                    asker_contact="13800009999",
                    item_id=items["rs"].pk,
                    question="【演示】失业金怎么申领？需要带什么材料？",
                    answer="告知了申领条件、所需材料、办理窗口（5号窗口）和办结时限（5个工作日）。",
                ),
            )
            actions.refer_inquiry(
                staff["li.na"],
                inquiry,
                inquiry.version,
                actions.ReferralData(
                    kind="transfer", reason="需人社部门核实参保记录", to_department_id=departments["RS"].pk
                ),
            )
            created += 1
    if created:
        stdout.write(f"已载入演示办件 / demo cases loaded: {created}\n")
