"""The hash chain: one chain per site (0 centre-wide), sequences 1..n, and hashes that survive the database.

Each test runs on whichever database the suite was started with; run it on both SQLite and PostgreSQL
(jsonb reorders keys and keeps numbers as numeric, which is what the canonical form must withstand).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from servicehall.audit.actions import CENTRE_CHAIN, record, verify
from servicehall.audit.chain import GENESIS_HASH, json_safe, record_hash
from servicehall.audit.models import AuditChainHead, AuditOutcome, AuditRecord
from tests.factories import DepartmentFactory, TownSiteFactory

pytestmark = pytest.mark.django_db

AWKWARD_PAYLOAD: dict[str, Any] = {
    "zeta": 1,
    "alpha": {"y": [3, 2, 1], "b": {"内层": "值", "a": None}},
    "名称": "三角镇便民服务中心「综合窗口」",
    "fee": Decimal("12.50"),
    "on_day": dt.date(2026, 3, 7),
    "at": dt.datetime(2026, 3, 7, 9, 30, 15, 123456, tzinfo=dt.UTC),
    "opens": dt.time(8, 30),
    "nothing": None,
    "flags": [True, False, None],
    "mixed": [1, "二", {"三": 3}],
    "ratio": 0.1,
    "huge_float": 1e20,
    "negative_zero": -0.0,
    "tiny": 1.5e-10,
    "big_integer": 12345678901234567890,
    "not_a_number": float("nan"),
    "empty": {},
    "empty_list": [],
}

NORMALISED_PAYLOAD: dict[str, Any] = {
    "alpha": {"b": {"a": None, "内层": "值"}, "y": [3, 2, 1]},
    "at": "2026-03-07T09:30:15.123456+00:00",
    "big_integer": 12345678901234567890,
    "empty": {},
    "empty_list": [],
    "fee": "12.50",
    "flags": [True, False, None],
    "huge_float": 100000000000000000000,
    "mixed": [1, "二", {"三": 3}],
    "negative_zero": 0,
    "not_a_number": "NaN",
    "nothing": None,
    "on_day": "2026-03-07",
    "opens": "08:30:00",
    "ratio": 0.1,
    "tiny": 1.5e-10,
    "zeta": 1,
    "名称": "三角镇便民服务中心「综合窗口」",
}


def chain_of(chain: int) -> list[AuditRecord]:
    return list(AuditRecord.objects.filter(chain=chain).order_by("sequence"))


def test_a_fresh_trail_is_intact() -> None:
    # Given no audit record at all, when the trail is verified
    result = verify()
    # Then it is intact and nothing was checked
    assert result.intact
    assert (result.records_checked, result.chains_checked, result.first_break) == (0, 0, None)


def test_records_are_appended_per_site_chain_with_sequences_from_one(town_site, other_town_site) -> None:
    # Given records of two sites and of the centre, written interleaved
    for action in ("a.one", "b.one", "c.one", "a.two", "b.two", "a.three"):
        site = {"a": town_site, "b": other_town_site, "c": None}[action[0]]
        record(action, site=site)
    # Then each chain is numbered 1..n in its own order, named by its site id (0 for the centre)
    assert [(entry.action, entry.sequence) for entry in chain_of(town_site.pk)] == [
        ("a.one", 1),
        ("a.two", 2),
        ("a.three", 3),
    ]
    assert [(entry.action, entry.sequence) for entry in chain_of(other_town_site.pk)] == [
        ("b.one", 1),
        ("b.two", 2),
    ]
    assert [(entry.action, entry.sequence, entry.site_id) for entry in chain_of(CENTRE_CHAIN)] == [
        ("c.one", 1, None)
    ]


def test_each_record_links_to_its_predecessor_and_the_head_to_the_last(town_site) -> None:
    # Given three records of one site
    written = [record(f"test.step_{number}", site=town_site) for number in range(3)]
    stored = chain_of(town_site.pk)
    # Then the first links to the genesis hash and each later one to its predecessor's hash
    assert stored[0].previous_hash == GENESIS_HASH
    assert stored[1].previous_hash == stored[0].record_hash
    assert stored[2].previous_hash == stored[1].record_hash
    assert [entry.record_hash for entry in stored] == [entry.record_hash for entry in written]
    # And the chain head points at the last one
    head = AuditChainHead.objects.get(chain=town_site.pk)
    assert (head.last_sequence, head.last_hash) == (3, stored[2].record_hash)


def test_the_chain_follows_the_site_of_the_target(town_site, department) -> None:
    # Given a record about a department, one about a site, and one naming a site explicitly
    about_department = record("test.department", target=department)
    about_site = record("test.site", target=town_site)
    explicit = record("test.explicit", site=town_site, target=department)
    # Then all three land in that site's chain with the target named
    assert [about_department.chain, about_site.chain, explicit.chain] == [town_site.pk] * 3
    assert (about_department.object_type, about_department.object_id) == (
        "sites.department",
        str(department.pk),
    )
    assert (about_site.object_type, about_site.object_label) == ("sites.site", "三角镇便民服务中心")


def test_many_records_across_several_sites_verify_intact(city_site) -> None:
    # Given 5 sites with 40 records each and 20 centre-wide records, written round-robin
    sites = [TownSiteFactory(parent=city_site) for _ in range(5)]
    for number in range(40):
        for site in sites:
            record("test.bulk", site=site, after={"number": number, "站点": site.name})
        if number % 2 == 0:
            record("test.centre", after={"number": number})
    # When the whole trail is verified, in small batches so that batch boundaries are crossed
    result = verify(batch_size=7)
    # Then every record of every chain was checked and found intact
    assert result.intact
    assert (result.records_checked, result.chains_checked) == (220, 6)
    assert sorted(AuditRecord.objects.filter(chain=sites[2].pk).values_list("sequence", flat=True)) == list(
        range(1, 41)
    )


def test_verify_can_be_limited_to_some_chains(town_site, other_town_site) -> None:
    # Given two records in one site's chain and one in another's
    record("test.one", site=town_site)
    record("test.two", site=town_site)
    record("test.three", site=other_town_site)
    # When only the first site's chain is verified
    result = verify(chains={town_site.pk})
    # Then only its two records were checked
    assert (result.intact, result.records_checked, result.chains_checked) == (True, 2, 1)


def test_awkward_payloads_are_stored_normalised_and_hash_the_same_when_read_back(town_site) -> None:
    # Given before/after payloads with nested dicts, Chinese, decimals, dates, None, lists and floats
    # that jsonb would rewrite (1e20, -0.0)
    written = record(
        "test.awkward", site=town_site, before={"列表": [AWKWARD_PAYLOAD]}, after=AWKWARD_PAYLOAD
    )
    # When the record is read back from the database
    stored = AuditRecord.objects.get(pk=written.pk)
    # Then the payload is exactly the normalised form, and its recomputed hash matches the stored one
    assert stored.after == NORMALISED_PAYLOAD
    assert stored.before == {"列表": [NORMALISED_PAYLOAD]}
    assert stored.computed_hash() == stored.record_hash == written.record_hash
    assert verify().intact


def test_payload_key_order_does_not_change_the_hash(town_site) -> None:
    # Given the same payload written with its keys in two different orders
    first = record("test.order", site=town_site, after={"z": 1, "a": {"y": 2, "b": 3}, "中": 4})
    second = record("test.order", site=town_site, after={"中": 4, "a": {"b": 3, "y": 2}, "z": 1})
    # Then both read back to hashes that hold, and the hashed form of both payloads is identical
    for written in (first, second):
        assert AuditRecord.objects.get(pk=written.pk).computed_hash() == written.record_hash
    assert record_hash({"after": first.after}, GENESIS_HASH) == record_hash(
        {"after": second.after}, GENESIS_HASH
    )


def test_nul_characters_and_over_long_text_are_fitted_to_what_every_database_stores(town_site) -> None:
    # Given text PostgreSQL would refuse: NUL characters and values longer than their columns
    written = record(
        "test.fitted",
        site=town_site,
        actor_label="操作\x00人" + "甲" * 200,
        object_type="t" * 80,
        object_id="9" * 80,
        object_label="对象\x00" + "乙" * 300,
        after={"名\x00称": ["a\x00b"]},
    )
    # When it is read back
    stored = AuditRecord.objects.get(pk=written.pk)
    # Then NUL became U+FFFD, each value was cut to its column, and the hash still holds
    assert stored.actor_label == ("操作\ufffd人" + "甲" * 200)[:150]
    assert (len(stored.object_type), len(stored.object_id)) == (64, 64)
    assert stored.object_label == ("对象\ufffd" + "乙" * 300)[:200]
    assert stored.after == {"名\ufffd称": ["a\ufffdb"]}
    assert stored.computed_hash() == stored.record_hash
    assert verify().intact


def test_a_record_rolls_back_with_the_action_it_describes(town_site) -> None:
    # Given one record, and then an action that records and fails in the same transaction
    record("test.kept", site=town_site)

    def failing_action() -> None:
        with transaction.atomic():
            record("test.rolled_back", site=town_site)
            raise RuntimeError("the action failed")

    with pytest.raises(RuntimeError):
        failing_action()
    # When the next record is written
    record("test.next", site=town_site)
    # Then the rolled-back record left no trace and no gap
    assert [(entry.action, entry.sequence) for entry in chain_of(town_site.pk)] == [
        ("test.kept", 1),
        ("test.next", 2),
    ]
    assert verify().intact


def test_records_name_actor_outcome_and_before_after(town_site, clerk) -> None:
    # Given a refused action of a clerk about a department
    department = DepartmentFactory(site=town_site, code="GA", name="公安局")
    written = record(
        "test.refused",
        actor=clerk,
        target=department,
        outcome=AuditOutcome.DENIED,
        before={"name": "公安局"},
        after={"name": "市公安局"},
    )
    # Then who, site, object, outcome and before/after are all in the record
    stored = AuditRecord.objects.get(pk=written.pk)
    assert (stored.actor_id, stored.actor_label, stored.site_id) == (
        clerk.pk,
        "clerk（李受理）",
        town_site.pk,
    )
    assert (stored.object_type, stored.object_id, stored.object_label) == (
        "sites.department",
        str(department.pk),
        "公安局",
    )
    assert (stored.outcome, stored.before, stored.after) == (
        "denied",
        {"name": "公安局"},
        {"name": "市公安局"},
    )
    assert stored.channel == "system"


@pytest.mark.parametrize(
    "field",
    [
        "chain",
        "sequence",
        "occurred_at",
        "actor_id",
        "actor_label",
        "site_id",
        "action",
        "outcome",
        "object_type",
        "object_id",
        "object_label",
        "before",
        "after",
        "remote_address",
        "channel",
    ],
)
def test_the_hash_covers_every_field(town_site, field: str) -> None:
    # Given a record's hashed fields
    written = record("test.covered", site=town_site, after={"value": 1})
    fields = written.hashed_fields()
    # When any one field changes
    changed = {**fields, field: "changed" if fields[field] != "changed" else "other"}
    # Then the hash changes
    assert record_hash(changed, written.previous_hash) != written.record_hash
    assert record_hash(fields, written.previous_hash) == written.record_hash


def test_json_safe_turns_payloads_into_plain_json() -> None:
    assert json_safe(AWKWARD_PAYLOAD) == NORMALISED_PAYLOAD
    assert json_safe({"set": {3, 1, 2}, "inf": float("inf")}) == {"inf": "Infinity", "set": [1, 2, 3]}
    assert json_safe(None) is None
