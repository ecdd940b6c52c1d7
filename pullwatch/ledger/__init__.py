"""The ledger: what pullwatch remembers between ticks, and where it is kept.

- ``document``: the ``Ledger`` (one versioned JSON document) and its watermark;
- ``entries``: one ``Entry`` per failing revision with the evidence alerts are built from;
- ``silences``: matchers that mute notifications until they expire;
- ``outbox``: notifications owed to channels, with per-channel delivery state and dead letters;
- ``health``: how pullwatch's own parts (workspaces, the ledger, channels, the log pipeline)
  fared in recent ticks: the record self-alerts are decided from;
- ``stores``: where the document lives (a locked local file, or a blob). The only module here
  that does I/O; everything else is pure, and this package's ``__init__`` does not import it.
"""

from pullwatch.ledger.document import (
    LEDGER_SCHEMA,
    EnvironmentLogs,
    Ledger,
    with_entry,
    with_environment_logs,
    with_last_tick,
    with_watermark,
    with_workspace_watermark,
)
from pullwatch.ledger.entries import Entry, EntryState, Evidence, ImageState
from pullwatch.ledger.outbox import (
    ChannelDelivery,
    DeliveryState,
    PendingNotification,
    age_outbox,
    drop_channels_except,
    due,
    enqueue,
    expire_outbox,
    held,
    mark_delivered,
    mark_failed,
    pending,
)
from pullwatch.ledger.silences import (
    Silence,
    active_silence,
    add_silence,
    drop_expired_silences,
    remove_silence,
)

__all__ = [
    "LEDGER_SCHEMA",
    "ChannelDelivery",
    "DeliveryState",
    "Entry",
    "EntryState",
    "EnvironmentLogs",
    "Evidence",
    "ImageState",
    "Ledger",
    "PendingNotification",
    "Silence",
    "active_silence",
    "add_silence",
    "age_outbox",
    "drop_channels_except",
    "drop_expired_silences",
    "due",
    "enqueue",
    "expire_outbox",
    "held",
    "mark_delivered",
    "mark_failed",
    "pending",
    "remove_silence",
    "with_entry",
    "with_environment_logs",
    "with_last_tick",
    "with_watermark",
    "with_workspace_watermark",
]
