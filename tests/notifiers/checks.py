"""Independent checks of rendered payloads: Block Kit limits, Adaptive Card parsing, secrets."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = ROOT / "tools" / "cards" / "validate.js"
TEAMS_MAX_BYTES = 28_000

# In mrkdwn, "<" may only open one of our own links; "&" only an entity.
_OUR_LINK = re.compile(r"<https?://[^|<>\s]+\|[^<>]*>")
_ENTITY = re.compile(r"&(?:amp|lt|gt);")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def block_kit_problems(payload: dict[str, Any]) -> list[str]:
    """Slack webhook payload problems: Block Kit limits and unescaped mrkdwn (empty list = ok)."""
    problems: list[str] = []
    if set(payload) != {"text", "blocks"}:
        problems.append(f"top-level keys {sorted(payload)}")
    if not isinstance(payload.get("text"), str) or not payload["text"].strip():
        problems.append("no text fallback")
    else:
        problems += _mrkdwn_problems("text", payload["text"], 40_000)
    blocks = payload.get("blocks", [])
    if not 1 <= len(blocks) <= 50:
        problems.append(f"{len(blocks)} blocks (1..50 allowed)")
    for i, block in enumerate(blocks):
        kind = block.get("type")
        where = f"blocks[{i}] {kind}"
        if kind == "header":
            text = block["text"]
            if text["type"] != "plain_text" or not 1 <= utf16_len(text["text"]) <= 150:
                problems.append(f"{where}: header text must be plain_text of 1..150")
        elif kind == "section":
            if "text" not in block and "fields" not in block:
                problems.append(f"{where}: neither text nor fields")
            if "text" in block:
                problems += _mrkdwn_problems(where, block["text"]["text"], 3000)
            fields = block.get("fields", [])
            if len(fields) > 10:
                problems.append(f"{where}: {len(fields)} fields (10 allowed)")
            for field in fields:
                problems += _mrkdwn_problems(where + " field", field["text"], 2000)
        elif kind == "context":
            elements = block["elements"]
            if not 1 <= len(elements) <= 10:
                problems.append(f"{where}: {len(elements)} elements")
            for element in elements:
                problems += _mrkdwn_problems(where, element["text"], 3000)
        elif kind != "divider":
            problems.append(f"{where}: unexpected block type")
    return problems


def _mrkdwn_problems(where: str, text: str, limit: int) -> list[str]:
    problems = []
    if not text or utf16_len(text) > limit:
        problems.append(f"{where}: text length {utf16_len(text)} not in 1..{limit}")
    rest = _OUR_LINK.sub("", text)
    if "<" in rest or ">" in rest:
        problems.append(f"{where}: unescaped < or > (mention or link injection): {rest[:80]!r}")
    if "&" in _ENTITY.sub("", rest):
        problems.append(f"{where}: bare & or a cut entity")
    if text.count("```") % 2:
        problems.append(f"{where}: unbalanced code block")
    if re.search(r"@(channel|here|everyone)\b", text, re.IGNORECASE):
        problems.append(f"{where}: broadcast word left active")
    return problems


def card_of(message: dict[str, Any]) -> dict[str, Any]:
    card: dict[str, Any] = message["attachments"][0]["content"]
    return card


def walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object inside ``node`` (depth first)."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def markdown_texts(message: dict[str, Any]) -> list[str]:
    """Texts Teams parses as markdown: TextBlock text and Fact titles/values."""
    texts = []
    for node in walk(card_of(message)):
        if node.get("type") == "TextBlock":
            texts.append(node["text"])
        if "title" in node and "value" in node:
            texts += [node["title"], node["value"]]
    return texts


def validate_cards(paths: list[Path]) -> dict[str, list[str]]:
    """Run tools/cards/validate.js on Teams message files: {file: problems}."""
    node = shutil.which("node")
    assert node is not None, "node is required to validate Adaptive Cards (make tools)"
    assert (ROOT / "tools" / "node_modules" / "adaptivecards").is_dir(), "run `make tools`"
    done = subprocess.run(
        [node, str(VALIDATOR), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    results = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert len(results) == len(paths), done.stderr
    problems = {r["file"]: r["problems"] for r in results}
    assert (done.returncode == 0) == (not any(problems.values())), done.stderr
    return problems


PD_SEVERITIES = {"critical", "error", "warning", "info"}
PD_ACTIONS = {"trigger", "acknowledge", "resolve"}
PD_PAYLOAD_KEYS = {
    "summary",
    "source",
    "severity",
    "timestamp",
    "component",
    "group",
    "class",
    "custom_details",
}
PD_EVENT_KEYS = {
    "routing_key",
    "event_action",
    "dedup_key",
    "payload",
    "images",
    "links",
    "client",
    "client_url",
}


def pagerduty_problems(event: dict[str, Any]) -> list[str]:
    """Events API v2 rules for one alert event (PD-CEF), from PagerDuty's documentation."""
    problems = [f"unknown field {k}" for k in set(event) - PD_EVENT_KEYS]
    if event.get("event_action") not in PD_ACTIONS:
        problems.append(f"event_action {event.get('event_action')!r}")
    key = event.get("dedup_key")
    if not isinstance(key, str) or not 1 <= len(key) <= 255:
        problems.append("dedup_key missing or longer than 255 characters")
    if event.get("event_action") != "trigger":
        if "payload" in event:
            problems.append("payload on a resolve/acknowledge")
        return problems
    payload = event.get("payload", {})
    problems += [f"unknown payload field {k}" for k in set(payload) - PD_PAYLOAD_KEYS]
    for required in ("summary", "source", "severity"):
        if not isinstance(payload.get(required), str) or not payload[required]:
            problems.append(f"payload.{required} missing")
    if len(payload.get("summary", "")) > 1024:
        problems.append("payload.summary longer than 1024 characters")
    if payload.get("severity") not in PD_SEVERITIES:
        problems.append(f"payload.severity {payload.get('severity')!r}")
    if not isinstance(payload.get("custom_details", {}), dict):
        problems.append("payload.custom_details is not an object")
    for i, link in enumerate(event.get("links", [])):
        if set(link) - {"href", "text"} or not str(link.get("href", "")).startswith("https://"):
            problems.append(f"links[{i}] must be {{href: https://..., text}}")
    return problems
