"""An attacker with direct database access tampers with the trail; `audit verify` must notice.

Each test works on its own copy of the demo home's database. The attacker bypasses carelog, drops
the append-only triggers (and, where the tampering needs it, the keys), changes the rows, and
leaves. A checkpoint (HASH:COUNT, as printed on reports) was written down before the attack.
Tamperings that keep the chain self-consistent can only be caught against that checkpoint; the
tests show both halves: the bare verify passes there, and the checkpoint catches it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from carelog.audit import actor, chain
from carelog.database import write_transaction
from carelog.extensions import db
from tests.audit_appender import (
    COLUMNS,
    dialect_of,
    direct_connection,
    fetch_rows,
    insert_row,
    placeholder,
    remove_protections,
)

OK_LINE = re.compile(r"^OK: (\d+) entries, head ([0-9a-f]{64})$", re.M)
FORGED_HASH = hashlib.sha256(b"forged").hexdigest()


@dataclass
class Attacker:
    """Direct access to the audit table of one database, and what it held before the attack."""

    connection: Any
    url: str
    rows: list[dict[str, Any]]

    @property
    def n(self) -> int:
        return len(self.rows)

    @property
    def middle(self) -> int:
        return self.n // 2

    def row(self, entry_id: int) -> dict[str, Any]:
        return dict(self.rows[entry_id - 1])

    def execute(self, sql: str, *params: Any) -> None:
        self.connection.execute(sql.replace("?", placeholder(self.url)), params)

    def update(self, entry_id: int, **values: Any) -> None:
        assignments = ", ".join(f"{name} = ?" for name in values)
        self.execute(
            f"UPDATE audit_entry SET {assignments} WHERE id = ?", *values.values(), entry_id
        )

    def delete(self, first_id: int, last_id: int | None = None) -> None:
        self.execute(
            "DELETE FROM audit_entry WHERE id BETWEEN ? AND ?", first_id, last_id or first_id
        )

    def insert(self, row: dict[str, Any]) -> None:
        insert_row(self.connection, self.url, row)

    def replace_all(self, rows: list[dict[str, Any]]) -> None:
        """Empty the table and write these rows instead."""
        if dialect_of(self.url) == "postgresql":
            self.execute("TRUNCATE audit_entry")
        else:
            self.execute("DELETE FROM audit_entry")
        for row in rows:
            self.insert(row)


def rehash(row: dict[str, Any]) -> dict[str, Any]:
    """The row with its hash recomputed over its (possibly forged) content."""
    return {**row, "hash": chain.entry_hash(row)}


def rechain(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Renumber and re-link every row from the genesis: a chain that verifies on its own."""
    chained, previous = [], chain.GENESIS_HASH
    for number, row in enumerate(rows, start=1):
        linked = rehash({**row, "id": number, "prev_hash": previous})
        chained.append(linked)
        previous = linked["hash"]
    return chained


def forged(attacker: Attacker, entry_id: int, prev_hash: str) -> dict[str, Any]:
    """A plausible entry that never happened, with a correct hash over its content."""
    return rehash(
        {
            **attacker.row(1),
            "id": entry_id,
            "recorded_at": attacker.row(attacker.n)["recorded_at"],
            "action": "consent.record",
            "entity": "consent",
            "entity_id": "999",
            "new_values": chain.canonical_json({"consent_given": True, "forged": "yes"}),
            "reason": "backdated",
            "prev_hash": prev_hash,
        }
    )


def subtle_edit(name: str, value: Any, attacker: Attacker) -> Any:
    """A change to one column that a reader would hardly see."""
    if name == "id":
        return attacker.n + 100
    if name in ("prev_hash", "hash"):
        return FORGED_HASH
    if name == "recorded_at":  # the last digit of the microseconds
        return value[:-2] + str((int(value[-2]) + 1) % 10) + "Z"
    if name == "actor_id":
        return 3 if value != 3 else 4  # another existing account
    if name == "resident_id":
        return (value or 0) + 1
    if name in ("old_values", "new_values"):  # the same JSON, one space more
        return (value or "{}") + " "
    return (value + " ") if value else "forged"


@dataclass(frozen=True)
class Tampering:
    """One attack, and which entry `audit verify` must name (None: no single entry to blame)."""

    name: str
    attack: Callable[[Attacker], None]
    first_bad: Callable[[Attacker], int | None]
    needs_checkpoint: bool = False
    drops_keys: bool = False


def _edit(name: str) -> Tampering:
    def attack(a: Attacker) -> None:
        a.update(a.middle, **{name: subtle_edit(name, a.row(a.middle)[name], a)})

    # Moving an entry elsewhere shows first as the next entry taking its place.
    first_bad = (lambda a: a.middle + 1) if name == "id" else (lambda a: a.middle)
    return Tampering(f"edit-{name}", attack, first_bad)


def _edit_and_rehash(a: Attacker, entry_id: int) -> None:
    row = a.row(entry_id)
    row["reason"] = "nothing to see here"
    a.update(entry_id, reason=row["reason"], hash=chain.entry_hash(row))


def _insert_forged_middle(a: Attacker) -> None:
    a.execute("UPDATE audit_entry SET id = id + 1 WHERE id >= ?", a.middle)
    a.insert(forged(a, a.middle, a.row(a.middle - 1)["hash"]))


def _swap_contents(first: int, second: int) -> Callable[[Attacker], None]:
    def attack(a: Attacker) -> None:
        one, other = a.row(first(a)), a.row(second(a))
        for target, source in ((one["id"], other), (other["id"], one)):
            a.update(target, **{k: v for k, v in source.items() if k != "id"})

    return attack


def _swap_ids(a: Attacker) -> None:
    a.update(a.middle, id=-1)
    a.update(a.middle + 1, id=a.middle)
    a.update(-1, id=a.middle + 1)


def _rewrite(a: Attacker, keep: Callable[[list], list]) -> None:
    rows = [a.row(i) for i in range(1, a.n + 1)]
    rows[a.middle - 1]["reason"] = "rewritten"
    a.replace_all(rechain(keep(rows)))


def _truncate_and_append(a: Attacker) -> None:
    a.delete(a.n - 4, a.n)
    rows = [a.row(i) for i in range(1, a.n - 4)]
    extra = [forged(a, 0, "") for _ in range(6)]
    for number, row in enumerate(extra):
        row["entity_id"] = str(900 + number)
    chained = rechain(rows + extra)
    for row in chained[a.n - 5 :]:
        a.insert(row)


TAMPERINGS = [
    *(_edit(name) for name in COLUMNS),
    Tampering(
        "edit-first-entry",
        lambda a: a.update(1, new_values=a.row(1)["new_values"].replace("Rowan", "Rowen")),
        lambda a: 1,
    ),
    Tampering("edit-last-entry", lambda a: a.update(a.n, actor="someone else"), lambda a: a.n),
    Tampering(
        "edit-middle-and-rehash-it",
        lambda a: _edit_and_rehash(a, a.middle),
        lambda a: a.middle + 1,
    ),
    Tampering(
        "edit-last-and-rehash-it",
        lambda a: _edit_and_rehash(a, a.n),
        lambda a: a.n,
        needs_checkpoint=True,
    ),
    Tampering("delete-first", lambda a: a.delete(1), lambda a: 2),
    Tampering("delete-middle", lambda a: a.delete(a.middle), lambda a: a.middle + 1),
    Tampering(
        "delete-five-in-the-middle",
        lambda a: a.delete(a.middle, a.middle + 4),
        lambda a: a.middle + 5,
    ),
    Tampering("delete-last", lambda a: a.delete(a.n), lambda a: None, needs_checkpoint=True),
    Tampering(
        "insert-forged-in-the-middle",
        _insert_forged_middle,
        lambda a: a.middle + 1,
        drops_keys=True,
    ),
    Tampering(
        "append-forged-branch-from-an-old-entry",
        lambda a: a.insert(forged(a, a.n + 1, a.row(a.middle)["hash"])),
        lambda a: a.n + 1,
        drops_keys=True,
    ),
    Tampering(
        "append-forged-with-a-made-up-hash",
        lambda a: a.insert({**forged(a, a.n + 1, a.row(a.n)["hash"]), "hash": FORGED_HASH}),
        lambda a: a.n + 1,
    ),
    Tampering(
        "swap-contents-of-neighbours",
        _swap_contents(lambda a: a.middle, lambda a: a.middle + 1),
        lambda a: a.middle,
        drops_keys=True,
    ),
    Tampering(
        "swap-contents-far-apart",
        _swap_contents(lambda a: 3, lambda a: a.n - 3),
        lambda a: 3,
        drops_keys=True,
    ),
    Tampering("swap-ids-of-neighbours", _swap_ids, lambda a: a.middle),
    Tampering(
        "truncate-tail-after-checkpoint",
        lambda a: a.delete(a.n - 4, a.n),
        lambda a: None,
        needs_checkpoint=True,
    ),
    Tampering(
        "empty-the-trail",
        lambda a: a.replace_all([]),
        lambda a: None,
        needs_checkpoint=True,
    ),
    Tampering(
        "truncate-tail-then-append-forged-entries",
        _truncate_and_append,
        lambda a: a.n,
        needs_checkpoint=True,
    ),
    Tampering(
        "rewrite-whole-chain-consistently",
        lambda a: _rewrite(a, lambda rows: rows),
        lambda a: a.n,
        needs_checkpoint=True,
    ),
    Tampering(
        "rewrite-chain-without-one-entry",
        lambda a: _rewrite(a, lambda rows: rows[:5] + rows[6:]),
        lambda a: None,
        needs_checkpoint=True,
    ),
    Tampering(
        "rewrite-chain-and-extend-it",
        lambda a: _rewrite(a, lambda rows: rows + [forged(a, 0, "")]),
        lambda a: a.n,
        needs_checkpoint=True,
    ),
]


def verify(app, *args: str):
    """Run `flask --app carelog audit verify` and return click's result."""
    with app.app_context():  # the `flask` command pushes one; the test runner does not
        return app.test_cli_runner().invoke(args=["audit", "verify", *args])


def checkpoint_before_attack(app) -> str:
    """Verify the untouched trail and write down its HASH:COUNT, as a report prints it."""
    result = verify(app)
    assert result.exit_code == 0, result.output
    count, head = OK_LINE.search(result.output).groups()
    return f"{head}:{count}"


def attack(app, url: str, tampering: Tampering) -> Attacker:
    """Release carelog's connections, then tamper through a connection of the attacker's own."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    with direct_connection(url) as connection:
        remove_protections(connection, dialect_of(url), constraints=tampering.drops_keys)
        attacker = Attacker(connection, url, fetch_rows(connection))
        tampering.attack(attacker)
        assert fetch_rows(connection) != attacker.rows, "the attack changed nothing"
    return attacker


@pytest.mark.parametrize("tampering", TAMPERINGS, ids=lambda t: t.name)
def test_tampering_is_detected(app, database_url, tampering):
    """verify --expect fails naming the first bad entry; plain verify too unless self-consistent."""
    checkpoint = checkpoint_before_attack(app)
    attacker = attack(app, database_url, tampering)
    first_bad = tampering.first_bad(attacker)
    where = f" at entry {first_bad}:" if first_bad is not None else ":"

    checked = verify(app, "--expect", checkpoint)
    assert checked.exit_code == 1, checked.output
    assert f"FAILED{where}" in checked.output, checked.output

    plain = verify(app)
    if tampering.needs_checkpoint:
        # The chain alone is consistent: only the checkpoint written down earlier tells.
        assert plain.exit_code == 0, plain.output
    else:
        assert plain.exit_code == 1, plain.output
        assert f"FAILED{where}" in plain.output, plain.output


def test_every_kind_of_tampering_in_the_brief_is_tried():
    """Edit, delete in the middle and at the end, insert, reorder, truncate, rewrite."""
    names = {t.name for t in TAMPERINGS}
    assert {f"edit-{column}" for column in COLUMNS} <= names
    assert {
        "delete-middle",
        "delete-last",
        "insert-forged-in-the-middle",
        "swap-contents-of-neighbours",
        "truncate-tail-after-checkpoint",
        "rewrite-whole-chain-consistently",
    } <= names
    assert len(names) == len(TAMPERINGS)


@pytest.mark.parametrize("drops_keys", [False, True], ids=["triggers-dropped", "keys-dropped"])
def test_control_disarming_alone_is_not_reported(app, database_url, drops_keys):
    """The negative control: dropping protections without touching a row leaves verify passing."""
    checkpoint = checkpoint_before_attack(app)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    with direct_connection(database_url) as connection:
        remove_protections(connection, dialect_of(database_url), constraints=drops_keys)
    checked = verify(app, "--expect", checkpoint)
    assert checked.exit_code == 0, checked.output
    head, count = checkpoint.split(":")
    assert checked.output.strip() == f"OK: {count} entries, head {head}"


def test_a_checkpoint_from_an_earlier_report_still_verifies_after_more_entries(app, database_url):
    """Entries added after a checkpoint through carelog do not make the checkpoint fail."""
    checkpoint = checkpoint_before_attack(app)
    with app.app_context(), write_transaction(db.session) as session:
        chain.record(session, actor.Actor(None, "test"), "test.later", "test", 1)
    checked = verify(app, "--expect", checkpoint)
    assert checked.exit_code == 0, checked.output
    head, count = checkpoint.split(":")
    assert f"OK: {int(count) + 1} entries" in checked.output
