"""``python -m pullwatch``: the command line. Each sub-command lives in ``pullwatch/commands/``.

A command module exposes ``register(subparsers)``, which adds its parser and sets
``func(args) -> int`` as the handler. Errors pullwatch raises on purpose print one clear line
(to stderr) and exit 2; nothing secret is printed.
"""

from __future__ import annotations

import argparse
import importlib
import io
import logging
import sys
from collections.abc import Sequence
from typing import NoReturn

from notifiers.errors import NotifierError
from pullwatch.errors import PullwatchError

COMMAND_MODULES: tuple[str, ...] = (
    "pullwatch.commands.classify",
    "pullwatch.commands.scan",
    "pullwatch.commands.ledger",
    "pullwatch.commands.run",
    "pullwatch.commands.verify",
    "pullwatch.commands.doctor",
)


class SdkWarningsToDebug(logging.Filter):
    """Azure SDK and urllib3 warnings (the credential chain's essay, retry notices, headers that
    did not parse) are DEBUG detail in a terminal: shown with ``-v`` only; pullwatch's own error
    line says what went wrong."""

    def __init__(self, *, shown: bool) -> None:
        super().__init__()
        self.shown = shown

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith(("azure.", "urllib3.")) and record.levelno < logging.ERROR:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return self.shown
        return True


class OneLineParser(argparse.ArgumentParser):
    """Usage errors as one line (``pullwatch scan: error: argument --since: ...``), exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="pullwatch",
        description="Find, explain and report Azure Container Apps image-pull failures.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name == name:  # a command not built yet
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Log text may hold bytes that are not UTF-8, and a terminal may not take emoji: read odd
    # bytes as U+FFFD and escape what the terminal cannot show, never fail on either.
    for stream, errors in ((sys.stdin, "replace"), (sys.stdout, "backslashreplace")):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors=errors)
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(SdkWarningsToDebug(shown=args.verbose))
    try:
        return int(args.func(args))
    except (PullwatchError, NotifierError) as error:
        print(f"pullwatch: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
