"""`servicehall conduct check|evaluate`: the civil-language checker for operators and scripts.

    echo "不知道，你问别人去" | servicehall conduct check
    {"text": "不知道，你问别人去", "ok": false, "findings": [...]}

``check`` reads UTF-8 lines from stdin and writes one JSON object per line, in the same order. A line
that cannot be checked (not UTF-8, too long) gets ``"ok": false`` and an ``"error"`` and the others go
on. ``evaluate`` prints precision and recall on the labelled corpus, development and held-out parts.
"""

from __future__ import annotations

import json
import sys
from typing import Any, BinaryIO

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from servicehall.conduct.checker import TextTooLong, base_ruleset, check_report, rules_only_ruleset
from servicehall.conduct.engine import RuleSet
from servicehall.conduct.evaluation import CORPUS_PARTS, evaluate_by_section

UTF8_BOM = b"\xef\xbb\xbf"
TARGET_PRECISION = 0.95
TARGET_RECALL = 0.90


def _error_line(text: str, code: str, message: str) -> dict[str, Any]:
    return {"text": text, "ok": False, "findings": [], "error": {"code": code, "message": message}}


def answer_line(ruleset: RuleSet, raw: bytes, first: bool = False) -> dict[str, Any]:
    """The JSON answer to one input line (without its line break)."""
    if first and raw.startswith(UTF8_BOM):
        raw = raw[len(UTF8_BOM) :]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return _error_line(
            raw.decode("utf-8", errors="replace"),
            "invalid_utf8",
            f"不是有效的 UTF-8（第 {error.start + 1} 字节）/ not valid UTF-8 at byte {error.start + 1}",
        )
    try:
        return check_report(text, ruleset)
    except TextTooLong as error:
        return _error_line(text[:200], "too_long", str(error))
    except Exception as error:  # noqa: BLE001  (one bad line must not lose the answers to the others)
        return _error_line(text[:200], "internal_error", f"检查失败 / check failed: {type(error).__name__}")


def answer_stream(ruleset: RuleSet, source: BinaryIO, write: Any) -> int:
    """Answer every line of ``source`` in order through ``write``; returns the number of lines."""
    count = 0
    for raw in source:
        line = raw[:-1] if raw.endswith(b"\n") else raw
        if line.endswith(b"\r"):
            line = line[:-1]
        write(json.dumps(answer_line(ruleset, line, first=count == 0), ensure_ascii=False) + "\n")
        count += 1
    return count


class Command(BaseCommand):
    help = "文明用语检查 / civil-language checker: check (stdin → JSON lines), evaluate"
    # The system checks import every URLconf and API schema: time spent for nothing used here.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(dest="operation", required=True)
        check = subcommands.add_parser(
            "check", help="从标准输入逐行检查，每行输出一个 JSON / one JSON object per stdin line"
        )
        check.add_argument(
            "--base-rules",
            action="store_true",
            help="只用审核过的基础规则，不含后台追加用语 / reviewed rules only, no extra phrases",
        )
        evaluate = subcommands.add_parser(
            "evaluate", help="在标注语料上计算准确率与召回率 / precision and recall on the corpus"
        )
        evaluate.add_argument("--verbose", action="store_true", help="列出漏报与误报 / list misses")
        train = subcommands.add_parser(
            "train",
            help="用开发语料训练统计模型，写入 model.json / train the model on the development corpus",
        )
        train.add_argument(
            "--check",
            action="store_true",
            help="只检查 model.json 是否由当前语料训练 / only check that model.json matches the corpus",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["operation"] == "evaluate":
            self.evaluate(options["verbose"])
            return
        if options["operation"] == "train":
            self.train(options["check"])
            return
        ruleset = base_ruleset() if options["base_rules"] else self.current_ruleset()
        binary = getattr(self.stdout, "buffer", None)  # absent when call_command captures into a StringIO
        if binary is None:
            answer_stream(ruleset, sys.stdin.buffer, lambda text: self.stdout.write(text, ending=""))
            return
        self.stdout.flush()
        answer_stream(ruleset, sys.stdin.buffer, lambda text: binary.write(text.encode("utf-8")))
        binary.flush()

    def current_ruleset(self) -> RuleSet:
        from servicehall.conduct import service

        try:
            return service.current_ruleset()
        except DatabaseError:
            self.stderr.write(
                "数据库不可用，仅用基础规则 / database unavailable: checking with the reviewed rules only"
            )
            return base_ruleset()

    def train(self, check_only: bool) -> None:
        from servicehall.conduct import training

        if check_only:
            fingerprint = training.corpus_fingerprint()
            try:
                trained_on = json.loads(training.MODEL_PATH.read_text(encoding="utf-8"))["trained_on"][
                    "sha256"
                ]
            except (OSError, ValueError, KeyError) as error:
                raise CommandError(f"model.json 不可读 / model.json unreadable: {error}") from error
            if trained_on != fingerprint:
                raise CommandError(
                    "model.json 不是由当前开发语料训练的，请运行 servicehall conduct train / "
                    "model.json was trained on another corpus: run `servicehall conduct train`"
                )
            self.stdout.write(f"model.json 与语料一致 / matches the corpus ({fingerprint[:16]})")
            return
        data = training.train()
        training.write_model(data)
        for result in data["cross_validation"]["grid"]:
            self.stdout.write(
                f"阈值 threshold {result['threshold']:.2f}: 交叉验证 cross-validated precision "
                f"{result['precision']:.3f} recall {result['recall']:.3f}"
            )
        chosen = data["cross_validation"]["chosen"]
        self.stdout.write(
            f"已写入 / wrote {training.MODEL_PATH.name}: {len(data['weights'])} n-grams, "
            f"threshold {chosen['threshold']:.2f} (cross-validated precision {chosen['precision']:.3f}, "
            f"recall {chosen['recall']:.3f})"
        )

    def evaluate(self, verbose: bool) -> None:
        ruleset = base_ruleset()
        for part in CORPUS_PARTS:
            self.stdout.write(
                evaluate_by_section(rules_only_ruleset(), part)[0]
                .summary()
                .replace(part, f"{part} (rules only)", 1)
            )
            results = evaluate_by_section(ruleset, part)
            for result in results:
                self.stdout.write(result.summary())
            if verbose:
                for utterance in results[0].missed:
                    self.stdout.write(
                        f"  漏报 missed {part}:{utterance.line} [{utterance.label}] {utterance.text}"
                    )
                for utterance, rule_ids in results[0].false_alarms:
                    self.stdout.write(
                        f"  误报 false alarm {part}:{utterance.line} {utterance.text} {rule_ids}"
                    )
        self.stdout.write(f"目标 / targets: precision ≥ {TARGET_PRECISION}, recall ≥ {TARGET_RECALL}")
