"""Container Apps jobs in the system logs: the key of a job and the execution a replica ran. Pure.

A job's rows carry its name (``JobName`` in ``ContainerAppSystemLogs``, ``JobName_s`` in
``ContainerAppSystemLogs_CL``), no revision, and replica names ``<execution>-<suffix>``: the
execution name is the job's name and a suffix of its own (``invoice-export-q4w7n2c``), and each
replica adds one more (``invoice-export-q4w7n2c-kq7xz``), as Kubernetes names a Job's pods. Issue 16
keys a job's failures by ``<environment>/job/<job>`` instead of a revision.
"""

from __future__ import annotations

JOB_SEGMENT = "job"


def job_key(environment: str, job: str) -> str:
    """The key a job's observations go under: ``<environment>/job/<job>``."""
    return f"{environment}/{JOB_SEGMENT}/{job}"


def execution_of(replica: str, job: str = "") -> str:
    """The execution a job replica belongs to: the replica name without its last ``-suffix``.

    ``""`` when there is no replica (job-level events) or the name has no suffix to remove; with
    ``job``, also ``""`` when the name does not start with ``<job>-`` (not this job's replica)."""
    replica = replica.strip()
    if job and not replica.startswith(f"{job}-"):
        return ""
    execution, dash, suffix = replica.rpartition("-")
    if not dash or not execution or not suffix or (job and len(execution) <= len(job)):
        return ""
    return execution
