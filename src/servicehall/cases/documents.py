"""The documents handed to the applicant, as PDF: 一次性告知书, 受理通知书, 不予受理告知书, 办结通知书.

Seed 000 一次性告知制 2 (填写一次性告知书，详细写明应提交的所有材料及要求，并加盖印章) and 3 (不予受理的理由):
each carries the site's name, a seal area, the issuing clerk's name and staff number (工作人员身份公开),
Chinese fonts embedded (Debian's fonts-noto-cjk), and a QR code to the public status page. The
applicant appears masked, as everywhere else.
"""

from __future__ import annotations

from urllib.parse import urlencode

import segno
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from servicehall.cases.models import Notice, NoticeKind

# Serif for the body as official documents use; fontconfig finds the installed Noto CJK families.
FONT_FAMILIES = '"Noto Serif CJK SC", "Noto Sans CJK SC", "Source Han Serif SC", serif'


def status_url(base_url: str, case_number: str) -> str:
    return f"{base_url.rstrip('/')}{reverse('cases:public_status')}?{urlencode({'number': case_number})}"


def qr_data_uri(url: str) -> str:
    return segno.make(url, error="m").svg_data_uri(scale=3, border=1)


def render_notice_html(notice: Notice, base_url: str) -> str:
    case = notice.case
    url = status_url(base_url, case.number)
    return render_to_string(
        "cases/documents/notice.html",
        {
            "notice": notice,
            "case": case,
            "site": case.site,
            "items": list(notice.items.all()),
            "kind": notice.kind,
            "kinds": NoticeKind,
            "status_url": url,
            "qr": qr_data_uri(url),
            "font_families": FONT_FAMILIES,
            "issued_on": timezone.localdate(notice.issued_at),
            "centre_name": settings.SERVICEHALL_CENTRE_NAME,
        },
    )


def render_notice_pdf(notice: Notice, base_url: str) -> bytes:
    """The notice as a PDF; WeasyPrint embeds the subset of the CJK font the text uses."""
    from weasyprint import HTML

    return HTML(string=render_notice_html(notice, base_url), base_url=base_url).write_pdf()


def filename(notice: Notice) -> str:
    return f"{notice.case.number}-{notice.sequence:02d}-{notice.kind}.pdf"
