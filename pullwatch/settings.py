"""Settings: every app setting's name, default and meaning in one table, read once into ``Settings``.

``SETTING_SPECS`` is the single source of truth for setting names: the README table, the Bicep
app settings (checked by a test) and ``load_settings`` all follow it. Reading is pure: pass the
environment mapping in. Errors name the setting and never echo a secret value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from pathlib import Path

from notifiers.base import CHANNEL_NAME_RULE, check_channel
from notifiers.endpoint import (
    RoutingKey,
    WebhookURL,
    looks_like_routing_key,
    split_named,
    split_urls,
)
from notifiers.errors import RoutingKeyError, WebhookURLError
from pullwatch.durations import parse_duration
from pullwatch.errors import SettingsError
from pullwatch.routing import RouteError, RoutingTable, parse_routes_json


class TableMode(StrEnum):
    AUTO = "auto"
    LEGACY = "ContainerAppSystemLogs_CL"
    RESOURCE = "ContainerAppSystemLogs"


@dataclass(frozen=True)
class SettingSpec:
    name: str
    default: str | None  # None: no default (optional unless stated)
    description: str
    secret: bool = False


SETTING_SPECS: tuple[SettingSpec, ...] = (
    SettingSpec(
        "PULLWATCH_WORKSPACE_IDS",
        None,
        "Log Analytics workspace ids (GUIDs), comma separated. Required to query Azure.",
    ),
    SettingSpec(
        "PULLWATCH_WORKSPACE_RESOURCE_ID",
        None,
        "ARM id of the Log Analytics workspace (/subscriptions/.../workspaces/<name>), for "
        "links that open its Logs blade with the failing revision's query (optional).",
    ),
    SettingSpec(
        "PULLWATCH_LOGS_ENDPOINT",
        "https://api.loganalytics.io/v1",
        "Log Analytics query endpoint (sovereign clouds: https://api.loganalytics.us/v1, "
        "https://api.loganalytics.azure.cn/v1).",
    ),
    SettingSpec(
        "PULLWATCH_TABLE",
        "auto",
        "Which system-log table to read: auto, ContainerAppSystemLogs_CL or "
        "ContainerAppSystemLogs.",
    ),
    SettingSpec(
        "PULLWATCH_LOOKBACK",
        "60m",
        "TimeGenerated lookback added to the ingestion-time watermark (late records).",
    ),
    SettingSpec("PULLWATCH_SCHEDULE", "0 */5 * * * *", "Timer schedule, 6-field NCRONTAB in UTC."),
    SettingSpec(
        "PULLWATCH_REPEAT_INTERVAL",
        "4h",
        "Remind about a still-failing revision after this long; 0 = never.",
    ),
    SettingSpec(
        "PULLWATCH_TRANSIENT_GRACE",
        "10m",
        "A transient cause alerts only after failing this long ...",
    ),
    SettingSpec("PULLWATCH_TRANSIENT_OCCURRENCES", "3", "... or this many times."),
    SettingSpec(
        "PULLWATCH_QUIET_PERIOD", "30m", "A revision with no failures for this long is resolved."
    ),
    SettingSpec("PULLWATCH_RETENTION", "7d", "Resolved ledger entries are pruned after this long."),
    SettingSpec(
        "PULLWATCH_DIGEST_THRESHOLD",
        "5",
        "More firing revisions than this in one tick for one channel: one digest message.",
    ),
    SettingSpec(
        "PULLWATCH_LEDGER_ACCOUNT_URL",
        None,
        "Blob service URL of the ledger's storage account (uses the Function's identity).",
    ),
    SettingSpec(
        "PULLWATCH_LEDGER_CONNECTION_STRING",
        None,
        "Storage connection string instead of the account URL (local use and Azurite).",
        secret=True,
    ),
    SettingSpec("PULLWATCH_LEDGER_CONTAINER", "pullwatch", "Blob container of the ledger."),
    SettingSpec("PULLWATCH_LEDGER_BLOB", "ledger.json", "Blob name of the ledger."),
    SettingSpec(
        "PULLWATCH_LEDGER_PATH",
        ".pullwatch/ledger.json",
        "Local ledger file, used when no blob account is configured.",
    ),
    SettingSpec(
        "PULLWATCH_TEAMS_WEBHOOK_URLS",
        None,
        "Teams Workflows webhook URLs (comma or newline separated), one per channel, each "
        "`name=URL` or a bare URL (named teams-1, teams-2, ...).",
        secret=True,
    ),
    SettingSpec(
        "PULLWATCH_SLACK_WEBHOOK_URLS",
        None,
        "Slack incoming webhook URLs, as for Teams (bare ones named slack-1, ...).",
        secret=True,
    ),
    SettingSpec(
        "PULLWATCH_WEBHOOK_URLS",
        None,
        "Generic JSON webhook URLs (schema pullwatch.alert/v1), e.g. a Logic App, as for Teams "
        "(bare ones named webhook-1, ...).",
        secret=True,
    ),
    SettingSpec(
        "PULLWATCH_PAGERDUTY_ROUTING_KEYS",
        None,
        "PagerDuty Events API v2 integration keys, `name=key` (or bare, named pagerduty-1, "
        "...), comma or newline separated: one channel each.",
        secret=True,
    ),
    SettingSpec(
        "PULLWATCH_PAGERDUTY_EVENTS_URL",
        "https://events.pagerduty.com/v2/enqueue",
        "PagerDuty Events API v2 endpoint (EU accounts: https://events.eu.pagerduty.com/v2/enqueue).",
    ),
    SettingSpec(
        "PULLWATCH_ROUTES",
        None,
        "Routes: which channels get which alerts, with quiet hours (JSON, inline or a file path; "
        "see Routing). Not set: every alert to every channel.",
    ),
    SettingSpec(
        "PULLWATCH_SEND_BUDGET",
        "60s",
        "Longest time one message may spend on retries within a tick.",
    ),
    SettingSpec(
        "PULLWATCH_DRY_RUN",
        "false",
        "true: print the messages instead of posting them (the ledger is still updated).",
    ),
    SettingSpec(
        "PULLWATCH_SUBSCRIPTION_ID",
        None,
        "Subscription of the Container Apps, for portal links (optional).",
    ),
    SettingSpec(
        "PULLWATCH_RESOURCE_GROUP",
        None,
        "Resource group of the Container Apps, for portal links (optional).",
    ),
    SettingSpec(
        "PULLWATCH_VERIFY",
        "auto",
        "Check the configuration behind each alert in Azure Resource Graph: true, false, or "
        "auto (true in the Function, false from a terminal).",
    ),
    SettingSpec(
        "PULLWATCH_VERIFY_BUDGET",
        "15s",
        "Longest time the configuration check may take in one tick; then alerts go out without it.",
    ),
    SettingSpec(
        "PULLWATCH_ARM_ENDPOINT",
        "https://management.azure.com",
        "Azure Resource Manager endpoint of Resource Graph (sovereign clouds: "
        "https://management.usgovcloudapi.net, https://management.chinacloudapi.cn).",
    ),
    SettingSpec(
        "AZURE_CLIENT_ID",
        None,
        "Client id of the user-assigned managed identity (DefaultAzureCredential).",
    ),
)

SETTING_NAMES: frozenset[str] = frozenset(spec.name for spec in SETTING_SPECS)
_SPEC = {spec.name: spec for spec in SETTING_SPECS}
_WORKSPACE_RESOURCE_ID = re.compile(
    r"^/subscriptions/[^/\s]+/resourceGroups/[^/\s]+/providers/"
    r"Microsoft\.OperationalInsights/workspaces/[^/\s]+/?$",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"[0-9]{1,9}")  # ASCII digits only: "²" or "٣" are not counts
MAX_COUNT = 100_000
_KEYVAULT_REFERENCE = re.compile(r"^\s*@Microsoft\.KeyVault\(", re.IGNORECASE)
_WORKSPACE_ID = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)


@dataclass(frozen=True)
class ChannelConfig:
    """One named channel: its service, where it posts, and (PagerDuty) its routing key."""

    name: str  # "orders-teams", "teams-1", ...: shown in logs, the ledger and routes
    service: str  # "teams" | "slack" | "webhook" | "pagerduty"
    url: WebhookURL  # the webhook, or the PagerDuty events endpoint
    routing_key: RoutingKey | None = None  # PagerDuty only (a secret, never shown)


@dataclass(frozen=True)
class Settings:
    workspace_ids: tuple[str, ...] = ()
    logs_endpoint: str = "https://api.loganalytics.io/v1"
    table: TableMode = TableMode.AUTO
    lookback: timedelta = timedelta(minutes=60)
    schedule: str = "0 */5 * * * *"
    repeat_interval: timedelta = timedelta(hours=4)
    transient_grace: timedelta = timedelta(minutes=10)
    transient_occurrences: int = 3
    quiet_period: timedelta = timedelta(minutes=30)
    retention: timedelta = timedelta(days=7)
    digest_threshold: int = 5
    ledger_account_url: str | None = None
    ledger_connection_string: str | None = field(default=None, repr=False)
    ledger_container: str = "pullwatch"
    ledger_blob: str = "ledger.json"
    ledger_path: str = ".pullwatch/ledger.json"
    teams_webhooks: tuple[ChannelConfig, ...] = ()
    slack_webhooks: tuple[ChannelConfig, ...] = ()
    generic_webhooks: tuple[ChannelConfig, ...] = ()
    pagerduty_channels: tuple[ChannelConfig, ...] = ()
    pagerduty_events_url: str = "https://events.pagerduty.com/v2/enqueue"
    routes: RoutingTable = field(default_factory=RoutingTable)
    send_budget: timedelta = timedelta(seconds=60)
    dry_run: bool = False
    subscription_id: str | None = None
    resource_group: str | None = None
    workspace_resource_id: str | None = None
    azure_client_id: str | None = None
    verify: bool = False
    verify_budget: timedelta = timedelta(seconds=15)
    arm_endpoint: str = "https://management.azure.com"

    @property
    def channels(self) -> tuple[ChannelConfig, ...]:
        """Every configured channel: Teams, Slack, generic webhooks, PagerDuty, in that order."""
        return (
            *self.teams_webhooks,
            *self.slack_webhooks,
            *self.generic_webhooks,
            *self.pagerduty_channels,
        )

    @property
    def has_notifier(self) -> bool:
        return bool(self.channels)

    @property
    def uses_blob_ledger(self) -> bool:
        return bool(self.ledger_account_url or self.ledger_connection_string)


def load_settings(
    environ: Mapping[str, str],
    *,
    require_workspace: bool = False,
    require_notifier: bool = False,
    deployed: bool = False,
) -> Settings:
    """Read settings from ``environ``; raise ``SettingsError`` naming the first bad setting.

    ``deployed``: running in the Function (``PULLWATCH_VERIFY=auto`` then means true).

    ``require_workspace``: a Log Analytics workspace must be configured (the Function).
    ``require_notifier``: at least one webhook must be configured unless ``PULLWATCH_DRY_RUN``.
    """
    reader = _Reader(environ)
    teams = reader.webhooks("PULLWATCH_TEAMS_WEBHOOK_URLS", "teams")
    slack = reader.webhooks("PULLWATCH_SLACK_WEBHOOK_URLS", "slack")
    generic = reader.webhooks("PULLWATCH_WEBHOOK_URLS", "webhook")
    events_url = reader.events_url("PULLWATCH_PAGERDUTY_EVENTS_URL")
    pagerduty = reader.routing_keys("PULLWATCH_PAGERDUTY_ROUTING_KEYS", events_url)
    names = _unique_names((*teams, *slack, *generic, *pagerduty))
    settings = Settings(
        workspace_ids=reader.workspaces("PULLWATCH_WORKSPACE_IDS"),
        logs_endpoint=reader.https_url("PULLWATCH_LOGS_ENDPOINT"),
        table=reader.choice("PULLWATCH_TABLE", TableMode),
        lookback=reader.duration("PULLWATCH_LOOKBACK", positive=True),
        schedule=reader.schedule("PULLWATCH_SCHEDULE"),
        repeat_interval=reader.duration("PULLWATCH_REPEAT_INTERVAL"),
        transient_grace=reader.duration("PULLWATCH_TRANSIENT_GRACE"),
        transient_occurrences=reader.integer("PULLWATCH_TRANSIENT_OCCURRENCES", minimum=1),
        quiet_period=reader.duration("PULLWATCH_QUIET_PERIOD", positive=True),
        retention=reader.duration("PULLWATCH_RETENTION", positive=True),
        digest_threshold=reader.integer("PULLWATCH_DIGEST_THRESHOLD", minimum=1),
        ledger_account_url=reader.optional_https_url("PULLWATCH_LEDGER_ACCOUNT_URL"),
        ledger_connection_string=reader.optional("PULLWATCH_LEDGER_CONNECTION_STRING"),
        ledger_container=reader.text("PULLWATCH_LEDGER_CONTAINER"),
        ledger_blob=reader.text("PULLWATCH_LEDGER_BLOB"),
        ledger_path=reader.text("PULLWATCH_LEDGER_PATH"),
        teams_webhooks=teams,
        slack_webhooks=slack,
        generic_webhooks=generic,
        pagerduty_channels=pagerduty,
        pagerduty_events_url=events_url.secret(),
        routes=reader.routes("PULLWATCH_ROUTES", names),
        send_budget=reader.duration("PULLWATCH_SEND_BUDGET", positive=True),
        dry_run=reader.boolean("PULLWATCH_DRY_RUN"),
        subscription_id=reader.optional("PULLWATCH_SUBSCRIPTION_ID"),
        resource_group=reader.optional("PULLWATCH_RESOURCE_GROUP"),
        workspace_resource_id=reader.workspace_resource_id("PULLWATCH_WORKSPACE_RESOURCE_ID"),
        azure_client_id=reader.optional("AZURE_CLIENT_ID"),
        verify=reader.auto_boolean("PULLWATCH_VERIFY", auto=deployed),
        verify_budget=reader.duration("PULLWATCH_VERIFY_BUDGET", positive=True),
        arm_endpoint=reader.arm_url("PULLWATCH_ARM_ENDPOINT"),
    )
    if require_workspace and not settings.workspace_ids:
        raise SettingsError(
            "PULLWATCH_WORKSPACE_IDS is not set: give the Log Analytics workspace id (a GUID) "
            "to read Container Apps system logs from"
        )
    if require_notifier and not settings.dry_run and not settings.has_notifier:
        raise SettingsError(
            "no notifier is configured: set PULLWATCH_TEAMS_WEBHOOK_URLS, "
            "PULLWATCH_SLACK_WEBHOOK_URLS, PULLWATCH_WEBHOOK_URLS or "
            "PULLWATCH_PAGERDUTY_ROUTING_KEYS (or PULLWATCH_DRY_RUN=true)"
        )
    return settings


def _unique_names(channels: tuple[ChannelConfig, ...]) -> tuple[str, ...]:
    """The channel names in order; two channels with one name are an error naming both settings."""
    seen: dict[str, str] = {}
    for channel in channels:
        setting = _CHANNEL_SETTING[channel.service]
        if channel.name in seen:
            where = seen[channel.name]
            also = "" if where == setting else f" and {where}"
            raise SettingsError(
                f"{setting}: channel name {channel.name!r} is used twice{also}; "
                "give each channel its own name"
            )
        seen[channel.name] = setting
    return tuple(seen)


_CHANNEL_SETTING = {
    "teams": "PULLWATCH_TEAMS_WEBHOOK_URLS",
    "slack": "PULLWATCH_SLACK_WEBHOOK_URLS",
    "webhook": "PULLWATCH_WEBHOOK_URLS",
    "pagerduty": "PULLWATCH_PAGERDUTY_ROUTING_KEYS",
}


class _Reader:
    """Reads one setting at a time, applying its default and rejecting Key Vault leftovers."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._env = environ

    def raw(self, name: str) -> str | None:
        spec = _SPEC[name]
        value = self._env.get(name)
        if value is not None and _KEYVAULT_REFERENCE.match(value):
            raise SettingsError(
                f"{name} holds an unresolved Key Vault reference: the Function's identity could "
                "not read the secret (check keyVaultReferenceIdentity and the 'Key Vault Secrets "
                "User' role on the vault)"
            )
        if value is None or not value.strip():
            return spec.default
        return value.strip()

    def optional(self, name: str) -> str | None:
        return self.raw(name)

    def text(self, name: str) -> str:
        value = self.raw(name)
        if value is None:
            raise SettingsError(f"{name} is not set")
        return value

    def duration(self, name: str, *, positive: bool = False) -> timedelta:
        value = self.text(name)
        try:
            parsed = parse_duration(value)
        except ValueError as error:
            raise SettingsError(f"{name}: {error}") from None
        if positive and parsed <= timedelta(0):
            raise SettingsError(f"{name} must be longer than zero")
        return parsed

    def integer(self, name: str, *, minimum: int, maximum: int = MAX_COUNT) -> int:
        value = self.text(name)
        if not _DIGITS.fullmatch(value) or not minimum <= int(value) <= maximum:
            raise SettingsError(
                f"{name} must be a whole number from {minimum} to {maximum:,}, got {value[:20]!r}"
            )
        return int(value)

    def boolean(self, name: str) -> bool:
        value = self.text(name).lower()
        if value in {"1", "true", "yes", "on"}:
            return True
        if value in {"0", "false", "no", "off"}:
            return False
        raise SettingsError(f"{name} must be true or false, got {value[:20]!r}")

    def choice(self, name: str, enum: type[TableMode]) -> TableMode:
        value = self.text(name)
        for member in enum:
            if member.value.lower() == value.lower():
                return member
        allowed = ", ".join(member.value for member in enum)
        raise SettingsError(f"{name} must be one of {allowed}, got {value[:60]!r}")

    def auto_boolean(self, name: str, *, auto: bool) -> bool:
        """``true``/``false``, or ``auto`` (the default) meaning ``auto``."""
        if (self.raw(name) or "").lower() == "auto":
            return auto
        return self.boolean(name)

    def arm_url(self, name: str) -> str:
        """An https URL, or plain http on a loopback address (local fakes)."""
        value = self.text(name)
        loopback = re.match(r"^http://(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(/|$)", value)
        if loopback:
            return value.rstrip("/")
        return self.https_url(name)

    def https_url(self, name: str) -> str:
        value = self.text(name)
        if not re.match(r"^https://[^/\s]+", value):
            raise SettingsError(f"{name} must be an https:// URL")
        return value.rstrip("/")

    def workspace_resource_id(self, name: str) -> str | None:
        value = self.raw(name)
        if value is None:
            return None
        if not _WORKSPACE_RESOURCE_ID.match(value):
            raise SettingsError(
                f"{name} must be a workspace's ARM id (/subscriptions/<id>/resourceGroups/<rg>/"
                f"providers/Microsoft.OperationalInsights/workspaces/<name>), got {value[:80]!r}"
            )
        return value.rstrip("/")

    def optional_https_url(self, name: str) -> str | None:
        return self.https_url(name) if self.raw(name) else None

    def workspaces(self, name: str) -> tuple[str, ...]:
        value = self.raw(name)
        if not value:
            return ()
        ids = tuple(split_urls(value))
        for workspace in ids:
            if not _WORKSPACE_ID.match(workspace):
                raise SettingsError(
                    f"{name} must hold workspace ids (GUIDs such as "
                    f"00000000-0000-0000-0000-000000000000), got {workspace[:40]!r}"
                )
        return ids

    def webhooks(self, name: str, service: str) -> tuple[ChannelConfig, ...]:
        """``name=URL`` or bare URL entries; a bare one at position n is ``<service>-n``."""
        channels = []
        for position, channel, text in self._named_entries(name, service):
            try:
                url = WebhookURL(text)
            except WebhookURLError as error:
                raise SettingsError(f"{name} entry {position} ({channel}): {error}") from None
            channels.append(ChannelConfig(channel, service, url))
        return tuple(channels)

    def routing_keys(self, name: str, events_url: WebhookURL) -> tuple[ChannelConfig, ...]:
        """``name=key`` or bare key entries (``pagerduty-n``), all posting to ``events_url``."""
        channels = []
        for position, channel, text in self._named_entries(name, "pagerduty"):
            if looks_like_routing_key(channel):  # "key=name" written the wrong way round
                raise SettingsError(
                    f"{name} entry {position}: the name before '=' looks like a routing key "
                    "(write name=key)"
                )
            try:
                key = RoutingKey(text)
            except RoutingKeyError as error:
                raise SettingsError(f"{name} entry {position} ({channel}): {error}") from None
            channels.append(ChannelConfig(channel, "pagerduty", events_url, key))
        return tuple(channels)

    def _named_entries(self, name: str, service: str) -> list[tuple[int, str, str]]:
        value = self.raw(name)
        if not value:
            return []
        entries = []
        for position, (given, text) in enumerate(split_named(value), start=1):
            channel = given if given is not None else f"{service}-{position}"
            try:
                check_channel(channel)
            except ValueError:  # the name is not echoed: it might be a pasted secret
                raise SettingsError(
                    f"{name} entry {position}: the name before '=' {CHANNEL_NAME_RULE}"
                ) from None
            if not text:
                raise SettingsError(f"{name} entry {position} ({channel}): nothing after '='")
            entries.append((position, channel, text))
        return entries

    def events_url(self, name: str) -> WebhookURL:
        try:
            return WebhookURL(self.text(name))
        except WebhookURLError as error:
            raise SettingsError(f"{name}: {error}") from None

    def routes(self, name: str, channels: tuple[str, ...]) -> RoutingTable:
        """Inline JSON (starts with ``[``, ``{`` or ``"``) or the path of a JSON file."""
        value = self.raw(name)
        if not value:
            return RoutingTable()
        if value[0] in '[{"':
            text, source = value, name
        else:
            path = Path(value)
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                why = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
                raise SettingsError(
                    f"{name}: cannot read the routes file {value[:200]!r}: {why}"
                ) from None
            source = f"{name} ({path.name})"
        try:
            return parse_routes_json(text, channels)
        except RouteError as error:
            raise SettingsError(f"{source} {error}") from None

    def schedule(self, name: str) -> str:
        value = self.text(name)
        problem = ncrontab_problem(value)
        if problem:
            raise SettingsError(
                f"{name} must be a 6-field NCRONTAB expression (second minute hour day month "
                f"weekday), e.g. '0 */5 * * * *'; {problem}; got {value[:60]!r}"
            )
        return value


_NCRONTAB_FIELDS = (
    ("second", 0, 59),
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day", 1, 31),
    ("month", 1, 12),
    ("weekday", 0, 6),
)
_NAMES = {
    "month": {
        m: i
        for i, m in enumerate(
            ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
        )
    },
    "weekday": {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])},
}


def ncrontab_problem(expression: str) -> str | None:
    """Why ``expression`` is not a valid 6-field NCRONTAB schedule, or None when it is."""
    fields = expression.split()
    if len(fields) != 6:
        return f"it has {len(fields)} fields"
    for text, (label, low, high) in zip(fields, _NCRONTAB_FIELDS, strict=True):
        for part in text.split(","):
            problem = _ncrontab_part(part, label, low, high)
            if problem:
                return problem
    return None


def _ncrontab_part(part: str, label: str, low: int, high: int) -> str | None:
    base, _, step = part.partition("/")
    if step and (not step.isdigit() or int(step) == 0):
        return f"the {label} step {step!r} is not a positive number"
    if base == "*":
        return None
    bounds = base.split("-")
    if len(bounds) > 2:
        return f"the {label} range {base!r} is malformed"
    values = []
    for bound in bounds:
        number = _NAMES.get(label, {}).get(bound.lower()) if not bound.isdigit() else int(bound)
        if number is None or not low <= number <= high:
            return f"the {label} value {bound!r} is outside {low}-{high}"
        values.append(number)
    if len(values) == 2 and values[0] > values[1]:
        return f"the {label} range {base!r} is reversed"
    return None
