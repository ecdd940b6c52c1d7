"""How a revision's state is decided, from rows to notifications. Pure: no I/O, no clock.

- ``observe``: a tick's row groups become one ``RevisionObservation`` per revision (classified);
- ``decision``: ``decide()`` compares observations with the ledger and says, with a reason,
  whether to notify (firing, reminder, cause changed, resolved) or not (debounced, silenced);
- ``alerts``: the ``Alert`` every notifier renders, built from a ledger entry.
"""

from pullwatch.decide.alerts import AlertContext
from pullwatch.decide.decision import Action, Decision, Outcome, Policy, decide

__all__ = ["Action", "AlertContext", "Decision", "Outcome", "Policy", "decide"]
