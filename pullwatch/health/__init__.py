"""Watch the watcher: what pullwatch knows about its own health, and what it says about it.

- ``tickrecord``: the one structured log record each tick writes (``pullwatch.tick``), which
  Application Insights keeps and the README's KQL charts;
- ``errors``: a part's failure reduced to an error class that is safe to keep and show
  (``HTTP 404``, ``timeout``; never a URL, a token or a service's own text);
- ``fixes``: for each kind of part and error class, what it probably means and how to fix it
  (one table);
- ``selfalerts``: when a failing part is announced, reminded of, or declared healthy again, as
  notices the notifiers render like alerts (pure);
- ``logs``: the log pipeline's health: which system-log table an environment writes to, and
  how long no rows arrived (pure);
- ``stage``: the tick's health stage, between deciding and delivering, and the recording of the
  channels' outcomes after delivering.

The health record itself is part of the ledger document (``pullwatch.ledger.health``).
Everything here is pure except ``stage.note_ledger_failure``, which loads and saves the ledger.
"""
