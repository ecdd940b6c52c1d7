"""Verified diagnosis: read the failing app's registry settings, roles and network from Azure
Resource Graph and say which fix applies.

- ``roles``: the role definitions that let an identity pull (one table);
- ``query``: the one Resource Graph query per tick (pure);
- ``snapshot``: Resource Graph rows (or exported ``az`` JSON) as apps, environments, registries,
  role assignments, private endpoints and DNS links (pure);
- ``findings``: ``evaluate(target, snapshot)``: findings with stable ids and the matching fix
  (pure);
- ``graph``: the Resource Graph client, the only module here with network I/O;
- ``stage``: the tick stage that enriches the alerts about to be sent, within a time budget.
"""
