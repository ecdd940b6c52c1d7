"""``pullwatch ledger show`` and ``pullwatch silence add|list|remove`` against a temp store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pullwatch.commands.main import main
from pullwatch.ledger import Ledger
from pullwatch.ledger.stores import FileStore
from tests.cli.runner import pullwatch
from tests.fakes.azurite import AzuriteBlob

from .helpers import at, fail, tick


@pytest.fixture(autouse=True)
def _no_configured_store(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "PULLWATCH_LEDGER_ACCOUNT_URL",
        "PULLWATCH_LEDGER_CONNECTION_STRING",
        "PULLWATCH_LEDGER_PATH",
        "PULLWATCH_LEDGER_CONTAINER",
        "PULLWATCH_LEDGER_BLOB",
    ):
        monkeypatch.delenv(name, raising=False)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_silence_add_list_remove(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(tmp_path / "ledger.json")
    code, out, _ = run(
        capsys,
        "silence", "add", "--app", "orders-*", "--revision", "orders-*--v7",
        "--cause", "registry-unauthorized", "--for", "2h", "--comment", "rotating the ACR token",
        "--ledger", path,
    )  # fmt: skip
    assert code == 0
    assert out.startswith("s1\tapp=orders-* revision=orders-*--v7 cause=registry-unauthorized")

    code, out, _ = run(capsys, "silence", "list", "--ledger", path)
    assert code == 0
    assert "s1\t" in out and "rotating the ACR token" in out and "left)" in out

    code, out, _ = run(capsys, "silence", "list", "--json", "--ledger", path)
    silence = json.loads(out)
    assert (silence["id"], silence["environment"], silence["cause"]) == (
        "s1",
        "*",
        "registry-unauthorized",
    )

    assert run(capsys, "silence", "remove", "s1", "--ledger", path)[:2] == (0, "removed s1\n")
    assert run(capsys, "silence", "list", "--ledger", path)[1] == "no active silences\n"


def test_remove_unknown_silence_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "silence", "remove", "s7", "--ledger", str(tmp_path / "l.json"))
    assert code == 2
    assert "no silence with id 's7'" in err


@pytest.mark.parametrize(
    ("duration", "comment", "message"),
    [("soon", "x", "not a duration"), ("0", "x", "longer than zero"), ("2h", " ", "say why")],
)
def test_silence_add_rejects_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], duration: str, comment: str, message: str
) -> None:
    path = tmp_path / "ledger.json"
    code, _, err = run(
        capsys, "silence", "add", "--app", "a", "--for", duration, "--comment", comment,
        "--ledger", str(path),
    )  # fmt: skip
    assert code == 2
    assert message in err
    assert not path.exists()


def test_ledger_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ledger.json"
    ledger = tick(Ledger.empty(), at(1), [fail("unauthorized", 0, count=3)]).ledger
    FileStore(path).save(ledger, None)

    code, out, _ = run(capsys, "ledger", "show", "--ledger", str(path))
    assert code == 0
    assert "revisions: 1" in out
    assert "prod-env/orders/orders--v7  firing  registry-unauthorized  x3" in out
    assert "undelivered notifications: 1" in out
    assert "n1  firing  prod-env/orders/orders--v7  pending on teams, slack" in out

    code, out, _ = run(capsys, "ledger", "show", "--json", "--ledger", str(path))
    assert Ledger.from_json(out) == ledger


def test_ledger_show_uses_the_configured_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "configured.json"
    monkeypatch.setenv("PULLWATCH_LEDGER_PATH", str(path))
    assert run(capsys, "silence", "add", "--app", "a", "--for", "1h", "--comment", "c")[0] == 0
    assert json.loads(path.read_text())["silences"][0]["app"] == "a"
    assert "silences: 1" in run(capsys, "ledger", "show")[1]


def test_corrupt_ledger_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ledger.json"
    path.write_text("{broken")
    code, _, err = run(capsys, "ledger", "show", "--ledger", str(path))
    assert code == 2
    assert f"ledger file {path} is not valid JSON" in err
    code, _, err = run(
        capsys,
        "silence",
        "add",
        "--app",
        "a",
        "--for",
        "1h",
        "--comment",
        "c",
        "--ledger",
        str(path),
    )
    assert code == 2
    assert path.read_text() == "{broken"


def test_silences_in_the_blob_store(
    azurite: AzuriteBlob, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULLWATCH_LEDGER_CONNECTION_STRING", azurite.connection_string)
    monkeypatch.setenv("PULLWATCH_LEDGER_CONTAINER", azurite.new_container("cli"))
    assert run(capsys, "silence", "add", "--app", "a", "--for", "1h", "--comment", "c")[0] == 0
    code, out, err = run(capsys, "silence", "list")
    assert code == 0, err
    assert out.startswith("s1\tapp=a\t")
    assert "AccountKey" not in out + err


def test_silence_with_an_unknown_cause_is_refused(tmp_path: Path) -> None:
    ledger = tmp_path / "l.json"
    result = pullwatch(
        "silence",
        "add",
        "--ledger",
        str(ledger),
        "--app",
        "x",
        "--cause",
        "nonsense",
        "--for",
        "2h",
        "--comment",
        "c",
    )
    assert result.returncode == 2 and "invalid choice" in result.stderr
    assert not ledger.exists()
