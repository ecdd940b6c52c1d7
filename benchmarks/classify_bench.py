"""Classifier throughput versus the least work any classifier must do, and accuracy on real lines.

Speed: builds a corpus of image-pull failure messages (every cause; containerd, dockerd/moby,
CRI-O and Container Apps wordings; ACR, Docker Hub, GHCR, ECR, GCR; realistic lengths) and times
``classify`` against a baseline in the same process: one ``findall`` per message of a single
compiled alternation of failure keywords (``findall`` reads the whole line, as a classifier must;
``search`` would stop at the first keyword). Two workloads:

- ``distinct``: every line is different (a timestamp leads each), so the cache of recent lines
  never helps;
- ``repeats``: lines drawn from a pool of 1,000 distinct ones, as a tick sees the same failures
  of the same revisions again and again.

Target: classify time / baseline time at most 3.

Accuracy (``--accuracy``): cause and image on ``tests/classifiers/data/corpus.json``, the real
messages collected from public threads and docs, per set (development, held-out).
Rule families (``--families``): every rule of ``classifiers.rules.RULES`` in precedence order,
its tier and cause, and how many messages it decides: collected ones per set and the seed guide's
(the measure ``tests/classifiers/test_corpus.py`` holds each rule to: two messages, or a
documented format, which is printed).

``--classifiers-from DIR`` measures another ``classifiers`` package (e.g. an older commit's,
extracted with ``git archive <commit> classifiers | tar -x -C DIR``).

Run: ``make bench`` or ``.venv/bin/python benchmarks/classify_bench.py [--size N] [--accuracy]
[--families]``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS_FILE = ROOT / "tests" / "classifiers" / "data" / "corpus.json"
# Causes are named here as the classifier names them (kept as text: --classifiers-from may load
# a package of another version). FAILURE_LOG_TERMS is a copy of classifiers.signals' list.
FAILURE_LOG_TERMS = (
    "Failed to pull image",
    "Persistent Image Pull Errors",
    "ImagePullBackOff",
    "ErrImagePull",
    "ImagePullFailure",
    "pull image failed",
    "Back-off pulling image",
)

REGISTRIES = (
    "contosoacr.azurecr.io",
    "prodregistry.azurecr.io",
    "docker.io",
    "ghcr.io",
    "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
    "gcr.io",
    "europe-docker.pkg.dev",
)
REPOS = ("api", "web/frontend", "team/payments-worker", "library/nginx", "ingest", "jobs/nightly")
TAGS = ("1.4.2", "latest", "v2025.11.3", "sha-3f9c2a1", "main-8812", "2.0.0-rc.1")

CONTAINERD = (
    'Failed to pull image "{img}": rpc error: code = Unknown desc = failed to pull and unpack '
    'image "{img}": failed to resolve reference "{img}": {detail}'
)
DOCKERD = "Error response from daemon: {detail}"
CRIO = 'Failed to pull image "{img}": rpc error: code = Unknown desc = {detail}'
ACA = (
    "Container '{container}' was terminated with exit code '' and reason 'ImagePullFailure'. "
    "Image {img} not found in registry. ErrorMessage=Image not found or access denied. "
    'Error: {{"errors":[{{"code":"{code}","message":"{message}"}}]}}'
)

DETAILS: dict[str, tuple[str, ...]] = {
    "image-not-found": (
        "{img}: not found",
        "unexpected status from HEAD request to https://{reg}/v2/{repo}/manifests/{tag}: 404 Not Found",
        'manifest for {img} not found: manifest unknown: manifest tagged by "{tag}" is not found',
    ),
    "registry-unauthorized": (
        "failed to authorize: failed to fetch oauth token: unexpected status from GET request to "
        "https://{reg}/oauth2/token?scope=repository%3A{repo}%3Apull&service={reg}: 401 Unauthorized",
        "failed to authorize: failed to fetch anonymous token: unexpected status from GET request "
        "to https://{reg}/oauth2/token?scope=repository%3A{repo}%3Apull&service={reg}: 401 Unauthorized",
        'Head "https://{reg}/v2/{repo}/manifests/{tag}": no basic auth credentials',
    ),
    "repository-access-denied": (
        "pull access denied, repository does not exist or may require authorization: server "
        "message: insufficient_scope: authorization failed",
        "pull access denied for {repo}, repository does not exist or may require 'docker login': "
        "denied: requested access to the resource is denied",
    ),
    "registry-firewall": (
        "unexpected status from HEAD request to https://{reg}/v2/{repo}/manifests/{tag}: 403 Forbidden",
        "denied: client with IP '{ip}' is not allowed access, refer https://aka.ms/acr/firewall to grant access",
    ),
    "dns-failure": (
        'failed to do request: Head "https://{reg}/v2/{repo}/manifests/{tag}": dial tcp: lookup {reg} on 168.63.129.16:53: no such host',
        'failed to do request: Head "https://{reg}/v2/{repo}/manifests/{tag}": dial tcp: lookup {reg}: i/o timeout',
        'failed to do request: Head "https://{reg}/v2/{repo}/manifests/{tag}": dial tcp: lookup {reg} on 10.0.0.4:53: server misbehaving',
    ),
    "network-timeout": (
        'failed to do request: Head "https://{reg}/v2/{repo}/manifests/{tag}": dial tcp {ip}:443: i/o timeout',
        'failed to copy: httpReadSeeker: failed open: failed to do request: Get "https://{reg}/v2/{repo}/blobs/sha256:{digest}": net/http: TLS handshake timeout',
    ),
    "connection-failed": (
        "failed to copy: read tcp 10.0.1.15:{port}->{ip}:443: read: connection reset by peer",
        'failed to do request: Head "https://{reg}/v2/{repo}/manifests/{tag}": dial tcp {ip}:443: connect: connection refused',
        'failed to copy: httpReadSeeker: failed open: failed to do request: Get "https://{reg}/v2/{repo}/blobs/sha256:{digest}": EOF',
    ),
    "tls-error": (
        'failed to do request: Head "https://{reg}/v2/{repo}/manifests/{tag}": tls: failed to verify certificate: x509: certificate signed by unknown authority',
        'failed to do request: Head "https://{reg}/v2/{repo}/manifests/{tag}": http: server gave HTTP response to HTTPS client',
    ),
    "registry-unavailable": (
        "unexpected status from HEAD request to https://{reg}/v2/{repo}/manifests/{tag}: 503 Service Unavailable",
        "unexpected status from GET request to https://{reg}/v2/{repo}/blobs/sha256:{digest}: 500 Internal Server Error",
    ),
    "rate-limited": (
        "unexpected status from HEAD request to https://{reg}/v2/{repo}/manifests/{tag}: 429 Too Many Requests",
        "toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit",
    ),
    "pull-canceled": (
        'failed to do request: Head "https://{reg}/v2/{repo}/manifests/{tag}": context canceled',
    ),
    "platform-mismatch": (
        "no match for platform in manifest: not found",
        "no matching manifest for linux/amd64 in the manifest list entries",
    ),
    "invalid-image-reference": ("invalid reference format",),
    "image-unpack-failed": (
        "failed to extract layer sha256:{digest}: write /var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/412/fs/usr/lib/libx.so: no space left on device",
        "failed to register layer: Error processing tar file(exit status 1): unexpected EOF",
    ),
    "unknown": (),
}
UNKNOWN_LINES = (
    'Persistent Image Pull Errors for image "{img}". Please check https://aka.ms/cappsimagepullerrors.',
    "Container '{container}' was terminated with exit code '' and reason 'ImagePullFailure'",
    "Error: ImagePullBackOff",
    'Back-off pulling image "{img}"',
)
ACA_CODES = (
    (
        "DENIED",
        "client with IP '{ip}' is not allowed access, refer https://aka.ms/acr/firewall to grant access",
    ),
    ("MANIFEST_UNKNOWN", 'manifest tagged by "{tag}" is not found'),
    (
        "UNAUTHORIZED",
        "authentication required, visit https://aka.ms/acr/authorization for more information.",
    ),
)


def build_corpus(size: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    messages: list[str] = []
    causes = list(DETAILS)
    while len(messages) < size:
        reg, repo, tag = rng.choice(REGISTRIES), rng.choice(REPOS), rng.choice(TAGS)
        img = f"{reg}/{repo}:{tag}"
        fields = {
            "ip": f"20.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
            "port": str(rng.randrange(32768, 61000)),
            "digest": f"{rng.getrandbits(256):064x}",
            "img": img,
            "reg": reg,
            "repo": repo,
            "tag": tag,
            "container": repo.split("/")[-1],
        }
        cause = rng.choice(causes)
        if cause == "unknown":
            messages.append(rng.choice(UNKNOWN_LINES).format(**fields))
            continue
        detail = rng.choice(DETAILS[cause]).format(**fields)
        shape = rng.random()
        if shape < 0.6:
            messages.append(CONTAINERD.format(detail=detail, **fields))
        elif shape < 0.75:
            messages.append(CRIO.format(detail=detail, **fields))
        elif shape < 0.9:
            messages.append(DOCKERD.format(detail=detail))
        else:
            code, text = rng.choice(ACA_CODES)
            messages.append(ACA.format(code=code, message=text.format(**fields), **fields))
    return messages


def baseline_pattern() -> re.Pattern[str]:
    keywords = (*FAILURE_LOG_TERMS, "rpc error", "unauthorized", "denied", "not found", "timeout")
    return re.compile("|".join(re.escape(word) for word in keywords))


def distinct(corpus: list[str]) -> list[str]:
    """Every line different: a kubelet-style timestamp leads each one."""
    return [
        f"E1203 {index // 3_600_000 % 24:02d}:{index // 60_000 % 60:02d}:"
        f"{index // 1000 % 60:02d}.{index % 1000:03d}123 {message}"
        for index, message in enumerate(corpus)
    ]


def with_repeats(corpus: list[str], pool: int, seed: int = 11) -> list[str]:
    """Lines drawn from ``pool`` distinct ones, as a tick sees the same failures again."""
    rng = random.Random(seed)
    lines = corpus[:pool]
    return [rng.choice(lines) for _ in corpus]


def _seconds(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def run(size: int, repeats: int) -> None:
    from classifiers import classify, diagnose

    # Without the cache of recent messages between runs (a tree from before it had none).
    forget_recent: Callable[[], object] = getattr(diagnose, "forget_recent", lambda: None)
    findall = baseline_pattern().findall
    base_corpus = build_corpus(size)
    workloads = {
        "distinct": distinct(base_corpus),
        "repeats": with_repeats(base_corpus, pool=1000),
    }
    counts: Counter[str] = Counter()
    for name, corpus in workloads.items():

        def baseline(lines: list[str] = corpus) -> None:
            for message in lines:
                findall(message)

        def ours(lines: list[str] = corpus) -> None:
            forget_recent()
            counts.clear()
            for message in lines:
                counts[classify(message).cause.value] += 1

        base = mine = float("inf")
        for _ in range(repeats):  # interleaved, so both see the same machine load
            base = min(base, _seconds(baseline))
            mine = min(mine, _seconds(ours))
        mean_len = sum(map(len, corpus)) / len(corpus)
        print(
            f"[{name}] {len(corpus):,} messages ({len(set(corpus)):,} distinct), "
            f"mean length {mean_len:.0f} chars, {len(counts)} causes"
        )
        print(f"  baseline (one findall of a keyword alternation): {len(corpus) / base:,.0f} msg/s")
        print(f"  classify: {len(corpus) / mine:,.0f} msg/s")
        print(f"  ratio classify/baseline: {mine / base:.2f} (target <= 3)")
    print("by cause (repeats): " + ", ".join(f"{c}={n}" for c, n in sorted(counts.items())))


def accuracy() -> None:
    """Cause and image accuracy on the collected corpus, per set."""
    from classifiers import classify

    rows = json.loads(CORPUS_FILE.read_text(encoding="utf-8"))
    for name in ("development", "held-out", "all"):
        cases = [row for row in rows if name in ("all", row["set"])]
        causes = images = named = found = 0
        for row in cases:
            diagnosis = classify(row["message"])
            causes += diagnosis.cause.value in row["causes"]
            images += diagnosis.image == row["image"]
            if row["image"] is not None:
                named += 1
                found += diagnosis.image == row["image"]
        total = len(cases)
        print(
            f"{name:11s} {total:3d} messages: cause {causes}/{total} = {causes / total:.1%}, "
            f"image exact {images}/{total} = {images / total:.1%}, "
            f"image found on lines naming one {found}/{named} = {found / named:.1%}"
        )


def families() -> None:
    """Each rule, in precedence order, with the messages it decides (collected and seed guide)."""
    from classifiers import classify
    from classifiers.rules import RULES

    sys.path.insert(1, str(ROOT))  # the seed guide's messages live with the tests
    from tests.classifiers.seed_cases import SEED_CASES

    rows = json.loads(CORPUS_FILE.read_text(encoding="utf-8"))
    sources = {
        "development": [row["message"] for row in rows if row["set"] == "development"],
        "held-out": [row["message"] for row in rows if row["set"] == "held-out"],
        "seed guide": [message for _, message, _, _ in SEED_CASES],
    }
    decided: dict[str, Counter[str]] = {name: Counter() for name in sources}
    codes: dict[str, Counter[str]] = {}
    for name, messages in sources.items():
        for message in messages:
            family, _, detail = classify(message).rule.partition(":")
            decided[name][family] += 1
            if detail:
                codes.setdefault(family, Counter())[detail] += 1
    print(
        f"{'rule':22s} {'tier':13s} {'cause':24s} {'dev':>4s} {'held':>4s} {'seed':>4s} "
        f"{'total':>5s}  documented format / detail"
    )
    for rule in RULES:
        counts = [decided[name][rule.name] for name in sources]
        from_code = rule.check.value in ("http-status", "registry-code")
        cause = "(from the code)" if from_code else rule.cause.value
        detail = ", ".join(f"{k} {n}" for k, n in sorted(codes.get(rule.name, Counter()).items()))
        note = "; ".join(part for part in (rule.documented, detail) if part)
        print(
            f"{rule.name:22s} {rule.tier.name.lower():13s} {cause:24s} "
            + " ".join(f"{n:4d}" for n in counts)
            + f" {sum(counts):5d}  {note}"
        )
    others = sorted({r for c in decided.values() for r in c} - {rule.name for rule in RULES})
    for other in others:  # not rules of the table: the Reason column, nothing found
        counts = [decided[name][other] for name in sources]
        print(
            f"{other:22s} {'-':13s} {'-':24s} "
            + " ".join(f"{n:4d}" for n in counts)
            + f" {sum(counts):5d}"
        )
    print(
        f"{len(RULES)} rules; messages: "
        + ", ".join(f"{name} {len(messages)}" for name, messages in sources.items())
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--accuracy", action="store_true", help="accuracy on the corpus instead")
    parser.add_argument(
        "--families", action="store_true", help="each rule and the messages it decides instead"
    )
    parser.add_argument("--classifiers-from", type=Path, help="a directory holding classifiers/")
    args = parser.parse_args()
    sys.path.insert(0, str(args.classifiers_from or ROOT))
    if args.families:
        families()
    elif args.accuracy:
        accuracy()
    else:
        run(args.size, args.repeats)


if __name__ == "__main__":
    main()
