"""Durable state in SQLite: instances, their histories, tasks, an inbox and a work queue.

One write transaction per step (BEGIN IMMEDIATE), WAL journal, so a process killed at any
moment leaves a state a restart resumes from:

- `instances`  one row per orchestration instance (status, input, output, custom status).
- `history`    the events of the current execution, append-only, in order.
- `tasks`      every sequence number an execution consumed: what it scheduled, retries.
- `inbox`      events waiting for the next replay of an instance (completions, timers
               fired, external events, terminate requests, starts).
- `work`       activities to run and durable timers to fire. An item is deleted in the
               same transaction that puts its result into the inbox; items left `running`
               by a crash are run again (at least once, as in Azure).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS instances (
    instance_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    input TEXT,
    output TEXT,
    custom_status TEXT,
    parent_instance_id TEXT,
    parent_execution_id TEXT,
    parent_task_id INTEGER,
    version TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    history_len INTEGER NOT NULL DEFAULT 0,
    next_task_id INTEGER NOT NULL DEFAULT 0,
    replays INTEGER NOT NULL DEFAULT 0,
    generation INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS instances_created ON instances(created_at);
CREATE TABLE IF NOT EXISTS history (
    instance_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    execution_id TEXT NOT NULL,
    event TEXT NOT NULL,
    PRIMARY KEY (instance_id, seq)
);
CREATE TABLE IF NOT EXISTS tasks (
    instance_id TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    task_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    hidden INTEGER NOT NULL DEFAULT 0,
    retry TEXT,
    attempt INTEGER NOT NULL DEFAULT 1,
    target TEXT,
    input TEXT,
    PRIMARY KEY (instance_id, execution_id, task_id)
);
CREATE TABLE IF NOT EXISTS inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id TEXT NOT NULL,
    execution_id TEXT,
    event TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS inbox_instance ON inbox(instance_id, id);
CREATE TABLE IF NOT EXISTS work (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    task_id INTEGER NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    input TEXT,
    fire_at REAL,
    state TEXT NOT NULL DEFAULT 'ready'
);
CREATE INDEX IF NOT EXISTS work_kind ON work(kind, state, fire_at);
CREATE INDEX IF NOT EXISTS work_instance ON work(instance_id, execution_id);
CREATE TABLE IF NOT EXISTS timer_triggers (
    name TEXT PRIMARY KEY,
    last_fire TEXT NOT NULL
);
"""

TERMINAL = ("Completed", "Failed", "Terminated", "Canceled")


@dataclass
class Instance:
    """One row of `instances`."""

    instance_id: str
    name: str
    status: str
    execution_id: str
    input: str | None
    output: str | None
    custom_status: str | None
    parent_instance_id: str | None
    parent_execution_id: str | None
    parent_task_id: int | None
    version: str
    created_at: str
    updated_at: str
    history_len: int
    next_task_id: int
    replays: int
    generation: int

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL


@dataclass
class TaskRow:
    """A sequence number an execution consumed and what it stands for."""

    task_id: int
    kind: str  # activity | suborchestration | timer | retry-timer | continue-as-new
    name: str = ""
    hidden: bool = False
    retry: str | None = None
    attempt: int = 1
    target: str | None = None  # for a retry timer: the kind it retries
    input: str | None = None


class Store:
    """A SQLite database shared by the threads of one devhost process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self.connection().executescript(SCHEMA)

    def connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=60000")
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed when the block ends, rolled back on an error."""
        conn = self.connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # Reads -------------------------------------------------------------------------------

    def instance(self, instance_id: str, conn: sqlite3.Connection | None = None) -> Instance | None:
        row = (
            (conn or self.connection())
            .execute("SELECT * FROM instances WHERE instance_id = ?", (instance_id,))
            .fetchone()
        )
        return Instance(**dict(row)) if row else None

    def instances(
        self,
        *,
        statuses: list[str] | None = None,
        created_from: str | None = None,
        created_to: str | None = None,
        prefix: str | None = None,
        limit: int | None = None,
        after: str | None = None,
        newest_first: bool = False,
    ) -> list[Instance]:
        """Instances in instance id order (an Azure Table query's order), or newest first;
        `after` starts after that instance id."""
        clauses: list[str] = []
        params: list[Any] = []
        if statuses:
            clauses.append(f"status IN ({','.join('?' * len(statuses))})")
            params.extend(statuses)
        if created_from:
            clauses.append("created_at >= ?")
            params.append(created_from)
        if created_to:
            clauses.append("created_at <= ?")
            params.append(created_to)
        if prefix:
            clauses.append("substr(instance_id, 1, ?) = ?")
            params.extend([len(prefix), prefix])
        if after is not None:
            clauses.append("instance_id > ?")
            params.append(after)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        tail = f" LIMIT {int(limit)}" if limit else ""
        order = "created_at DESC, instance_id" if newest_first else "instance_id"
        rows = (
            self.connection()
            .execute(f"SELECT * FROM instances {where} ORDER BY {order}{tail}", params)
            .fetchall()
        )
        return [Instance(**dict(r)) for r in rows]

    def history(self, instance_id: str) -> list[dict[str, Any]]:
        rows = (
            self.connection()
            .execute("SELECT event FROM history WHERE instance_id = ? ORDER BY seq", (instance_id,))
            .fetchall()
        )
        return [json.loads(r[0]) for r in rows]

    def history_texts(self, instance_id: str, start: int = 0) -> list[str]:
        rows = (
            self.connection()
            .execute(
                "SELECT event FROM history WHERE instance_id = ? AND seq >= ? ORDER BY seq",
                (instance_id, start),
            )
            .fetchall()
        )
        return [r[0] for r in rows]

    def tasks(self, instance_id: str, execution_id: str) -> dict[int, TaskRow]:
        rows = (
            self.connection()
            .execute(
                "SELECT task_id, kind, name, hidden, retry, attempt, target, input FROM tasks "
                "WHERE instance_id = ? AND execution_id = ? ORDER BY task_id",
                (instance_id, execution_id),
            )
            .fetchall()
        )
        return {
            r["task_id"]: TaskRow(
                task_id=r["task_id"],
                kind=r["kind"],
                name=r["name"],
                hidden=bool(r["hidden"]),
                retry=r["retry"],
                attempt=r["attempt"],
                target=r["target"],
                input=r["input"],
            )
            for r in rows
        }

    def inbox(self, instance_id: str) -> list[tuple[int, str | None, dict[str, Any]]]:
        rows = (
            self.connection()
            .execute(
                "SELECT id, execution_id, event FROM inbox WHERE instance_id = ? ORDER BY id",
                (instance_id,),
            )
            .fetchall()
        )
        return [(r[0], r[1], json.loads(r[2])) for r in rows]

    def instances_with_inbox(self) -> list[str]:
        rows = (
            self.connection()
            .execute("SELECT instance_id, MIN(id) AS first FROM inbox GROUP BY instance_id")
            .fetchall()
        )
        return [r[0] for r in sorted(rows, key=lambda r: r[1])]

    def pending_work(self, instance_id: str) -> list[sqlite3.Row]:
        return (
            self.connection()
            .execute("SELECT * FROM work WHERE instance_id = ? ORDER BY id", (instance_id,))
            .fetchall()
        )

    def next_timer(self) -> float | None:
        row = (
            self.connection()
            .execute("SELECT MIN(fire_at) FROM work WHERE kind = 'timer' AND state = 'ready'")
            .fetchone()
        )
        return float(row[0]) if row and row[0] is not None else None

    # Work items -----------------------------------------------------------------------------

    def claim_activities(self, limit: int) -> list[sqlite3.Row]:
        """Up to `limit` ready activities, oldest first, marked running."""
        with self.transaction() as conn:
            claimed = conn.execute(
                "SELECT id, instance_id, execution_id, task_id, name, input FROM work "
                "WHERE kind = 'activity' AND state = 'ready' ORDER BY id LIMIT ?",
                (limit,),
            ).fetchall()
            conn.executemany(
                "UPDATE work SET state = 'running' WHERE id = ?", [(row["id"],) for row in claimed]
            )
        return claimed

    @staticmethod
    def due_timers(conn: sqlite3.Connection, now: float) -> list[sqlite3.Row]:
        return conn.execute(
            "SELECT id, instance_id, execution_id, task_id, fire_at FROM work "
            "WHERE kind = 'timer' AND state = 'ready' AND fire_at <= ? ORDER BY fire_at",
            (now,),
        ).fetchall()

    @staticmethod
    def deliver(conn: sqlite3.Connection, work: sqlite3.Row | dict[str, Any], event: str) -> bool:
        """A work item done: its event goes to its instance's inbox in its place. False when
        the item is gone (its instance was purged or restarted meanwhile)."""
        if conn.execute("DELETE FROM work WHERE id = ?", (work["id"],)).rowcount == 0:
            return False
        conn.execute(
            "INSERT INTO inbox(instance_id, execution_id, event) VALUES (?, ?, ?)",
            (work["instance_id"], work["execution_id"], event),
        )
        return True

    # Writes used outside the engine's steps -----------------------------------------------

    def reset_running_work(self) -> int:
        """After a crash: work items a dead process had started are ready to run again."""
        with self.transaction() as conn:
            return conn.execute("UPDATE work SET state = 'ready' WHERE state = 'running'").rowcount

    @staticmethod
    def delete_instance(conn: sqlite3.Connection, instance_id: str) -> None:
        for table in ("history", "tasks", "inbox", "work"):
            conn.execute(f"DELETE FROM {table} WHERE instance_id = ?", (instance_id,))
        conn.execute("DELETE FROM instances WHERE instance_id = ?", (instance_id,))

    def timer_trigger_last(self, name: str) -> str | None:
        row = (
            self.connection()
            .execute("SELECT last_fire FROM timer_triggers WHERE name = ?", (name,))
            .fetchone()
        )
        return str(row[0]) if row else None

    def set_timer_trigger_last(self, name: str, when: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO timer_triggers(name, last_fire) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET last_fire = excluded.last_fire",
                (name, when),
            )
