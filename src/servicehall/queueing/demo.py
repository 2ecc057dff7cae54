"""Demo queues for the demo centre: categories linked to the windows of operations.demo, and a few
visitors waiting today so the kiosk, display, counter and monitor have something to show.

Idempotent: a category is created only if its site has no category with that prefix; tickets are
added only to a site with no ticket today. Existing rows are never changed.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from servicehall.catalog.models import ItemWindow
from servicehall.queueing import actions
from servicehall.queueing.models import Category, CategoryWindow, Lane, Ticket, TicketChannel
from servicehall.sites.models import Site, Window

ELDERLY_AND_MORE = ["elderly", "disabled", "pregnant", "military"]

# (site code, prefix, name, calling window numbers, standby window numbers)
CATEGORIES: tuple[tuple[str, str, str, tuple[int, ...], tuple[int, ...]], ...] = (
    ("ZS-CITY", "A", "综合受理（无差别）", (4, 16), (15,)),
    ("ZS-CITY", "B", "人社业务", (5,), (15,)),
    ("ZS-CITY", "C", "社保业务", (6, 16), (15,)),
    ("ZS-CITY", "D", "户政出入境", (7, 8), ()),
    ("ZS-CITY", "E", "交警业务", (9,), ()),
    ("ZS-CITY", "F", "市场主体登记", (10,), (15,)),
    ("ZS-CITY", "G", "不动产登记", (11,), ()),
    ("ZS-CITY", "H", "税务业务", (12,), ()),
    ("ZS-CITY", "J", "医保业务", (13,), ()),
    ("ZS-CITY", "K", "公积金业务", (14,), ()),
    ("ZS-SANJIAO", "A", "综合业务", (2,), ()),
    ("ZS-SANJIAO", "B", "社保医保", (3,), (2,)),
    ("ZS-SANJIAO", "C", "户政业务", (4,), ()),
    ("ZS-DONGQU", "A", "综合业务", (2,), ()),
    ("ZS-DONGQU", "B", "社保医保", (3,), (2,)),
    ("ZS-SANJIAO-GUANGMING", "A", "综合服务", (1, 2), ()),
    ("ZS-SANJIAO-JIEMIN", "A", "综合服务", (1,), ()),
)

# (site code, prefix, ordinary tickets, priority tickets) waiting today
WAITING: tuple[tuple[str, str, int, int], ...] = (
    ("ZS-CITY", "A", 6, 1),
    ("ZS-CITY", "C", 4, 1),
    ("ZS-CITY", "D", 3, 0),
    ("ZS-CITY", "G", 2, 0),
    ("ZS-SANJIAO", "A", 3, 1),
    ("ZS-DONGQU", "B", 2, 0),
)


def load_demo(stdout: Any) -> None:
    created_categories = 0
    created_tickets = 0
    with transaction.atomic():
        for position, (site_code, prefix, name, calling, standby) in enumerate(CATEGORIES, start=1):
            site = Site.objects.filter(code=site_code).first()
            if site is None or Category.objects.filter(site=site, prefix=prefix).exists():
                continue
            category = Category.objects.create(
                site=site, prefix=prefix, name=name, position=position, priority_groups=ELDERLY_AND_MORE
            )
            windows = {
                window.number: window
                for window in Window.objects.filter(site=site, number__in=calling + standby)
            }
            for number in calling:
                if number in windows:
                    CategoryWindow.objects.create(site=site, category=category, window=windows[number])
            for number in standby:
                if number in windows and number not in calling:
                    CategoryWindow.objects.create(
                        site=site, category=category, window=windows[number], is_standby=True
                    )
            items = ItemWindow.objects.filter(
                window__in=[windows[number] for number in calling if number in windows]
            )
            category.service_items.set({link.item_id for link in items})
            created_categories += 1
        now = timezone.now()
        today = timezone.localdate()
        for site_code, prefix, ordinary, priority in WAITING:
            category = (
                Category.objects.filter(site__code=site_code, prefix=prefix).select_related("site").first()
            )
            if category is None or Ticket.objects.filter(category=category, service_date=today).exists():
                continue
            for index in range(ordinary + priority):
                is_priority = index >= ordinary
                actions._issue(
                    category,
                    today,
                    now,
                    channel=TicketChannel.GUIDE_DESK if is_priority else TicketChannel.KIOSK,
                    lane=Lane.PRIORITY if is_priority else Lane.ORDINARY,
                    priority_group="elderly" if is_priority else "",
                )
                created_tickets += 1
    if created_categories or created_tickets:
        stdout.write(
            f"已载入排队叫号演示数据 / queueing demo loaded: categories {created_categories}, tickets {created_tickets}"
        )
