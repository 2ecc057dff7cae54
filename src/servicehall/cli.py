"""`servicehall`: the operator's command line. Each subcommand is a Django management command.

Run `servicehall --help` for the list and `servicehall <command> --help` for one.
"""

from __future__ import annotations

import os
import sys

OPERATOR_COMMANDS = {
    "demo": "迁移数据库并载入演示中心（幂等） / migrate and load the demo centre (idempotent)",
    "audit": "审计日志：verify 校验哈希链 / audit trail: verify the hash chains",
    "backup": "在线备份数据库 / consistent online backup of the database in use",
    "restore": "从备份恢复数据库 / restore the database from a backup",
    "workdays": "工作日计算：add / between / status（支持 --stdin） / working-day arithmetic",
    "conduct": "文明用语检查：check（stdin 每行一条）/ evaluate / civil-language checker",
    "supervise": "电子监察巡查：红黄牌、超时默认、容缺逾期（幂等） / supervision sweep: cards, deemed approval",
    "duty": "岗位值守：sweep 离岗超时、缺卡、迟到早退记入违规 / duty sweep: away, missing check-ins, lateness",
    "queueing": "排队叫号：sweep 关闭往日未叫的号、预约爽约 / queue sweep: close past tickets, no-shows",
    "simulate": "模拟历史数据：--days 90 为演示中心生成一个季度的业务（幂等） / simulate past days of the demo centre",
    "sweep": "运行全部定时巡查（--every N 每 N 秒一轮） / every periodic sweep, once or every N seconds",
    "migrate": "迁移数据库结构 / apply database migrations",
    "check": "检查配置（--deploy 用于生产） / check the configuration (--deploy for production)",
    "demo-otp": "演示环境：显示演示账户当前的动态验证码 / local demo only: current TOTP code of a demo account",
}


def usage() -> str:
    lines = ["用法 / usage: servicehall <command> [options]", "", "命令 / commands:"]
    width = max(len(name) for name in OPERATOR_COMMANDS)
    lines += [f"  {name.ljust(width)}  {text}" for name, text in OPERATOR_COMMANDS.items()]
    lines += ["", "servicehall <command> --help 查看各命令的选项 / shows a command's options."]
    lines += [
        "servicehall manage <django-command> 运行任意 Django 管理命令 / runs any Django management command."
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicehall.config.settings")
    if not arguments or arguments[0] in {"-h", "--help", "help"}:
        print(usage())
        return 0
    if arguments[0] == "manage":
        arguments = arguments[1:]
    elif arguments[0] not in OPERATOR_COMMANDS:
        print(f"未知命令 / unknown command: {arguments[0]}\n\n{usage()}", file=sys.stderr)
        return 2
    from django.core.management import execute_from_command_line

    original_stderr = sys.stderr
    sys.stderr = _OperatorErrorStream(original_stderr)
    try:
        execute_from_command_line(["servicehall", *arguments])
    except SystemExit as exit_status:
        return int(exit_status.code or 0) if not isinstance(exit_status.code, str) else 1
    except Exception as error:  # noqa: BLE001 - an operator gets one clear line, never a traceback
        message = _operator_message(error)
        if message is None:
            raise
        print(message, file=original_stderr)
        return 2
    finally:
        sys.stderr = original_stderr
    return 0


def _operator_message(error: Exception) -> str | None:
    """The one line an operator needs for the failures a deployment meets before it is set up."""
    from django.db.utils import OperationalError, ProgrammingError

    from servicehall.config.environment import ConfigurationError

    if isinstance(error, ConfigurationError):
        return (
            f"配置错误 / configuration error: {error}\n"
            "本地演示请设置 SERVICEHALL_DEPLOYMENT=local（make run 会设置） / "
            "for the local demo set SERVICEHALL_DEPLOYMENT=local (make run does)."
        )
    if isinstance(error, OperationalError | ProgrammingError):
        text = str(error).lower()
        if "no such table" in text or "does not exist" in text:
            return (
                "数据库尚未迁移：请先运行 servicehall migrate（或 servicehall demo） / "
                "the database is not migrated: run `servicehall migrate` (or `servicehall demo`) first."
            )
        return f"无法连接数据库 / the database cannot be reached: {error}"
    return None


class _OperatorErrorStream:
    """Operators read the message, Chinese first: Django's "CommandError: " prefix is dropped."""

    prefix = "CommandError: "

    def __init__(self, stream: object) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        if text.startswith(self.prefix):
            text = text[len(self.prefix) :]
        return self._stream.write(text)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


if __name__ == "__main__":
    sys.exit(main())
