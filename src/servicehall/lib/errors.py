"""Refusals that actions raise and the web and API layers turn into a 4xx with a clear message."""

from __future__ import annotations


class ActionRefused(Exception):
    """An action cannot be done as asked; nothing was changed. Maps to HTTP 400."""

    status = 400

    def __init__(self, message: str, code: str = "invalid", field: str | None = None) -> None:
        super().__init__(message)
        self.message = str(message)
        self.code = code
        self.field = field


class PermissionRefused(ActionRefused):
    """The actor lacks the capability, or the object is outside the actor's site scope. HTTP 403."""

    status = 403

    def __init__(self, message: str = "", code: str = "permission_denied") -> None:
        super().__init__(
            message or "您没有执行此操作的权限 / You do not have permission for this action.", code
        )


class NotFound(ActionRefused):
    status = 404

    def __init__(self, message: str = "", code: str = "not_found") -> None:
        super().__init__(message or "未找到该对象 / Not found.", code)


class Conflict(ActionRefused):
    """Someone else changed the object first (lost-update protection). HTTP 409."""

    status = 409

    def __init__(self, message: str, code: str = "conflict") -> None:
        super().__init__(message, code)
