"""Check ``az`` invocations against the Azure CLI's own command table (runs in ``.venv-azcli``).

Reads ``{"invocations": [{"argv": [...], "dynamic": [...], "fragment": bool}]}`` as JSON on
stdin and prints one list of problems per invocation as JSON. The command table is loaded once
(every command module, about 6,000 commands), without a login and with sockets disabled: any
attempt to reach the network fails the run. Checked per invocation: the command group and
subcommand exist; every flag is one of the command's options (or a global one) and is not
deprecated; literal values are among the allowed choices; required arguments are present
(unless ``fragment``: a command quoted in prose); ``--query`` is valid JMESPath and, evaluated
on what Azure answers (``samples.py``), yields a value for every field it names; ``-o`` is an
output format. Commands that only the containerapp extension has (not on PyPI) are checked
against ``EXTENSION_COMMANDS``: their documented flags, kept here with the reference page.
"""

from __future__ import annotations

import importlib
import json
import os
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any

# The containerapp extension's commands that core azure-cli lacks, with their documented flags
# (https://learn.microsoft.com/cli/azure/containerapp#az-containerapp-debug, and the
# extension's _params.py: --container, --replica, --revision, --name/-n, --resource-group/-g).
EXTENSION_COMMANDS: dict[str, dict[str, Any]] = {
    "containerapp debug": {
        "url": "https://learn.microsoft.com/cli/azure/containerapp#az-containerapp-debug",
        "options": {
            "--name": "name",
            "-n": "name",
            "--resource-group": "resource_group_name",
            "-g": "resource_group_name",
            "--revision": "revision",
            "--replica": "replica",
            "--container": "container",
        },
        "required": ["name", "resource_group_name"],
    },
}
GLOBAL_OPTIONS = {
    "--query": "query",
    "--output": "output",
    "-o": "output",
    "--subscription": "subscription",
    "--only-show-errors": "only_show_errors",
    "--debug": "debug",
    "--verbose": "verbose",
    "--help": "help",
    "-h": "help",
}
FLAG_ONLY_GLOBALS = {"only_show_errors", "debug", "verbose", "help"}
OUTPUT_FORMATS = {"json", "jsonc", "none", "table", "tsv", "yaml", "yamlc"}


def _no_network(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError("the command-table check must not use the network")


class CommandTable:
    """The Azure CLI's loaded command table and each command's arguments.

    ``modules`` limits loading to those command modules (the checked commands' groups name
    them: acr, containerapp, network, ...); ``None`` loads every module.
    """

    def __init__(self, modules: set[str] | None = None) -> None:
        os.environ.setdefault("AZURE_CONFIG_DIR", tempfile.mkdtemp(prefix="pullwatch-azcli-"))
        os.environ["AZURE_CORE_COLLECT_TELEMETRY"] = "no"
        os.environ["AZURE_CORE_USE_COMMAND_INDEX"] = "false"  # no index or help cache to build
        os.environ["AZURE_CORE_NO_COLOR"] = "true"
        from azure.cli.core import get_default_cli

        cli = get_default_cli()
        invocation = cli.invocation_cls(
            cli_ctx=cli,
            parser_cls=cli.parser_cls,
            commands_loader_cls=cli.commands_loader_cls,
            help_cls=cli.help_cls,
        )
        cli.invocation = invocation
        invocation.data = {"command_string": ""}
        self._invocation = invocation
        self._loader = invocation.commands_loader
        if modules is not None:
            load_modules = self._loader._load_modules
            self._loader._load_modules = lambda args, names: load_modules(
                args, [name for name in names if name in modules]
            )
        self.table = self._loader.load_command_table(None)
        self.complete = modules is None
        self.groups = {" ".join(name.split()[:n]) for name in self.table for n in range(1, 4)}
        self._arguments: dict[str, dict[str, Any]] = {}

    def arguments(self, name: str) -> dict[str, Any]:
        if name not in self._arguments:
            self._invocation.data["command_string"] = name
            self._loader.command_name = name
            command = self.table[name]
            command.load_arguments()
            self._loader.load_arguments(name)
            self._arguments[name] = dict(command.arguments)
        return self._arguments[name]


def check(table: CommandTable, request: dict[str, Any]) -> list[str]:
    argv: list[str] = request["argv"]
    dynamic: list[bool] = request["dynamic"]
    if not argv or argv[0] != "az":
        return [f"not an az command: {argv[:1]}"]
    words = []
    for word in argv[1:]:
        if word.startswith("-"):
            break
        words.append(word)
    name = " ".join(words)
    if name in EXTENSION_COMMANDS:
        spec = EXTENSION_COMMANDS[name]
        options = {**GLOBAL_OPTIONS, **spec["options"]}
        takes_value = dict.fromkeys(options.values(), 1)
        for flag in FLAG_ONLY_GLOBALS:
            takes_value[flag] = 0
        return _check_options(
            name, argv[1 + len(words) :], dynamic[1 + len(words) :], options, takes_value,
            {}, set(spec["required"]), set(), request.get("fragment", False),
        )  # fmt: skip
    if name not in table.table:
        known = [n for n in range(len(words), 0, -1) if " ".join(words[:n]) in table.groups]
        where = f" (group 'az {' '.join(words[: known[0]])}' exists)" if known else ""
        return [f"'az {name}' is not a command of azure-cli{where}"]
    arguments = table.arguments(name)
    options = dict(GLOBAL_OPTIONS)
    takes_value: dict[str, int | str] = dict.fromkeys(GLOBAL_OPTIONS.values(), 1)
    for flag in FLAG_ONLY_GLOBALS:
        takes_value[flag] = 0
    choices: dict[str, set[str]] = {"output": OUTPUT_FORMATS}
    required: set[str] = set()
    id_parts: set[str] = set()
    deprecated: set[str] = set()
    positionals: list[str] = []
    for dest, argument in arguments.items():
        settings = argument.type.settings
        if settings.get("help") == "==SUPPRESS==" and dest in ("cmd", "__cmd__"):
            continue
        option_list = settings.get("options_list")
        if option_list == []:  # a positional argument (az acr build's source location)
            positionals.append(dest)
        option_list = option_list or [f"--{dest.replace('_', '-')}"]
        for option in option_list:
            text = option if isinstance(option, str) else getattr(option, "target", str(option))
            if getattr(option, "hide", False) or _is_deprecated(option):
                deprecated.add(text)
            options[text] = dest
        action = settings.get("action")
        nargs = settings.get("nargs")
        if action in ("store_true", "store_false") or nargs == 0:
            takes_value[dest] = 0
        elif nargs in ("?", "*", "+"):
            takes_value[dest] = nargs
        else:
            takes_value[dest] = 1
        if settings.get("choices"):
            choices[dest] = {str(c).lower() for c in settings["choices"]}
        if settings.get("required") is True:
            required.add(dest)
        if settings.get("id_part"):
            id_parts.add(dest)
        if settings.get("deprecate_info") is not None:
            deprecated.update(o for o in option_list if isinstance(o, str))
    if id_parts:
        options["--ids"] = "ids"
        takes_value["ids"] = "+"
    problems = _check_options(
        name, argv[1 + len(words) :], dynamic[1 + len(words) :], options, takes_value,
        choices, required, id_parts, request.get("fragment", False), deprecated, positionals,
    )  # fmt: skip
    return problems


def _is_deprecated(option: object) -> bool:
    return type(option).__name__ == "Deprecated"


def _check_options(
    name: str,
    args: list[str],
    dynamic: list[bool],
    options: dict[str, str],
    takes_value: dict[str, int | str],
    choices: dict[str, set[str]],
    required: set[str],
    id_parts: set[str],
    fragment: bool,
    deprecated: set[str] | None = None,
    positionals: list[str] | None = None,
) -> list[str]:
    problems: list[str] = []
    given: dict[str, list[tuple[str, bool]]] = {}
    free = list(positionals or [])
    index = 0
    while index < len(args):
        flag = args[index]
        if free and not flag.startswith("-"):
            given[free.pop(0)] = [(flag, dynamic[index])]
            index += 1
            continue
        value_inline = None
        if flag.startswith("--") and "=" in flag:
            flag, value_inline = flag.split("=", 1)
        if flag not in options:
            problems.append(f"'az {name}' has no option {flag}")
            index += 1
            while index < len(args) and not args[index].startswith("-"):
                index += 1
            continue
        if deprecated and flag in deprecated:
            problems.append(f"'az {name}' option {flag} is deprecated")
        dest = options[flag]
        count = takes_value.get(dest, 1)
        values: list[tuple[str, bool]] = []
        index += 1
        if value_inline is not None:
            values.append((value_inline, False))
        elif count == 1:
            if index >= len(args) or (args[index].startswith("-") and not dynamic[index]):
                if not fragment:
                    problems.append(f"'az {name}' option {flag} needs a value")
            else:
                values.append((args[index], dynamic[index]))
                index += 1
        elif count in ("?", "*", "+"):
            while index < len(args) and (dynamic[index] or not args[index].startswith("-")):
                values.append((args[index], dynamic[index]))
                index += 1
            if count == "+" and not values:
                problems.append(f"'az {name}' option {flag} needs a value")
        given.setdefault(dest, []).extend(values)
        for value, is_dynamic in values:
            if dest in choices and not is_dynamic and value.lower() not in choices[dest]:
                allowed = ", ".join(sorted(choices[dest]))
                problems.append(f"'az {name}' {flag} {value!r} is not one of: {allowed}")
    if not fragment:
        satisfied = set(given)
        if "ids" in given:
            satisfied |= id_parts
        for dest in sorted(required - satisfied):
            problems.append(f"'az {name}' is missing its required argument {dest}")
    for value, _is_dynamic in given.get("query", []):
        problems.extend(_check_query(name, value))
    return problems


def _check_query(name: str, query: str) -> list[str]:
    import jmespath

    try:
        compiled = jmespath.compile(query)
    except jmespath.exceptions.JMESPathError as error:
        return [f"'az {name}' --query {query!r} is not JMESPath: {error}"]
    from samples import SAMPLES  # type: ignore[import-not-found]

    if name not in SAMPLES:
        return [f"no sample output of 'az {name}' to check --query {query!r} against"]
    from jmespath.visitor import TreeInterpreter

    relaxed = _relax(compiled.parsed)
    result = TreeInterpreter().visit(relaxed, cli_output(name, *SAMPLES[name]))
    if result is None or result == [] or result == "":
        return [f"'az {name}' --query {query!r} yields nothing on what Azure answers"]
    if isinstance(result, dict):
        empty = sorted(key for key, value in result.items() if value in (None, []))
        if empty:
            return [f"'az {name}' --query {query!r} yields nothing for {', '.join(empty)}"]
    return []


_NULL = {"type": "literal", "value": None, "children": []}
_STRING_TESTS = {"starts_with", "ends_with", "contains"}


def _relax(node: dict[str, Any]) -> dict[str, Any]:
    """The query with every test of a field against a literal made a test that the field exists.

    The literals are the line's facts (a registry, an image) that the sample cannot know in
    advance; what is checked is that the field the test reads is one Azure returns.
    """
    children = [_relax(child) for child in node.get("children", [])]
    literal = [c for c in children if c.get("type") == "literal"]
    field = [c for c in children if c.get("type") != "literal"]
    if node["type"] == "comparator" and node["value"] == "eq" and literal and field:
        return {"type": "comparator", "value": "ne", "children": [field[0], _NULL]}
    if node["type"] == "function_expression" and node["value"] in _STRING_TESTS and field:
        return {"type": "comparator", "value": "ne", "children": [field[0], _NULL]}
    return {**node, "children": children}


def cli_output(name: str, style: str, model: str | None, document: Any) -> Any:
    """What ``az <name>`` prints (as JSON data) when Azure answers ``document``."""
    from azure.cli.core.util import todict

    if style == "aaz":
        return _aaz_output(name, document)
    if style == "rest":  # commands that print the REST JSON as received (containerapp job ...)
        return document
    module, _, class_name = (model or "").partition(":")
    cls = getattr(importlib.import_module(module), class_name)
    if style == "typespec":
        return todict(cls(document))
    if style == "msrest":
        return todict(cls.deserialize(document))
    if style == "arm":
        return cls.deserialize(document).serialize(keep_readonly=True)
    if style == "arm-list":
        return [cls.deserialize(item).serialize(keep_readonly=True) for item in document]
    raise ValueError(f"unknown sample style {style}")


_TABLE: CommandTable | None = None


def _aaz_output(name: str, document: Any) -> Any:
    from azure.cli.core.aaz import AAZObjectType
    from azure.cli.core.aaz._command import AAZCommand

    assert _TABLE is not None
    command = _TABLE.table[name]
    operation = next(
        value
        for cls in type(command).__mro__
        for value in vars(cls).values()
        if isinstance(value, type) and hasattr(value, "_build_schema_on_200")
    )
    holder = AAZObjectType()
    holder["instance"] = operation._build_schema_on_200()
    value = holder._ValueCls(schema=holder, data=holder.process_data(None))
    listing = isinstance(document, list)
    value["instance"] = {"value": document} if listing else document
    instance = value["instance"]
    return AAZCommand.deserialize_output(instance.value if listing else instance)


def modules_for(requests: list[dict[str, Any]]) -> set[str]:
    """The command modules named by the requests' groups (``network private-dns``: privatedns)."""
    modules = set()
    for request in requests:
        words = [w for w in request["argv"][1:3] if not w.startswith("-")]
        if words:
            modules.add(words[0])
            modules.add("".join(words).replace("-", ""))
            modules.add("".join(words[1:]).replace("-", ""))
    return modules


def _unknown_group(table: CommandTable, request: dict[str, Any]) -> bool:
    """Whether the request's top-level group is in no loaded module (so maybe in another)."""
    argv = request["argv"]
    return len(argv) > 1 and argv[0] == "az" and argv[1] not in table.groups


def main() -> int:
    global _TABLE
    sys.path.insert(0, str(Path(__file__).parent))
    request = json.load(sys.stdin)
    socket.socket.connect = _no_network  # type: ignore[method-assign]
    socket.create_connection = _no_network  # type: ignore[assignment]
    _TABLE = CommandTable(modules_for(request["invocations"]))
    results = [check(_TABLE, item) for item in request["invocations"]]
    if any(_unknown_group(_TABLE, item) for item in request["invocations"]):
        # a group that none of the loaded modules has: load every module and check again
        _TABLE = CommandTable()
        results = [check(_TABLE, item) for item in request["invocations"]]
    json.dump(
        {"results": results, "commands": len(_TABLE.table), "complete": _TABLE.complete},
        sys.stdout,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
