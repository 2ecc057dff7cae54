"""The one wrapper every staff page uses: login, capability, and refusals turned into 4xx pages."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse

from servicehall.accounts.permissions import audit_refusal
from servicehall.accounts.roles import Capability
from servicehall.lib.errors import ActionRefused
from servicehall.web.responses import refusal_page, refusal_response

View = Callable[..., HttpResponse]


def staff_view(capability: Capability) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user.has_capability(capability):
                audit_refusal(user, "missing_capability", capability=str(capability), path=request.path)
                return refusal_page(
                    request, 403, "您没有访问此页面的权限。 / You do not have access to this page."
                )
            try:
                return view(request, *args, **kwargs)
            except ActionRefused as refusal:
                return refusal_response(request, refusal)

        return wrapped

    return decorator
