"""What the fault tests share: runs of ``python -m pullwatch`` (forked from a pre-imported parent,
see ``forker.py``), a log export to read, the webhook channels, and counting what arrived.

``Forker.start(argv, env)`` returns a ``Run`` at once (its ``pid`` can be killed); ``wait()``
gives the exit code and what the run printed. Settings reach a run only through the ``env`` it
is given (nothing of the test process's ``PULLWATCH_*`` leaks in).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from notifiers.base import HEADLINES
from tests.fakes.webhooks import SLACK, TEAMS, ChatServer, Received

ROOT = Path(__file__).resolve().parents[2]
TEAMS_PATH = "/workflows/SECRETFLOW/triggers/manual/paths/invoke"
SLACK_PATH = "/services/T0SECRET/B0SECRET/XXSECRET"
NOT_FOUND = (
    'Failed to pull image "contoso.azurecr.io/{app}:1.4": rpc error: code = NotFound desc = '
    'failed to pull and unpack image "contoso.azurecr.io/{app}:1.4": failed to resolve '
    'reference "contoso.azurecr.io/{app}:1.4": contoso.azurecr.io/{app}:1.4: not found'
)
_REVISION = re.compile(r"\b[a-z][a-z0-9-]*--\d{7}\b")


# --- runs --------------------------------------------------------------------------------------


@dataclass
class Result:
    code: int  # the exit code; -9 when it was killed with SIGKILL
    stdout: str
    stderr: str

    @property
    def traceback(self) -> bool:
        return "Traceback (most recent call last)" in self.stderr


@dataclass
class Run:
    """One forked ``pullwatch`` run."""

    pid: int
    started: float
    stdout_path: Path
    stderr_path: Path
    _forker: Forker = field(repr=False)

    @property
    def done(self) -> bool:
        return self._forker._status(self.pid) is not None

    def kill(self) -> None:
        """SIGKILL the run unless it has ended (the forking parent does it: it reaps its
        children, so a pid it kills is always still one of them)."""
        self._forker._send({"kill": self.pid})

    def wait(self, timeout: float = 60.0) -> Result:
        code = self._forker._wait(self.pid, timeout)
        return Result(code, _text(self.stdout_path), _text(self.stderr_path))


def _text(path: Path) -> str:
    """What a run wrote there (nothing, when it was killed before it opened the file)."""
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""


class Forker:
    """The forking parent (``python -m tests.faults.forker``) and the runs it started."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._writing = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._pids: dict[int, int] = {}  # command id -> pid
        self._statuses: dict[int, int] = {}  # pid -> exit code
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.faults.forker"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={k: v for k, v in os.environ.items() if not k.startswith("PULLWATCH_")},
        )
        assert self._process.stdout is not None and self._process.stdin is not None
        self._stdin: IO[bytes] = self._process.stdin
        ready = self._process.stdout.readline()
        if json.loads(ready or b"{}").get("ready") is not True:
            raise RuntimeError("the forking parent did not start")
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            message = json.loads(line)
            with self._changed:
                if "id" in message:
                    self._pids[message["id"]] = message["pid"]
                else:
                    self._statuses[message["pid"]] = message["status"]
                self._changed.notify_all()

    def start(
        self,
        argv: list[str],
        env: dict[str, str],
        *,
        cwd: Path | None = None,
        lock_wait: float | None = None,
        user: tuple[int, int] | None = None,
    ) -> Run:
        number = next(self._ids)
        out = self.workdir / f"run-{number}.out"
        err = self.workdir / f"run-{number}.err"
        command = {
            "id": number,
            "argv": argv,
            "env": {"PATH": os.environ.get("PATH", ""), **env},
            "cwd": str(cwd or ROOT),
            "stdout": str(out),
            "stderr": str(err),
            "lock_wait": lock_wait,
            "user": user,
        }
        started = time.monotonic()
        with self._changed:
            self._send(command)
            if not self._changed.wait_for(lambda: number in self._pids, timeout=10):
                raise RuntimeError("the forking parent did not fork")
            pid = self._pids.pop(number)
        return Run(pid, started, out, err, self)

    def _send(self, message: dict[str, Any]) -> None:
        with self._writing:
            self._stdin.write((json.dumps(message) + "\n").encode())
            self._stdin.flush()

    def run(self, argv: list[str], env: dict[str, str], **options: Any) -> Result:
        return self.start(argv, env, **options).wait()

    def _status(self, pid: int) -> int | None:
        with self._lock:
            return self._statuses.get(pid)

    def _wait(self, pid: int, timeout: float) -> int:
        with self._changed:
            if not self._changed.wait_for(lambda: pid in self._statuses, timeout=timeout):
                raise TimeoutError(f"run {pid} did not end within {timeout} s")
            return self._statuses[pid]

    def close(self) -> None:
        self._stdin.close()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


# --- what the runs read ------------------------------------------------------------------------


def apps(count: int) -> list[str]:
    names = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india"]
    return names[:count] if count <= len(names) else [f"app{n:03d}" for n in range(count)]


def revision(app: str) -> str:
    return f"{app}--0000001"


def write_export(path: Path, failing: list[str], start: datetime, *, repeats: int = 3) -> Path:
    """An ``az monitor log-analytics query -o json`` export: each app's revision failing to pull
    a tag that does not exist, ``repeats`` times a minute apart from ``start``."""
    rows: list[dict[str, Any]] = []
    for app in failing:
        for n in range(repeats):
            at = start + timedelta(minutes=n)
            rows.append(
                {
                    "TimeGenerated": at.strftime("%Y-%m-%dT%H:%M:%S.0000000Z"),
                    "ContainerAppName_s": app,
                    "EnvironmentName_s": "cae-prod",
                    "RevisionName_s": revision(app),
                    "ReplicaName_s": f"{revision(app)}-7d9f8c6b5-x2x4z",
                    "Log_s": NOT_FOUND.format(app=app),
                    "Reason_s": "ImagePullBackOff",
                    "Type_s": "Warning",
                    "EventSource_s": "ContainerAppController",
                    "Count_d": "1",
                    "Type": "ContainerAppSystemLogs_CL",
                    "_ResourceId": "",
                }
            )
    path.write_text(json.dumps(rows))
    return path


# --- the channels ------------------------------------------------------------------------------


@dataclass
class Channels:
    """A Teams and a Slack channel on one local server, answering as the services do."""

    server: ChatServer
    teams: str = TEAMS_PATH
    slack: str = SLACK_PATH

    @classmethod
    def start(cls) -> Channels:
        server = ChatServer().start()
        server.set(TEAMS_PATH, TEAMS)
        server.set(SLACK_PATH, SLACK)
        return cls(server)

    def env(self) -> dict[str, str]:
        return {
            "PULLWATCH_TEAMS_WEBHOOK_URLS": f"teams-1={self.server.url(self.teams)}?sig=SECRETSIG",
            "PULLWATCH_SLACK_WEBHOOK_URLS": f"slack-1={self.server.url(self.slack)}",
            "PULLWATCH_DIGEST_THRESHOLD": "50",  # one message per alert: each is counted
        }

    def alerts(self, path: str) -> Counter[tuple[str, str]]:
        """How often each (kind, revision) arrived on the channel at ``path``."""
        return Counter(message_alert(r) for r in self.server.bodies(path))

    def reset(self) -> None:
        self.server.reset()


def message_alert(received: Received) -> tuple[str, str]:
    """(kind, revision) of one single-alert message, Teams card or Slack blocks."""
    texts = list(_strings(received.json()))
    text = "\n".join(texts)
    revisions = {found for value in texts for found in _REVISION.findall(value)}
    assert len(revisions) == 1, f"not a single-alert message: {sorted(revisions)}"
    kinds = [(text.find(headline), kind.value) for kind, headline in HEADLINES.items()]
    _, kind = min((at, kind) for at, kind in kinds if at >= 0)
    return kind, revisions.pop()


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def one_line_error(result: Result, *words: str) -> bool:
    """The run failed with exactly one line on stderr, from pullwatch, holding ``words``."""
    lines = result.stderr.splitlines()
    return (
        result.code == 2
        and len(lines) == 1
        and lines[0].startswith("pullwatch: error: ")
        and all(word in lines[0] for word in words)
        and "SECRET" not in result.stderr
    )
