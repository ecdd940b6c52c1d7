"""The alert ledger: what pullwatch remembers between ticks, as one versioned JSON document. Pure.

One ``Ledger`` holds:

- ``entries``: one ``Entry`` per revision key (``environment/app/revision``) with the evidence
  needed to build any later alert (cause, facts, steps, links, sample) after the logs are gone,
  the counts and first/last seen times, and what was last *told* (``notified_cause``,
  ``notified_at``) so the decision can compare the truth with what people know;
- ``silences``: matchers (globs on app, revision, environment; exact cause) with an expiry;
- ``outbox``: notifications decided but not yet accepted by every channel, with per-channel
  delivery state, so an outage of one chat service loses nothing and resends nothing elsewhere;
- ``dead_letters``: notifications given up on (refused too often, or never accepted within the
  retention period), kept for ``ledger show`` for a while;
- ``last_tick``: the clock of the last tick that saved (a clock going backwards or jumping far
  ahead is reported, and never expires anything early);
- ``watermarks``: the ingestion-time watermark of the log query, per workspace (``watermark``:
  the single one of older documents, used for workspaces without their own);
- ``environments``: per environment, the newest system-log row seen (of any kind) and its table:
  the evidence that its logs are flowing, without which no revision of it resolves as quiet;
- ``seq``: a counter for short, stable ids (``n12`` notifications, ``s3`` silences);
- ``health``: how pullwatch's own parts (workspaces, the ledger, channels, the log pipeline)
  fared in recent ticks (``pullwatch.ledger.health``; absent in older documents).

Every operation returns a new ``Ledger``; nothing here reads the clock or touches storage
(see ``pullwatch.ledger.stores``). ``from_json`` raises ``LedgerCorrupt`` on anything it cannot read,
including another schema: a ledger is never silently reset (that would re-alert everything).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from pullwatch.errors import LedgerCorrupt
from pullwatch.fetch.records import ANY_WORKSPACE
from pullwatch.ledger.entries import Entry
from pullwatch.ledger.fields import iso, opt_time, parse_time, utc
from pullwatch.ledger.health import Health
from pullwatch.ledger.outbox import PendingNotification
from pullwatch.ledger.silences import Silence

LEDGER_SCHEMA = "pullwatch.ledger/v1"


@dataclass(frozen=True)
class EnvironmentLogs:
    """The newest system-log row seen for an environment (any app, any kind)."""

    last_row: datetime
    table: str = ""
    workspace: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"last_row": iso(self.last_row), "table": self.table, "workspace": self.workspace}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EnvironmentLogs:
        return cls(
            last_row=parse_time(data["last_row"]),
            table=str(data.get("table", "")),
            workspace=str(data.get("workspace", "")),
        )


@dataclass(frozen=True)
class Ledger:
    """The whole document. Immutable: every change returns a new ``Ledger``."""

    entries: Mapping[str, Entry] = field(default_factory=dict)
    silences: tuple[Silence, ...] = ()
    outbox: tuple[PendingNotification, ...] = ()
    watermark: datetime | None = None
    seq: int = 0
    dead_letters: tuple[PendingNotification, ...] = ()
    last_tick: datetime | None = None
    watermarks: Mapping[str, datetime] = field(default_factory=dict)
    environments: Mapping[str, EnvironmentLogs] = field(default_factory=dict)
    health: Health = field(default_factory=Health)

    @classmethod
    def empty(cls) -> Ledger:
        return cls()

    def watermark_map(self) -> dict[str, datetime]:
        """Each workspace's watermark; the old single one under ``ANY_WORKSPACE``."""
        marks = dict(self.watermarks)
        if self.watermark is not None:
            marks.setdefault(ANY_WORKSPACE, self.watermark)
        return marks

    def next_id(self, prefix: str) -> tuple[str, Ledger]:
        """A new short id (``n1``, ``s2``...) and the ledger with its counter advanced."""
        seq = self.seq + 1
        return f"{prefix}{seq}", replace(self, seq=seq)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": LEDGER_SCHEMA,
            "watermark": iso(self.watermark),
            "seq": self.seq,
            "entries": {key: self.entries[key].to_dict() for key in sorted(self.entries)},
            "silences": [s.to_dict() for s in self.silences],
            "outbox": [n.to_dict() for n in self.outbox],
            "dead_letters": [n.to_dict() for n in self.dead_letters],
            "last_tick": iso(self.last_tick),
            "watermarks": {ws: iso(mark) for ws, mark in sorted(self.watermarks.items())},
            "environments": {
                name: logs.to_dict() for name, logs in sorted(self.environments.items())
            },
            "health": self.health.to_dict(),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1) + "\n"

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "ledger") -> Ledger:
        """Read a parsed document; ``LedgerCorrupt`` (naming ``source``) if it is not one."""
        if not isinstance(data, dict):
            raise LedgerCorrupt(
                f"{source} is not a pullwatch ledger (not a JSON object); refusing to overwrite it"
            )
        schema = data.get("schema")
        if schema is None:
            raise LedgerCorrupt(
                f"{source} has no schema field, so it is not a pullwatch ledger; "
                "refusing to overwrite it"
            )
        if schema != LEDGER_SCHEMA:
            raise LedgerCorrupt(
                f"{source} has schema {str(schema)[:60]!r}, expected {LEDGER_SCHEMA!r}; "
                "it was not written by this pullwatch version (refusing to overwrite it)"
            )
        try:
            entries = {}
            for key, value in dict(data.get("entries", {})).items():
                entry = Entry.from_dict(value)
                if entry.key != key:
                    raise ValueError(f"entry {key!r} describes {entry.key!r}")
                entries[key] = entry
            return cls(
                entries=entries,
                silences=tuple(Silence.from_dict(s) for s in data.get("silences", [])),
                outbox=tuple(PendingNotification.from_dict(n) for n in data.get("outbox", [])),
                watermark=opt_time(data.get("watermark")),
                seq=int(data.get("seq", 0)),
                dead_letters=tuple(
                    PendingNotification.from_dict(n) for n in data.get("dead_letters", [])
                ),
                last_tick=opt_time(data.get("last_tick")),
                watermarks={
                    str(ws): parse_time(mark)
                    for ws, mark in dict(data.get("watermarks", {})).items()
                },
                environments={
                    str(name): EnvironmentLogs.from_dict(logs)
                    for name, logs in dict(data.get("environments", {})).items()
                },
                health=Health.from_dict(data.get("health")),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise LedgerCorrupt(
                f"{source} is corrupt: {type(error).__name__}: {str(error)[:200]} "
                "(fix or move the document away; it is never reset automatically)"
            ) from None

    @classmethod
    def from_json(cls, text: str | bytes, *, source: str = "ledger") -> Ledger:
        """Parse a stored document; ``LedgerCorrupt`` on invalid JSON or another schema."""
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as error:
            raise LedgerCorrupt(
                f"{source} is not valid JSON ({str(error)[:120]}); it is never reset "
                "automatically: fix or move it away to start a new ledger"
            ) from None
        return cls.from_dict(data, source=source)


# --- pure operations ---------------------------------------------------------------------------


def with_watermark(ledger: Ledger, watermark: datetime | None) -> Ledger:
    """The ledger with its single (any-workspace) ingestion watermark set."""
    return replace(ledger, watermark=utc(watermark) if watermark else None)


def with_workspace_watermark(ledger: Ledger, workspace: str, watermark: datetime) -> Ledger:
    """The ledger with one workspace's watermark set (call only after its answer was whole)."""
    return replace(ledger, watermarks={**ledger.watermarks, workspace: utc(watermark)})


def with_environment_logs(
    ledger: Ledger, environment: str, last_row: datetime, table: str, workspace: str
) -> Ledger:
    """The ledger knowing ``environment`` logged a row at ``last_row`` (kept if newer)."""
    known = ledger.environments.get(environment)
    if known is not None and known.last_row >= last_row:
        return ledger
    logs = EnvironmentLogs(utc(last_row), table, workspace)
    return replace(ledger, environments={**ledger.environments, environment: logs})


def with_last_tick(ledger: Ledger, now: datetime) -> Ledger:
    """The ledger stamped with this tick's clock."""
    return replace(ledger, last_tick=utc(now))


def with_entry(ledger: Ledger, entry: Entry) -> Ledger:
    return replace(ledger, entries={**ledger.entries, entry.key: entry})


def with_health(ledger: Ledger, health: Health) -> Ledger:
    """The ledger with its health record replaced."""
    return ledger if health is ledger.health else replace(ledger, health=health)
