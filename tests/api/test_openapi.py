"""The API publishes its OpenAPI schema and docs for devices and integrations (issue 2)."""

from __future__ import annotations

import json

from django.test import Client


def test_openapi_schema_is_public_json_listing_every_app(citizen_client: Client) -> None:
    # When an integrator fetches the schema
    response = citizen_client.get("/api/openapi.json")

    # Then it is OpenAPI 3 JSON naming the API and the paths of each domain app
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "servicehall API"
    paths = set(schema["paths"])
    for expected in (
        "/api/sites",
        "/api/catalog/items",
        "/api/cases",
        "/api/conduct/check",
        "/api/duty/coverage",
        "/api/audit/verify",
    ):
        assert expected in paths, expected
    assert any(path.startswith("/api/queueing/") for path in paths)


def test_every_operation_requires_the_staff_session_unless_it_says_otherwise(citizen_client: Client) -> None:
    schema = json.loads(citizen_client.get("/api/openapi.json").content)
    assert "StaffSessionAuth" in schema["components"]["securitySchemes"]
    unauthenticated = [
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if not operation.get("security")
    ]
    # Only the public kiosk and citizen-facing operations may go without a staff session.
    assert all(
        "/public" in entry or "/kiosk" in entry or "/conduct/" in entry for entry in unauthenticated
    ), unauthenticated


def test_api_docs_page_is_served_without_a_cdn(citizen_client: Client) -> None:
    response = citizen_client.get("/api/docs")
    assert response.status_code == 200
    assert b"cdn." not in response.content.lower()
    assert b"/static/ninja/swagger-ui-bundle.js" in response.content
