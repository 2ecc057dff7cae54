"""Inspections (明察暗访): the checklist is data, photos are checked, deductions record violations."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from servicehall.lib.errors import ActionRefused
from servicehall.supervision import actions
from servicehall.supervision.models import ChecklistItem, Inspection, InspectionPhoto, Violation
from servicehall.supervision.tally import inspection_results

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }


def test_the_checklist_is_seeded_from_the_seeds() -> None:
    assert list(ChecklistItem.objects.values_list("title", flat=True)) == [
        "挂牌上岗",
        "着装",
        "坐姿站姿",
        "文明用语",
        "工作纪律（八不）",
        "卫生三包",
        "桌面整洁",
        "一次性告知",
        "安全",
    ]
    assert all(item.deduction > 0 for item in ChecklistItem.objects.all())


def test_a_social_supervisor_records_findings_that_become_violations(
    social_supervisor, town_site, window, clerk
) -> None:
    badge = ChecklistItem.objects.get(code="badge")
    desk = ChecklistItem.objects.get(code="desk")
    inspection = actions.record_inspection(
        social_supervisor,
        town_site,
        mode="covert",
        window=window,
        findings=[
            actions.FindingData(badge, 2, clerk, "未佩戴工作牌"),
            actions.FindingData(desk, 1, None, "桌面有私人物品"),
        ],
        photos=[SimpleUploadedFile("badge.png", PNG, content_type="image/png")],
    )
    assert inspection.total_deduction == 3
    assert InspectionPhoto.objects.get().size == len(PNG)
    staff_violation = Violation.objects.get(staff=clerk)
    assert (staff_violation.source, staff_violation.points) == ("inspection", 2)
    # The window's department answers for the finding without a named staff member.
    assert Violation.objects.get(department=window.department).points == 1
    results = inspection_results({town_site.pk})
    assert results["by_staff"][0]["deduction"] == 2
    assert results["by_window"][0]["deduction"] == 3


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("evil.exe", b"MZ", "照片只能是 JPG 或 PNG 格式。"),
        ("fake.png", b"GIF89a" + b"0" * 10, "照片内容与扩展名不符。"),
        ("big.png", PNG + b"0" * (5 * 1024 * 1024), "每张照片不能超过 5 MB。"),
    ],
)
def test_bad_photos_are_refused_and_nothing_is_recorded(
    social_supervisor, town_site, tmp_path, name, content, message
) -> None:
    with pytest.raises(ActionRefused) as refused:
        actions.record_inspection(
            social_supervisor, town_site, mode="open", findings=[], photos=[SimpleUploadedFile(name, content)]
        )
    assert refused.value.message == message
    assert Inspection.objects.count() == 0
    assert not any(tmp_path.rglob("*.*"))


def test_a_deduction_above_the_item_maximum_is_refused(social_supervisor, town_site) -> None:
    badge = ChecklistItem.objects.get(code="badge")
    with pytest.raises(ActionRefused):
        actions.record_inspection(
            social_supervisor, town_site, mode="open", findings=[actions.FindingData(badge, 50)]
        )
    assert Inspection.objects.count() == 0


def test_a_clerk_cannot_inspect(clerk, town_site) -> None:
    with pytest.raises(ActionRefused):
        actions.record_inspection(clerk, town_site, mode="open", findings=[])
    assert Inspection.objects.count() == 0
