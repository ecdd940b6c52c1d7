"""Check az command lines with the real Azure CLI, offline: arguments parse, nothing is sent.

With an empty configuration directory and no login, `az` parses and validates the whole command
line first (unknown or missing arguments exit with 2) and only then stops with "Please run 'az
login'" (exit 1) before any request. So a command that reaches the login error has valid syntax
for this CLI version. `record_shell` runs a shell script with a recording `az` first on PATH: every
az call is checked that way, and the script goes on with canned output (see `AZ_SHIM`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.infra import bicep_syntax
from tests.infra.conftest import INFRA, REPO

AZ = REPO / ".venv-azcli" / "bin" / "az"
LOGIN_ERROR = "Please run 'az login'"


@dataclass(frozen=True)
class AzCall:
    argv: list[str]
    returncode: int  # of the real az
    stderr: str

    @property
    def parses(self) -> bool:
        return self.returncode == 1 and LOGIN_ERROR in self.stderr


def _environment(config_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AZURE_")}
    env.update(
        AZURE_CONFIG_DIR=str(config_dir),
        AZURE_CORE_COLLECT_TELEMETRY="false",
        AZURE_CORE_NO_COLOR="true",
        AZURE_CORE_ONLY_SHOW_ERRORS="true",
    )
    return env


def check(argv: list[str], config_dir: Path) -> AzCall:
    """Run the real az on argv (without the leading "az") with no login."""
    if not AZ.exists():
        raise AssertionError(f"the Azure CLI is not installed at {AZ}: run `make azcli-env`")
    result = subprocess.run(
        [str(AZ), *argv],
        capture_output=True,
        text=True,
        timeout=60,
        env=_environment(config_dir),
        check=False,
    )
    return AzCall(argv, result.returncode, result.stderr)


# A stand-in `az` for scripts: checks each call with the real az, records it, then answers from
# AZ_SHIM_ANSWERS, a JSON list of [argv prefix, answers]; the first matching prefix wins, and its
# answers ([stdout, exit code] pairs) are given in turn, the last one repeated; no match: "", 0.
AZ_SHIM = """#!{python}
import json, os, subprocess, sys
argv = sys.argv[1:]
cache_file = os.path.join(os.environ["AZ_SHIM_CACHE"], "checked.json")
cache = json.load(open(cache_file)) if os.path.exists(cache_file) else {{}}
key = json.dumps(argv)
if key not in cache:
    real = subprocess.run([{az!r}, *argv], capture_output=True, text=True,
                          env={{**os.environ, "AZURE_CONFIG_DIR": os.environ["AZ_SHIM_CACHE"]}})
    cache[key] = {{"returncode": real.returncode, "stderr": real.stderr}}
    json.dump(cache, open(cache_file, "w"))
with open(os.environ["AZ_SHIM_LOG"], "a") as log:
    log.write(json.dumps({{"argv": argv, **cache[key]}}) + "\\n")
for index, (prefix, answers) in enumerate(json.loads(os.environ.get("AZ_SHIM_ANSWERS", "[]"))):
    if argv[: len(prefix)] == prefix:
        counter = os.path.join(os.environ["AZ_SHIM_STATE"], f"answer-{{index}}")
        used = int(open(counter).read()) if os.path.exists(counter) else 0
        with open(counter, "w") as count:
            count.write(str(used + 1))
        stdout, code = answers[min(used, len(answers) - 1)]
        sys.stdout.write(stdout)
        sys.exit(code)
"""

Answers = Sequence[tuple[list[str], Sequence[tuple[str, int]]]]


@dataclass(frozen=True)
class ShellRun:
    returncode: int
    stdout: str
    stderr: str
    calls: list[AzCall]


def record_shell(
    script: str,
    tmp_path: Path,
    *,
    answers: Answers = (),
    env: dict[str, str] | None = None,
    interpreter: str = "bash",
    timeout: float = 120,
    cache: Path | None = None,
) -> ShellRun:
    """Run `script` (a file path or source text for `interpreter`) with the recording az on PATH.

    `cache`: a directory shared between runs (the real az's configuration and the results of the
    command lines already checked: each check takes about 2 s)."""
    if not AZ.exists():
        raise AssertionError(f"the Azure CLI is not installed at {AZ}: run `make azcli-env`")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / "az"
    shim.write_text(AZ_SHIM.format(python=sys.executable, az=str(AZ)))
    shim.chmod(0o755)
    config = cache or tmp_path / "azure-config"
    config.mkdir(exist_ok=True)
    state = tmp_path / "answers"
    state.mkdir(exist_ok=True)
    log = tmp_path / "az-calls.jsonl"
    log.write_text("")
    run_env = _environment(config)
    run_env.update(env or {})
    run_env.update(
        PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        AZ_SHIM_CACHE=str(config),
        AZ_SHIM_STATE=str(state),
        AZ_SHIM_LOG=str(log),
        AZ_SHIM_ANSWERS=json.dumps([[prefix, list(given)] for prefix, given in answers]),
    )
    # source text is never a path (a long line would make Path.is_file raise ENAMETOOLONG)
    is_file = "\n" not in script and len(script) < 4096 and Path(script).is_file()
    command = [interpreter, script] if is_file else [interpreter, "-c", script]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=run_env,
        check=False,
        cwd=REPO,
    )
    calls = [
        AzCall(entry["argv"], entry["returncode"], entry["stderr"])
        for entry in map(json.loads, log.read_text().splitlines())
    ]
    return ShellRun(result.returncode, result.stdout, result.stderr, calls)


def arm_template_like_main(path: Path) -> Path:
    """An empty ARM template with main.bicep's parameters, to stand in for infra/main.bicep: az
    compiles a .bicep file (downloading Bicep) before it asks for a login, and it checks the
    parameter names given against the template's."""
    params = bicep_syntax.declarations(bicep_syntax.parse_file(INFRA / "main.bicep")).params
    path.write_text(
        json.dumps(
            {
                "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
                "contentVersion": "1.0.0.0",
                "parameters": {
                    name: {"type": "string", **({"defaultValue": ""} if has_default else {})}
                    for name, has_default in params.items()
                },
                "resources": [],
            }
        )
    )
    return path
