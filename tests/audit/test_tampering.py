"""An attacker with database power edits, deletes, reorders or forges records; verify names the first break.

The attacker lifts the guard (``maintenance()``) and writes raw SQL, so neither the ORM nor the triggers
stand in the way; only the hash chain does. ``servicehall audit verify`` must exit 1 naming the record.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from servicehall.audit.actions import ChainBreak, record, verify
from servicehall.audit.chain import record_hash
from servicehall.audit.guard import maintenance
from servicehall.audit.models import AuditChainHead, AuditRecord
from tests.audit.helpers import (
    db_json,
    db_timestamp,
    raw_delete,
    raw_swap_contents,
    raw_swap_sequences,
    raw_update,
    record_at,
)

pytestmark = pytest.mark.django_db

TAMPERED = "内容与哈希不符（记录被篡改）"
BAD_LINK = "前一条记录的哈希不符（记录被删除、插入或重排）"
MISSING_TAIL = "链尾记录缺失（最新记录被删除）"


@pytest.fixture
def trail(town_site, other_town_site, clerk) -> dict[str, Any]:
    """Five records in the town site's chain, two centre-wide, three in another site's chain."""
    for number in range(1, 6):
        record(
            f"test.step_{number}",
            actor=clerk,
            site=town_site,
            before={"number": number - 1},
            after={"number": number, "说明": "第" + str(number) + "步"},
        )
    record("test.centre_one")
    record("test.centre_two")
    for number in range(1, 4):
        record(f"test.other_{number}", site=other_town_site)
    assert verify().intact
    return {"chain": town_site.pk, "site": town_site}


def assert_broken(expected: ChainBreak) -> None:
    # verify() names it
    result = verify()
    assert not result.intact
    assert result.first_break == expected
    # and so does the command, exiting with status 1
    with pytest.raises(CommandError) as failure:
        call_command("audit", "verify")
    assert failure.value.returncode == 1
    assert str(failure.value) == f"审计链已被破坏 / audit trail broken: {expected.describe()}"


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("action", "test.harmless"),
        ("after", db_json({"number": 3, "说明": "改过"})),
        ("before", None),
        ("occurred_at", dt.datetime(2026, 1, 1, 8, 0, tzinfo=dt.UTC)),
        ("actor_label", "someone_else"),
        ("outcome", "denied"),
        ("remote_address", "10.0.0.9"),
    ],
)
def test_an_edited_field_is_detected_at_that_record(trail, column: str, value: Any) -> None:
    # Given record 3 of the chain
    target = record_at(trail["chain"], 3)
    # When one field of it is edited in the database
    raw_update(target.pk, **{column: db_timestamp(value) if isinstance(value, dt.datetime) else value})
    # Then verify names chain, sequence 3 and that record
    assert_broken(ChainBreak(trail["chain"], 3, target.pk, TAMPERED))


def test_a_deleted_middle_record_is_detected_where_it_is_missing(trail) -> None:
    # Given record 3 is deleted
    raw_delete(record_at(trail["chain"], 3).pk)
    successor = record_at(trail["chain"], 4)
    # Then verify names position 3 and the record now found there
    assert_broken(ChainBreak(trail["chain"], 3, successor.pk, "序号应为 3，实为 4（记录被删除或重排）"))


def test_a_deleted_first_record_is_detected(trail) -> None:
    raw_delete(record_at(trail["chain"], 1).pk)
    assert_broken(
        ChainBreak(
            trail["chain"], 1, record_at(trail["chain"], 2).pk, "序号应为 1，实为 2（记录被删除或重排）"
        )
    )


def test_a_deleted_newest_record_is_detected_by_the_chain_head(trail) -> None:
    # Given the newest record of the chain is deleted (tail truncation)
    raw_delete(record_at(trail["chain"], 5).pk)
    # Then the head, still pointing at record 5, gives it away
    assert_broken(ChainBreak(trail["chain"], 5, None, MISSING_TAIL))


def test_a_whole_chain_deleted_is_detected_by_its_head(trail) -> None:
    for sequence in range(5, 0, -1):
        raw_delete(record_at(trail["chain"], sequence).pk)
    assert_broken(ChainBreak(trail["chain"], 1, None, MISSING_TAIL))


def test_a_chain_head_moved_is_detected(trail) -> None:
    # Given the head of the chain is rewound by one record (hiding the newest from the next append)
    with maintenance():
        AuditChainHead.objects.filter(chain=trail["chain"]).update(
            last_sequence=4, last_hash=record_at(trail["chain"], 4).record_hash
        )
    # Then the last record, which the head no longer matches, is named
    assert_broken(
        ChainBreak(trail["chain"], 5, record_at(trail["chain"], 5).pk, "链头与最后一条记录不符（链头被改动）")
    )


def test_a_deleted_chain_head_is_detected(trail) -> None:
    with maintenance():
        AuditChainHead.objects.filter(chain=trail["chain"]).delete()
    assert_broken(ChainBreak(trail["chain"], 5, record_at(trail["chain"], 5).pk, "链头缺失（链头被删除）"))


def test_two_records_swapped_in_place_are_detected_at_the_first(trail) -> None:
    # Given records 2 and 3 trade contents (and hashes) but keep their positions
    second, third = record_at(trail["chain"], 2), record_at(trail["chain"], 3)
    raw_swap_contents(second.pk, third.pk)
    # Then position 2 now holds record 3's content, whose link does not point at record 1
    assert_broken(ChainBreak(trail["chain"], 2, second.pk, BAD_LINK))


def test_two_records_renumbered_into_each_others_place_are_detected(trail) -> None:
    # Given records 2 and 3 trade sequence numbers
    second, third = record_at(trail["chain"], 2), record_at(trail["chain"], 3)
    raw_swap_sequences(second.pk, third.pk)
    # Then position 2, now held by the old record 3, fails
    assert_broken(ChainBreak(trail["chain"], 2, third.pk, BAD_LINK))


def test_a_forged_record_with_its_own_hash_recomputed_is_detected_at_its_successor(trail) -> None:
    # Given record 3 is edited and its own hash recomputed, but its successors are left as they were
    target = record_at(trail["chain"], 3)
    target.action = "test.forged"
    forged_hash = record_hash(target.hashed_fields(), target.previous_hash)
    raw_update(target.pk, action="test.forged", record_hash=forged_hash)
    assert record_at(trail["chain"], 3).computed_hash() == forged_hash
    # Then record 4, whose link still names the original record 3, is the first break
    assert_broken(ChainBreak(trail["chain"], 4, record_at(trail["chain"], 4).pk, BAD_LINK))


def test_the_first_break_in_chain_order_is_named_when_several_chains_are_broken(
    trail, other_town_site
) -> None:
    # Given the other site's chain and the centre chain are both edited
    other = record_at(other_town_site.pk, 2)
    raw_update(other.pk, action="test.changed")
    centre = record_at(0, 1)
    raw_update(centre.pk, action="test.changed")
    # Then the centre chain (0) comes first
    assert_broken(ChainBreak(0, 1, centre.pk, TAMPERED))


def test_the_command_reports_an_intact_trail_with_a_summary(trail, capsys) -> None:
    # When the command runs on the intact trail
    call_command("audit", "verify")
    # Then it exits normally with a summary of chains and records
    assert capsys.readouterr().out == "审计链完整 / audit trail intact: 3 chains, 10 records\n"


def test_records_appended_after_tampering_do_not_heal_the_chain(trail) -> None:
    # Given record 2 was edited, and later actions keep appending to the chain
    target = record_at(trail["chain"], 2)
    raw_update(target.pk, action="test.changed")
    record("test.later", site=trail["site"])
    # Then the edit is still named
    assert verify().first_break == ChainBreak(trail["chain"], 2, target.pk, TAMPERED)
    assert AuditRecord.objects.filter(chain=trail["chain"]).count() == 6
