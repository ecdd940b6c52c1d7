"""One tick, in stages: plan (load, query, observe, decide), deliver, record, report.

``pipeline.run_tick`` runs the stages with every I/O passed in; ``runtime`` wires the real
clients from settings (the Function and the ``run`` command both call it).
"""
