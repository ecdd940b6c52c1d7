"""The Function app indexed once for the whole test session: ``app.get_functions()`` may be
called once per process (a second call raises on duplicate names), and several test modules
call the timer function."""

from __future__ import annotations

import function_app

FUNCTIONS = function_app.app.get_functions()
