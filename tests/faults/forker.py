"""A pre-imported parent that forks one child per ``python -m pullwatch`` run (test harness).

Starting ``python -m pullwatch`` costs most of a second (the Azure SDK imports); the fault tests
need a few hundred runs. This process imports pullwatch and the SDK once, **starts no thread**
(so forking is safe), and forks a child for each run. A child is a fresh process with those
imports: it sets its environment, working directory, argv and stdout/stderr files and runs
``pullwatch.commands.main.main(argv)``, which is all ``python -m pullwatch`` does (an exception
that escapes prints a traceback and exits 1, as the interpreter would).

One test seam: ``lock_wait`` sets ``pullwatch.ledger.stores.LOCK_WAIT`` (how long a run waits
for another run's lock or lease, 60 s) in that child only, so that a test can see runs give up.
``user`` (uid, gid) runs the child as that user, so that file permissions apply when the tests
run as root.

Protocol, JSON lines. In (stdin): ``{"id", "argv", "env", "cwd", "stdout", "stderr",
"lock_wait", "user"}`` to start a run, ``{"kill": pid}`` to SIGKILL one that has not ended (this
process reaps its children, so only it knows for sure that a pid is still its child). Out (stdout): ``{"ready": true}`` once imported; ``{"id", "pid"}`` when forked;
``{"pid", "status"}`` when a child has ended (``os.waitstatus_to_exitcode``: -9 for SIGKILL).
The parent ends when its stdin closes; children still running are left to finish.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import sys
import traceback
from typing import Any


def _warm_up() -> None:
    """Import what a ``run`` imports lazily, so that no child pays for it (or fails to: a child
    run as another user may not be allowed to read the interpreter's own library)."""
    import codecs

    for encoding in ("utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "latin-1", "ascii"):
        codecs.lookup(encoding)
    import azure.core.exceptions
    import azure.core.pipeline.transport
    import azure.storage.blob  # noqa: F401

    import pullwatch.commands.main as main
    import pullwatch.fetch.filesource
    import pullwatch.ledger.stores
    import pullwatch.tick.runtime  # noqa: F401

    main.build_parser()  # imports every command module


def _child(command: dict[str, Any]) -> None:
    """Runs in the forked child; never returns."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        null = os.open(os.devnull, os.O_RDONLY)
        out = os.open(command["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        err = os.open(command["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(null, 0)
        os.dup2(out, 1)
        os.dup2(err, 2)
        for fd in (null, out, err):
            os.close(fd)
        if command.get("user"):
            uid, gid = command["user"]
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
        os.chdir(command["cwd"])
        os.environ.clear()
        os.environ.update(command["env"])
        if command.get("lock_wait") is not None:
            import pullwatch.ledger.stores as stores

            stores.LOCK_WAIT = float(command["lock_wait"])
        from pullwatch.commands.main import main

        argv = list(command["argv"])
        sys.argv = ["pullwatch", *argv]
        try:
            code = main(argv)
        except SystemExit as leaving:
            code = leaving.code if isinstance(leaving.code, int) else 1
        except BaseException:
            traceback.print_exc()
            code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # a closed stream: nothing more to say
                stream.flush()
        os._exit(code)


def _send(message: dict[str, Any]) -> None:
    os.write(1, (json.dumps(message) + "\n").encode())


def serve() -> None:
    _warm_up()
    sys.stdout.flush()
    sys.stderr.flush()
    _send({"ready": True})
    pending = b""
    children: set[int] = set()
    open_input = True
    while open_input or children:
        readable: list[int] = []
        if open_input:
            readable, _, _ = select.select([0], [], [], 0.01)
        else:
            select.select([], [], [], 0.01)
        if readable:
            chunk = os.read(0, 65536)
            if not chunk:
                open_input = False
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                command = json.loads(line)
                if "kill" in command:
                    if command["kill"] in children:  # not reaped: still our child
                        os.kill(command["kill"], signal.SIGKILL)
                    continue
                pid = os.fork()
                if pid == 0:
                    _child(command)
                children.add(pid)
                _send({"id": command["id"], "pid": pid})
        while children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            children.discard(pid)
            _send({"pid": pid, "status": os.waitstatus_to_exitcode(status)})


if __name__ == "__main__":
    serve()
