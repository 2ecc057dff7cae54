"""Public pages: the complaint form, the lookup (status only), and the satisfaction survey with its tally."""

from __future__ import annotations

import re

import pytest

from servicehall.lib.errors import NotFound
from servicehall.supervision import actions
from servicehall.supervision.models import Complaint, SurveyResponse
from servicehall.supervision.tally import survey_tally

pytestmark = pytest.mark.django_db


def submit(client, site, **fields):
    return client.post(
        "/supervision/public/complaint/",
        {
            "site": site.pk,
            "kind": "complaint",
            "content": "等候时间过长，窗口人员玩手机。",
            "complainant_phone": "13912345678",
        }
        | fields,
    )


def test_a_citizen_submits_a_complaint_and_follows_it(citizen_client, town_site, handler) -> None:
    response = submit(citizen_client, town_site)
    assert response.status_code == 200
    complaint = Complaint.objects.get()
    page = response.content.decode()
    code = re.search(r"查询码：<strong class=\"mono\">(\d{6})</strong>", page).group(1)
    assert complaint.number in page
    assert (complaint.channel, complaint.recorded_by) == ("web", None)
    actions.start_investigation(handler, complaint)
    lookup = citizen_client.post(
        "/supervision/public/lookup/", {"number": complaint.number, "check_code": code}
    )
    text = lookup.content.decode()
    assert lookup.status_code == 200
    assert "正在调查核实" in text
    for private in ("13912345678", "139****5678", handler.full_name, "玩手机"):
        assert private not in text


def test_a_wrong_check_code_is_a_404_and_attempts_are_limited(citizen_client, town_site) -> None:
    submit(citizen_client, town_site)
    complaint = Complaint.objects.get()
    statuses = [
        citizen_client.post(
            "/supervision/public/lookup/", {"number": complaint.number, "check_code": "000000x"}
        ).status_code
        for _attempt in range(6)
    ]
    assert statuses == [404, 404, 404, 404, 404, 429]


def test_a_public_complaint_with_no_content_is_a_400_and_nothing_is_stored(citizen_client, town_site) -> None:
    response = submit(citizen_client, town_site, content="  ")
    assert response.status_code == 400
    assert "投诉内容不能为空。" in response.content.decode()
    assert Complaint.objects.count() == 0


def test_the_public_cannot_pick_a_staff_only_channel(citizen_client, town_site) -> None:
    submit(citizen_client, town_site, channel="hotline_12345")
    assert Complaint.objects.get().channel == "web"


def answers(overall: str = "5") -> dict[str, str]:
    return {
        "attitude": "5",
        "appearance": "4",
        "efficiency": "3",
        "notice": "5",
        "environment": "4",
        "integrity": "no",
        "overall": overall,
        "suggestion": "希望增加午间服务。",
    }


def test_a_published_survey_is_filled_in_without_login_and_tallied_per_quarter(
    citizen_client, client_for, supervisor, town_site
) -> None:
    survey = actions.create_survey(supervisor, town_site, "2026 年第四季度满意度调查")
    assert citizen_client.get(f"/supervision/public/survey/{survey.pk}/").status_code == 404
    actions.set_survey_published(supervisor, survey, True)
    assert citizen_client.get(f"/supervision/public/survey/{survey.pk}/").status_code == 200
    assert citizen_client.post(f"/supervision/public/survey/{survey.pk}/", answers("5")).status_code == 200
    assert citizen_client.post(f"/supervision/public/survey/{survey.pk}/", answers("2")).status_code == 200
    incomplete = citizen_client.post(f"/supervision/public/survey/{survey.pk}/", answers() | {"overall": ""})
    assert incomplete.status_code == 400
    response = SurveyResponse.objects.first()
    assert SurveyResponse.objects.count() == 2
    tally = survey_tally(town_site.pk, response.year, response.quarter)
    overall = next(row for row in tally["rows"] if row["question"].code == "overall")
    assert (tally["responses"], overall["answered"], overall["satisfaction_rate"]) == (2, 2, 50.0)
    assert tally["comments"] == ["希望增加午间服务。", "希望增加午间服务。"]
    page = (
        client_for(supervisor)
        .get(f"/supervision/surveys/?year={response.year}&quarter={response.quarter}")
        .content.decode()
    )
    assert "满意率 50.0%" in page


def test_a_survey_of_another_site_is_not_tallied_here(
    supervisor, town_site, other_supervisor, other_town_site
) -> None:
    survey = actions.create_survey(other_supervisor, other_town_site, "黄圃镇调查")
    survey = actions.set_survey_published(other_supervisor, survey, True)
    actions.submit_survey(survey, answers())
    response = SurveyResponse.objects.get()
    assert survey_tally(town_site.pk, response.year, response.quarter)["responses"] == 0
    with pytest.raises(NotFound):
        actions.set_survey_published(supervisor, survey, False)
    survey.refresh_from_db()
    assert survey.is_published
