"""Interface language: a signed-in person sees the language of their profile; changing it is audited."""

from __future__ import annotations

import pytest
from django.test import Client

from servicehall.accounts.models import User
from servicehall.audit.models import AuditRecord
from tests.accounts.conftest import assert_nothing_changed, log_in, state


def html_lang(response) -> str:
    return response.content.decode().split('<html lang="', 1)[1].split('"', 1)[0]


@pytest.mark.parametrize(("language", "lang_attribute"), [("en", "en"), ("zh-hans", "zh-CN")])
def test_pages_follow_the_language_of_the_profile(
    clerk: User, client_for, language: str, lang_attribute: str
) -> None:
    User.objects.filter(pk=clerk.pk).update(language=language)
    client = client_for(clerk)
    for page in ["/", "/accounts/profile/", "/accounts/password/"]:
        response = client.get(page)
        assert response.status_code == 200
        request_language = response.wsgi_request.LANGUAGE_CODE
        assert request_language == language
        assert html_lang(response) == lang_attribute
        assert response["Content-Language"] == language


def test_the_profile_language_wins_over_the_browser(clerk: User, client_for) -> None:
    User.objects.filter(pk=clerk.pk).update(language="en")
    response = client_for(clerk).get("/", headers={"Accept-Language": "zh-CN"})
    assert response.wsgi_request.LANGUAGE_CODE == "en"


def test_the_login_page_follows_the_browser_before_login(db: None) -> None:
    english = Client().get("/accounts/login/", headers={"Accept-Language": "en"})
    chinese = Client().get("/accounts/login/", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert html_lang(english) == "en"
    assert html_lang(chinese) == "zh-CN"


def test_logging_in_switches_to_the_profile_language(clerk: User) -> None:
    User.objects.filter(pk=clerk.pk).update(language="en")
    client = Client()
    assert log_in(client, "clerk").status_code == 302
    response = client.get("/", headers={"Accept-Language": "zh-CN"})
    assert response.wsgi_request.LANGUAGE_CODE == "en"
    assert html_lang(response) == "en"


def test_changing_the_language_in_the_profile_is_audited(clerk: User, client_for) -> None:
    client = client_for(clerk)
    response = client.post("/accounts/profile/", {"language": "en"})
    assert response.status_code == 302
    clerk.refresh_from_db()
    assert clerk.language == "en"
    changed = AuditRecord.objects.get(action="accounts.language_changed")
    assert changed.actor == clerk
    assert changed.before == {"language": "zh-hans"}
    assert changed.after == {"language": "en"}
    assert html_lang(client.get("/")) == "en"
    # Saving the same language again changes nothing and records nothing
    client.post("/accounts/profile/", {"language": "en"})
    assert AuditRecord.objects.filter(action="accounts.language_changed").count() == 1


def test_the_top_bar_switcher_changes_the_profile_too(clerk: User, client_for) -> None:
    client = client_for(clerk)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/profile/"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/profile/"
    clerk.refresh_from_db()
    assert clerk.language == "en"
    assert AuditRecord.objects.get(action="accounts.language_changed").after == {"language": "en"}
    assert html_lang(client.get("/")) == "en"


def test_the_top_bar_switcher_refuses_unknown_languages_and_forged_posts(clerk: User, client_for) -> None:
    client = client_for(clerk)
    before = state()
    client.post("/i18n/setlang/", {"language": "xx", "next": "/"})
    assert_nothing_changed(before)
    forged = Client(enforce_csrf_checks=True)
    forged.cookies = client.cookies
    assert forged.post("/i18n/setlang/", {"language": "en", "next": "/"}).status_code == 403
    assert_nothing_changed(before)


def test_anonymous_switching_only_sets_the_cookie(db: None) -> None:
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert not AuditRecord.objects.exists()
    assert html_lang(client.get("/accounts/login/")) == "en"
