"""Where rows come from: Log Analytics (``logquery``) or an export file (``filesource``), both
reduced to the ``records`` every later stage reads. ``logquery`` talks to the network and
``filesource`` reads the disk; ``records`` is pure. Nothing is imported here, so importing a
record type never loads the Azure SDK.
"""
