"""一次性告知书, 受理通知书, 不予受理告知书, 办结通知书 as PDF: site name, seal area, CJK fonts, QR code."""

from __future__ import annotations

import re
import zlib

import pytest

from servicehall.cases import actions, documents
from servicehall.cases.models import Notice
from tests.cases.conftest import all_received, fresh, person, received_except

BASE_URL = "http://testserver/"


def embedded_fonts(pdf: bytes) -> set[str]:
    """Font names of the embedded font programs (the PDF keeps its objects in compressed streams)."""
    names: set[str] = set()
    for match in re.finditer(rb"stream\r?\n", pdf):
        end = pdf.find(b"endstream", match.end())
        try:
            data = zlib.decompress(pdf[match.end() : end])
        except zlib.error:
            continue
        if b"/FontFile" in data:
            names |= {name.decode() for name in re.findall(rb"/FontName\s*/([A-Za-z0-9+\-]+)", data)}
    return names


@pytest.fixture
def notices(clerk, supervisor, committed_item, at):
    with at("2025-09-25"):
        supplement_case = actions.open_case(clerk, committed_item, person())
        one_time = actions.request_supplement(
            clerk, supplement_case, 1, updates=received_except(supplement_case, "劳动合同")
        )
        refused_case = actions.open_case(clerk, committed_item, person(name="李四"))
        not_accepted = actions.refuse(clerk, refused_case, 1, "不属于受理范围", "《失业保险条例》第十四条")
        done_case = actions.open_case(clerk, committed_item, person(name="王五"))
        acceptance = actions.accept(clerk, done_case, 1, updates=all_received(done_case))
        actions.decide_case(supervisor, done_case, 2, True, "")
        completion = actions.complete(clerk, done_case, 3, "核定待遇")
    return {
        "one_time": one_time,
        "acceptance": acceptance,
        "not_accepted": not_accepted,
        "completion": completion,
    }


@pytest.mark.parametrize(
    ("kind", "title", "phrases"),
    [
        (
            "one_time",
            "一次性告知书",
            ["劳动合同", "复印件，2 份", "受理条件", "办理程序", "办理时限", "一次性补齐"],
        ),
        ("acceptance", "受理通知书", ["决定予以受理", "承诺办结期限", "2025年10月9日", "2025年10月29日"]),
        ("not_accepted", "不予受理告知书", ["不属于受理范围", "《失业保险条例》第十四条", "行政复议"]),
        ("completion", "办结通知书", ["已办理完毕", "核定待遇", "窗口领取、邮寄送达、24小时自助文件柜"]),
    ],
)
def test_each_document_names_the_site_has_a_seal_area_a_qr_code_and_only_masked_personal_data(
    notices, clerk, kind, title, phrases
) -> None:
    notice = notices[kind]
    html = documents.render_notice_html(notice, BASE_URL)
    assert f"<h1>{title}</h1>" in html
    assert html.count("三角镇便民服务中心") >= 3
    assert '<div class="seal">三角镇便民服务中心<br>（盖章）</div>' in html
    assert f"经办人：李受理（工号 {clerk.staff_number}）" in html
    for phrase in phrases:
        assert phrase in html
    # The QR code leads to the public status page for this case
    status_url = f"http://testserver/cases/status/?number={notice.case.number}"
    assert status_url in html
    assert 'src="data:image/svg+xml' in html
    # The applicant appears masked only
    case = notice.case
    assert case.applicant_id_number not in html
    assert case.applicant_phone not in html
    assert case.masked_applicant_id_number in html
    assert case.masked_applicant_name in html


@pytest.mark.parametrize("kind", ["one_time", "acceptance", "not_accepted", "completion"])
def test_the_pdf_embeds_the_chinese_font(notices, kind) -> None:
    pdf = documents.render_notice_pdf(notices[kind], BASE_URL)
    assert pdf.startswith(b"%PDF-")
    fonts = embedded_fonts(pdf)
    assert fonts
    assert all(re.fullmatch(r"[A-Z]{6}\+Noto-Serif-CJK-SC(-Bold)?", name) for name in fonts), fonts


def test_pdf_download_page(client_for, clerk, notices) -> None:
    notice = notices["acceptance"]
    response = client_for(clerk).get(f"/cases/{notice.case_id}/notices/{notice.pk}.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert (
        response["Content-Disposition"]
        == f'inline; filename="{notice.case.number}-{notice.sequence:02d}-acceptance.pdf"'
    )
    assert response.content.startswith(b"%PDF-")


def test_pdf_of_another_sites_case_is_not_found(client_for, other_site_clerk, notices) -> None:
    notice = notices["acceptance"]
    response = client_for(other_site_clerk).get(f"/cases/{notice.case_id}/notices/{notice.pk}.pdf")
    assert response.status_code == 404


def test_a_notice_of_another_case_is_not_served_under_this_case(client_for, clerk, notices) -> None:
    other = Notice.objects.exclude(case=notices["acceptance"].case).first()
    response = client_for(clerk).get(f"/cases/{notices['acceptance'].case_id}/notices/{other.pk}.pdf")
    assert response.status_code == 404
    assert fresh(notices["acceptance"].case).state == "completed"
