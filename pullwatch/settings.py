"""Settings: every app setting's name, default and meaning in one table, read once into ``Settings``.

``SETTING_SPECS`` is the single source of truth for setting names: the README table, the Bicep
app settings (checked by a test) and ``load_settings`` all follow it. Reading is pure: pass the
environment mapping in. Errors name the setting and never echo a secret value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

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

_Choice = TypeVar("_Choice", bound=StrEnum)


class TableMode(StrEnum):
    AUTO = "auto"
    LEGACY = "ContainerAppSystemLogs_CL"
    RESOURCE = "ContainerAppSystemLogs"


class ActivityMode(StrEnum):
    """Whether to read refused deployments from the Activity Log (``AzureActivity``)."""

    AUTO = "auto"  # when the workspace has the table (a missing table is no error)
    OFF = "off"


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
        "PULLWATCH_ACTIVITY_LOG",
        "auto",
        "Read deployments Azure refused for their image from the Activity Log (table "
        "AzureActivity): auto (when the workspace has the table) or off.",
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
        "PULLWATCH_TICK_BUDGET",
        "4m",
        "Longest time one tick may take (keep it below functionTimeout in host.json): channels "
        "stop starting posts before it so that the final ledger save has time.",
    ),
    SettingSpec(
        "PULLWATCH_DRY_RUN",
        "false",
        "true: log or print the messages instead of posting them; the ledger marks them as "
        "dry-run deliveries, so they are still posted once dry run is off.",
    ),
    SettingSpec(
        "PULLWATCH_SELF_ALERT_AFTER",
        "15m",
        "When a part of pullwatch (a workspace's query, the ledger, a channel) has failed this "
        "long, say so once in the channels that still work (then at the repeat interval, and "
        "once when it works again).",
    ),
    SettingSpec(
        "PULLWATCH_NO_LOGS_AFTER",
        "6h",
        "No Container Apps system-log rows for this long in a workspace whose environments "
        "sent some before: say so in the channels (check the logging destination).",
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

    def choice(self, name: str, enum: type[_Choice]) -> _Choice:
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


# How each single-setting field of ``Settings`` is read: the one table both the defaults and
# ``load_settings`` use (channels and routes are read together there, they refer to each other).
_READERS: dict[str, Callable[[_Reader], Any]] = {
    "workspace_ids": lambda r: r.workspaces("PULLWATCH_WORKSPACE_IDS"),
    "logs_endpoint": lambda r: r.https_url("PULLWATCH_LOGS_ENDPOINT"),
    "table": lambda r: r.choice("PULLWATCH_TABLE", TableMode),
    "activity_log": lambda r: r.choice("PULLWATCH_ACTIVITY_LOG", ActivityMode),
    "lookback": lambda r: r.duration("PULLWATCH_LOOKBACK", positive=True),
    "schedule": lambda r: r.schedule("PULLWATCH_SCHEDULE"),
    "repeat_interval": lambda r: r.duration("PULLWATCH_REPEAT_INTERVAL"),
    "transient_grace": lambda r: r.duration("PULLWATCH_TRANSIENT_GRACE"),
    "transient_occurrences": lambda r: r.integer("PULLWATCH_TRANSIENT_OCCURRENCES", minimum=1),
    "quiet_period": lambda r: r.duration("PULLWATCH_QUIET_PERIOD", positive=True),
    "retention": lambda r: r.duration("PULLWATCH_RETENTION", positive=True),
    "digest_threshold": lambda r: r.integer("PULLWATCH_DIGEST_THRESHOLD", minimum=1),
    "ledger_account_url": lambda r: r.optional_https_url("PULLWATCH_LEDGER_ACCOUNT_URL"),
    "ledger_connection_string": lambda r: r.optional("PULLWATCH_LEDGER_CONNECTION_STRING"),
    "ledger_container": lambda r: r.text("PULLWATCH_LEDGER_CONTAINER"),
    "ledger_blob": lambda r: r.text("PULLWATCH_LEDGER_BLOB"),
    "ledger_path": lambda r: r.text("PULLWATCH_LEDGER_PATH"),
    "pagerduty_events_url": lambda r: r.events_url("PULLWATCH_PAGERDUTY_EVENTS_URL").secret(),
    "send_budget": lambda r: r.duration("PULLWATCH_SEND_BUDGET", positive=True),
    "tick_budget": lambda r: r.duration("PULLWATCH_TICK_BUDGET", positive=True),
    "dry_run": lambda r: r.boolean("PULLWATCH_DRY_RUN"),
    "self_alert_after": lambda r: r.duration("PULLWATCH_SELF_ALERT_AFTER", positive=True),
    "no_logs_after": lambda r: r.duration("PULLWATCH_NO_LOGS_AFTER", positive=True),
    "subscription_id": lambda r: r.optional("PULLWATCH_SUBSCRIPTION_ID"),
    "resource_group": lambda r: r.optional("PULLWATCH_RESOURCE_GROUP"),
    "workspace_resource_id": lambda r: r.workspace_resource_id("PULLWATCH_WORKSPACE_RESOURCE_ID"),
    "azure_client_id": lambda r: r.optional("AZURE_CLIENT_ID"),
    "verify_budget": lambda r: r.duration("PULLWATCH_VERIFY_BUDGET", positive=True),
    "arm_endpoint": lambda r: r.arm_url("PULLWATCH_ARM_ENDPOINT"),
}

# Each field's default: its setting's default text in ``SETTING_SPECS``, read as if it were set
# (every value is immutable, so sharing one as a dataclass default is safe).
_DEFAULT: dict[str, Any] = {name: read(_Reader({})) for name, read in _READERS.items()}
# PULLWATCH_VERIFY=auto depends on where it runs (``load_settings(deployed=...)``): off here.
_DEFAULT["verify"] = _Reader({}).auto_boolean("PULLWATCH_VERIFY", auto=False)


@dataclass(frozen=True)
class ChannelConfig:
    """One named channel: its service, where it posts, and (PagerDuty) its routing key."""

    name: str  # "orders-teams", "teams-1", ...: shown in logs, the ledger and routes
    service: str  # "teams" | "slack" | "webhook" | "pagerduty"
    url: WebhookURL  # the webhook, or the PagerDuty events endpoint
    routing_key: RoutingKey | None = None  # PagerDuty only (a secret, never shown)


@dataclass(frozen=True)
class Settings:
    """Every setting, parsed. Defaults come from ``SETTING_SPECS`` (one source of truth)."""

    workspace_ids: tuple[str, ...] = _DEFAULT["workspace_ids"]
    logs_endpoint: str = _DEFAULT["logs_endpoint"]
    table: TableMode = _DEFAULT["table"]
    activity_log: ActivityMode = _DEFAULT["activity_log"]
    lookback: timedelta = _DEFAULT["lookback"]
    schedule: str = _DEFAULT["schedule"]
    repeat_interval: timedelta = _DEFAULT["repeat_interval"]
    transient_grace: timedelta = _DEFAULT["transient_grace"]
    transient_occurrences: int = _DEFAULT["transient_occurrences"]
    quiet_period: timedelta = _DEFAULT["quiet_period"]
    retention: timedelta = _DEFAULT["retention"]
    digest_threshold: int = _DEFAULT["digest_threshold"]
    ledger_account_url: str | None = _DEFAULT["ledger_account_url"]
    ledger_connection_string: str | None = field(
        default=_DEFAULT["ledger_connection_string"], repr=False
    )
    ledger_container: str = _DEFAULT["ledger_container"]
    ledger_blob: str = _DEFAULT["ledger_blob"]
    ledger_path: str = _DEFAULT["ledger_path"]
    teams_webhooks: tuple[ChannelConfig, ...] = ()
    slack_webhooks: tuple[ChannelConfig, ...] = ()
    generic_webhooks: tuple[ChannelConfig, ...] = ()
    pagerduty_channels: tuple[ChannelConfig, ...] = ()
    pagerduty_events_url: str = _DEFAULT["pagerduty_events_url"]
    routes: RoutingTable = field(default_factory=RoutingTable)
    send_budget: timedelta = _DEFAULT["send_budget"]
    tick_budget: timedelta = _DEFAULT["tick_budget"]
    dry_run: bool = _DEFAULT["dry_run"]
    self_alert_after: timedelta = _DEFAULT["self_alert_after"]
    no_logs_after: timedelta = _DEFAULT["no_logs_after"]
    subscription_id: str | None = _DEFAULT["subscription_id"]
    resource_group: str | None = _DEFAULT["resource_group"]
    workspace_resource_id: str | None = _DEFAULT["workspace_resource_id"]
    azure_client_id: str | None = _DEFAULT["azure_client_id"]
    verify: bool = _DEFAULT["verify"]
    verify_budget: timedelta = _DEFAULT["verify_budget"]
    arm_endpoint: str = _DEFAULT["arm_endpoint"]

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
        **{field_name: read(reader) for field_name, read in _READERS.items()},
        teams_webhooks=teams,
        slack_webhooks=slack,
        generic_webhooks=generic,
        pagerduty_channels=pagerduty,
        routes=reader.routes("PULLWATCH_ROUTES", names),
        verify=reader.auto_boolean("PULLWATCH_VERIFY", auto=deployed),
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
        setting = CHANNEL_SETTING[channel.service]
        if channel.name in seen:
            where = seen[channel.name]
            also = "" if where == setting else f" and {where}"
            raise SettingsError(
                f"{setting}: channel name {channel.name!r} is used twice{also}; "
                "give each channel its own name"
            )
        seen[channel.name] = setting
    return tuple(seen)


CHANNEL_SETTING = {  # the setting each kind of channel is configured in
    "teams": "PULLWATCH_TEAMS_WEBHOOK_URLS",
    "slack": "PULLWATCH_SLACK_WEBHOOK_URLS",
    "webhook": "PULLWATCH_WEBHOOK_URLS",
    "pagerduty": "PULLWATCH_PAGERDUTY_ROUTING_KEYS",
}
