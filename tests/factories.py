"""Factories for test data: a realistic site tree, departments, windows and staff with roles."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from servicehall.accounts.models import RoleGrant, User
from servicehall.lib.identity import resident_id_check_character
from servicehall.sites.models import Department, OpeningPeriod, Site, SiteLevel, Window, WindowPost

TEST_PASSWORD = "Window#Service2026"


def resident_id(sequence: int, birth: str = "19900307") -> str:
    first_seventeen = f"442000{birth}{sequence % 1000:03d}"
    return first_seventeen + resident_id_check_character(first_seventeen)


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda number: f"S{number:04d}")
    name = factory.Sequence(lambda number: f"测试政务服务中心{number}")
    level = SiteLevel.CITY
    parent = None
    supervision_phone = "0760-12345"


class TownSiteFactory(SiteFactory):
    level = SiteLevel.TOWN
    name = factory.Sequence(lambda number: f"测试镇便民服务中心{number}")
    parent = factory.SubFactory(SiteFactory)


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    site = factory.SubFactory(SiteFactory)
    code = factory.Sequence(lambda number: f"D{number:03d}")
    name = factory.Sequence(lambda number: f"进驻部门{number}")


class WindowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Window

    site = factory.SubFactory(SiteFactory)
    number = factory.Sequence(lambda number: number + 1)
    name = factory.Sequence(lambda number: f"综合窗口{number}")


class WindowPostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WindowPost

    window = factory.SubFactory(WindowFactory)
    site = factory.LazyAttribute(lambda post: post.window.site)
    kind = "reception"


class OpeningPeriodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OpeningPeriod

    site = factory.SubFactory(SiteFactory)
    weekday = 1
    starts_at = dt.time(9, 0)
    ends_at = dt.time(12, 0)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda number: f"staff{number}")
    full_name = factory.Sequence(lambda number: f"工作人员{number}")
    staff_number = factory.Sequence(lambda number: f"T{number:05d}")
    site = factory.SubFactory(SiteFactory)
    mobile_phone = factory.Sequence(lambda number: f"138{number % 100000000:08d}")
    resident_id = factory.Sequence(resident_id)
    password_changed_at = factory.LazyFunction(timezone.now)
    password = factory.django.Password(TEST_PASSWORD)

    @factory.post_generation
    def roles(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        if create and extracted:
            for role in extracted:
                RoleGrant.objects.create(site=self.site, user=self, role=role)
            self.forget_cached_roles()
