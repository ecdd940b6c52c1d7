"""The README's settings table and set-up commands follow the code (one source of truth)."""

from __future__ import annotations

import re
from pathlib import Path

from classifiers import Cause
from pullwatch.settings import SETTING_SPECS

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_table_with_its_default() -> None:
    rows = {
        m.group(1): m.group(2) for m in re.finditer(r"^\| `([A-Z_]+)` \| ([^|]+) \|", README, re.M)
    }
    for spec in SETTING_SPECS:
        assert spec.name in rows, spec.name
        expected = f"`{spec.default}`" if spec.default is not None else "—"
        assert rows[spec.name].strip() == expected, spec.name
    assert set(rows) <= {spec.name for spec in SETTING_SPECS} | {"Setting"}


def test_every_cause_is_documented() -> None:
    for cause in Cause:
        assert f"| `{cause.value}` |" in README


def test_two_setup_commands() -> None:
    assert "make demo" in README and "make test" in README
