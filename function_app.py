"""Azure Functions entry point: a timer runs one pullwatch tick (query, classify, decide, notify).

Everything else lives in the packages; this file only wires the trigger. The schedule is the app
setting PULLWATCH_SCHEDULE (6-field NCRONTAB, UTC). A failed tick raises, so it shows as a failed
invocation; the next tick is the retry (timer functions are not retried by the host).
"""

import logging
import os
from datetime import UTC, datetime

import azure.functions as func

from pullwatch.tick import runtime

app = func.FunctionApp()
log = logging.getLogger("pullwatch")


@app.timer_trigger(
    schedule="%PULLWATCH_SCHEDULE%",
    arg_name="timer",
    run_on_startup=False,
    use_monitor=True,
)
def pullwatch_tick(timer: func.TimerRequest) -> None:
    if timer.past_due:
        log.warning("timer is past due: running the missed tick now")
    summary = runtime.scheduled_tick(os.environ, datetime.now(UTC))
    log.info("pullwatch %s", summary.line())
