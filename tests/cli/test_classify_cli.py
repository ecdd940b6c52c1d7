"""`python -m pullwatch classify` as an on-call engineer uses it: arguments, a log dump on stdin
or in a file (plain lines or an export), --all, --json, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from classifiers.signals import is_failure_row
from tests.classifiers.seed_cases import SEED_CASES
from tests.cli.runner import ROOT, pullwatch

LEGACY = ROOT / "samples" / "containerapp-system-logs-cl.json"


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return pullwatch("classify", *args, stdin=stdin)


def test_json_one_object_per_message() -> None:
    messages = [SEED_CASES[3][1], SEED_CASES[6][1]]
    result = run_cli("--json", *messages)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [json.loads(line)["cause"] for line in lines] == ["registry-unauthorized", "dns-failure"]
    first = json.loads(lines[0])
    assert first["image"] == "someacr.azurecr.io/image:tag"
    assert first["remediation"][0]["text"]


def test_stdin_skips_lines_that_are_not_pull_failures_unless_all() -> None:
    stdin = "\n".join([SEED_CASES[4][1], "", SEED_CASES[12][1]]) + "\n"
    result = run_cli("--json", stdin=stdin)
    assert [json.loads(line)["cause"] for line in result.stdout.splitlines()] == [
        "registry-firewall"
    ]
    assert result.stderr.strip().startswith("1 failure in 2 lines (1 not image-pull failures")
    everything = run_cli("--json", "--all", stdin=stdin)
    causes = [json.loads(line)["cause"] for line in everything.stdout.splitlines()]
    assert causes == ["registry-firewall", "registry-firewall"]
    assert everything.returncode == 0 and everything.stderr.strip() == "2 failures in 2 lines"


def test_a_mixed_log_dump() -> None:
    dump = "\n".join(
        [
            "Revision ready",
            'Successfully pulled image "acr.azurecr.io/api:1.4" in 2.1s',
            "Back-off restarting failed container 'api' in pod 'api-1'",
            SEED_CASES[13][1],
            "KEDA is starting a watch for revision's ScaledObject",
            json.dumps({"Msg": SEED_CASES[3][1], "Reason": "ImagePullFailed"}),
            "Container 'api' was terminated with exit code '1' and reason 'Error'",
        ]
    )
    result = run_cli("--json", stdin=dump + "\n")
    assert result.returncode == 0, result.stderr
    causes = [json.loads(line)["cause"] for line in result.stdout.splitlines()]
    assert causes == ["image-not-found", "registry-unauthorized"]
    assert result.stderr.startswith("2 failures in 7 lines (5 not image-pull failures skipped")


def test_no_failure_exits_1() -> None:
    result = run_cli(stdin='Revision ready\nSuccessfully pulled image "a/b:1"\n')
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("0 failures in 2 lines")
    assert run_cli(stdin="").returncode == 1


def test_exports_are_unpacked_to_their_log_text(tmp_path: Path) -> None:
    """The 44-line case of issue 19: an az list export piped in is rows, not JSON lines."""
    rows = json.loads(LEGACY.read_text("utf-8"))[:40]
    failing = sum(1 for r in rows if is_failure_row(r["Log_s"], r["Reason_s"]))
    listed = json.dumps(rows, indent=1)
    result = run_cli("--json", stdin=listed)
    causes = [json.loads(line)["cause"] for line in result.stdout.splitlines()]
    assert len(causes) == failing > 0
    assert result.stderr.startswith(f"{failing} failure")
    assert f" in {len(rows)} rows" in result.stderr
    stream = ROOT / "samples" / "az-containerapp-logs-system.jsonl"
    from_file = run_cli("--json", "--from-file", str(stream))
    causes = {json.loads(line)["cause"] for line in from_file.stdout.splitlines()}
    assert causes == {"registry-firewall"}
    assert from_file.stderr.startswith("18 failures in 23 rows")
    utf16 = tmp_path / "export.json"
    utf16.write_text(listed, encoding="utf-16")
    assert run_cli("--json", "--from-file", str(utf16)).stdout == result.stdout


def test_human_output_has_cause_facts_and_numbered_steps() -> None:
    result = run_cli(SEED_CASES[13][1])
    out = result.stdout
    assert out.startswith("image-not-found: Image or tag not found")
    assert "image:       someacr.azurecr.io/someimage:sometag" in out
    assert "    1. " in out and "$ az acr repository show-tags --name someacr" in out


def test_rule_and_confidence_are_shown() -> None:
    result = run_cli(SEED_CASES[13][1])
    assert "rule:        " in result.stdout and "(high confidence)" in result.stdout
    denied = 'Error response from daemon: Head "https://ghcr.io/v2/acme/x/manifests/1": denied'
    line = json.loads(run_cli("--json", denied).stdout)
    assert (line["cause"], line["rule"], line["confidence"]) == (
        "repository-access-denied",
        "denied",
        "medium",
    )


def test_reason_option() -> None:
    result = run_cli(
        "--json",
        "--reason",
        "ImagePullUnauthorized",
        "Container pull image failed with unauthorized error.",
    )
    assert json.loads(result.stdout)["cause"] == "registry-unauthorized"


def test_terminal_escapes_in_log_text_are_not_printed() -> None:
    result = run_cli('Failed to pull image "a.azurecr.io/x:1": \x1b]0;pwned\x07 401 Unauthorized')
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout


def test_bytes_that_are_not_utf8_are_read_not_fatal() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pullwatch", "classify", "--json"],
        input=b'Failed to pull image "a.azurecr.io/x:1": \xff\xfe\x00 401 Unauthorized\n',
        capture_output=True,
        env={**os.environ, "LC_ALL": "C", "PYTHONUTF8": "0"},
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["cause"] == "registry-unauthorized"
