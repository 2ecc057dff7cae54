"""Read settings from environment variables, failing loudly on values that cannot be used.

A misspelt number or boolean in a deployment must stop the process at start-up, not
silently fall back to a default that weakens security (e.g. a lockout threshold).
"""

import os

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


class ConfigurationError(RuntimeError):
    """A required environment variable is missing or malformed."""


def env_string(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None:
        if default is None:
            raise ConfigurationError(f"环境变量 {name} 未设置 / environment variable {name} is required")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    raise ConfigurationError(f"环境变量 {name}={value!r} 不是布尔值 / {name} must be true or false")


def env_int(name: str, default: int, minimum: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError as error:
        raise ConfigurationError(f"环境变量 {name}={value!r} 不是整数 / {name} must be an integer") from error
    if minimum is not None and number < minimum:
        raise ConfigurationError(f"环境变量 {name} 不能小于 {minimum} / {name} must be at least {minimum}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]
