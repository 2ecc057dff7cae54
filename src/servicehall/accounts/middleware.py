"""Per-user interface language, and the security policy gates: second factor and password expiry."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation

# Reachable before the second factor: what a person needs to verify, or to give up and leave.
TWO_FACTOR_EXEMPT_PREFIXES = ("/static/", "/i18n/", "/accounts/logout/", "/accounts/two-factor/")
# Changing an expired password needs the second factor first, so that a stolen password alone
# cannot replace the owner's password.
PASSWORD_EXEMPT_PREFIXES = (*TWO_FACTOR_EXEMPT_PREFIXES, "/accounts/password/")


class StaffLanguageMiddleware:
    """A signed-in person sees the language of their profile; the top-bar switcher changes that profile."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        response = self.get_response(request)
        # Only after the view ran: by then CSRF has been checked and set_language has accepted the choice.
        if (
            user is not None
            and user.is_authenticated
            and request.method == "POST"
            and request.path == reverse("set_language")
            and response.status_code in (204, 302)
        ):
            language = request.POST.get("language", "")
            if language in dict(settings.LANGUAGES) and language != user.language:
                from servicehall.accounts import actions

                actions.set_language(user, language)
        return response


class SecurityPolicyMiddleware:
    """An account that must use a second factor, or whose password has expired, reaches nothing else."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        path = request.path
        if (
            not path.startswith(TWO_FACTOR_EXEMPT_PREFIXES)
            and user.two_factor_required
            and not user.is_verified()
        ):
            return self._refuse(request, "two_factor_required", reverse("accounts:two_factor"))
        if not path.startswith(PASSWORD_EXEMPT_PREFIXES) and user.password_expired():
            return self._refuse(request, "password_expired", reverse("accounts:password_change"))
        return self.get_response(request)

    @staticmethod
    def _refuse(request: HttpRequest, code: str, target: str) -> HttpResponse:
        if request.path.startswith("/api/"):
            messages = {
                "two_factor_required": "请先完成双因素认证 / Two-factor verification required.",
                "password_expired": "密码已过期，请先修改密码 / Password expired, change it first.",
            }
            return JsonResponse({"code": code, "detail": messages[code]}, status=403)
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        if request.method == "GET" and request.path != "/":
            target = f"{target}?{urlencode({'next': request.get_full_path()})}"
        return redirect(target)
