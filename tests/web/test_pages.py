"""Error pages are clear and Chinese first, assets are served locally, personal data stays out of logs."""

from __future__ import annotations

import logging
import re

import pytest
from django.test import Client

from servicehall.audit.models import AuditRecord

PAGES = ["/accounts/login/", "/"]


def test_unknown_page_is_a_clear_404_not_a_stack_trace(client_for, clerk) -> None:
    response = client_for(clerk).get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "页面不存在" in body
    assert "Traceback" not in body


def test_anonymous_visitor_is_sent_to_login(citizen_client: Client) -> None:
    response = citizen_client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_health_endpoint_reports_database(citizen_client: Client) -> None:
    response = citizen_client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_pages_load_only_local_assets(citizen_client: Client) -> None:
    body = citizen_client.get("/accounts/login/").content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', body)
    external = [source for source in sources if source.startswith(("http://", "https://", "//"))]
    assert external == []
    assert "/static/vendor/htmx.min.js" in sources
    assert "/static/css/app.css" in sources


def test_htmx_asset_is_served_by_the_project(citizen_client: Client) -> None:
    from django.contrib.staticfiles import finders

    path = finders.find("vendor/htmx.min.js")
    if path is None:
        pytest.fail("vendor/htmx.min.js missing: run `make assets` (make install does it)")
    with open(path, encoding="utf-8") as asset:
        assert "htmx" in asset.read(2000)


def test_server_error_page_hides_details_and_personal_data(client_for, clerk, settings) -> None:
    # Given a view that fails with a resident ID and a phone number in its error message
    import io

    from django.urls import path

    from servicehall.config import urls as project_urls

    def failing_view(request):
        raise RuntimeError("boom while handling 44200019900307123X and 13812345678")

    urlpatterns = [path("boom/", failing_view), *project_urls.urlpatterns]
    module = type("urls", (), {"urlpatterns": urlpatterns, "handler500": project_urls.handler500})
    settings.ROOT_URLCONF = module
    request_logger = logging.getLogger("django.request")
    handler = request_logger.handlers[0]
    captured = io.StringIO()
    original_stream = handler.setStream(captured)
    client = client_for(clerk)
    client.raise_request_exception = False
    try:
        response = client.get("/boom/")
    finally:
        handler.setStream(original_stream)
    # Then the person sees a calm 500 page, and the log has the error but not the raw values
    assert response.status_code == 500
    body = response.content.decode()
    assert "系统出现错误" in body
    assert "44200019900307123X" not in body
    log_text = captured.getvalue()
    assert "boom while handling" in log_text
    assert "4420**********123X" in log_text
    assert "44200019900307123X" not in log_text
    assert "13812345678" not in log_text


def test_refused_page_access_is_audited(client_for, clerk) -> None:
    before = AuditRecord.objects.filter(action="access.denied").count()
    response = client_for(clerk).get("/audit/")
    assert response.status_code == 403
    assert "没有访问此页面的权限" in response.content.decode()
    assert AuditRecord.objects.filter(action="access.denied").count() == before + 1
