"""Classifier throughput versus the least work any classifier must do.

Builds a corpus of at least 200,000 image-pull failure messages (every cause; containerd,
dockerd/moby, CRI-O and Container Apps wordings; ACR, Docker Hub, GHCR, ECR, GCR; realistic
lengths), classifies them all, and compares the time with a baseline in the same process: one
``re.search`` per message with a single compiled alternation of the failure keywords.

Run: ``make bench`` or ``.venv/bin/python benchmarks/classify_bench.py [--size N]``.
Target: ratio (classify time / baseline time) at most 3.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from classifiers import Cause, classify
from classifiers.signals import FAILURE_LOG_TERMS

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

DETAILS: dict[Cause, tuple[str, ...]] = {
    Cause.IMAGE_NOT_FOUND: (
        "{img}: not found",
        "unexpected status from HEAD request to https://{reg}/v2/{repo}/manifests/{tag}: 404 Not Found",
        'manifest for {img} not found: manifest unknown: manifest tagged by "{tag}" is not found',
    ),
    Cause.REGISTRY_UNAUTHORIZED: (
        "failed to authorize: failed to fetch oauth token: unexpected status from GET request to "
        "https://{reg}/oauth2/token?scope=repository%3A{repo}%3Apull&service={reg}: 401 Unauthorized",
        "failed to authorize: failed to fetch anonymous token: unexpected status from GET request "
        "to https://{reg}/oauth2/token?scope=repository%3A{repo}%3Apull&service={reg}: 401 Unauthorized",
        'Head "https://{reg}/v2/{repo}/manifests/{tag}": no basic auth credentials',
    ),
    Cause.REPOSITORY_ACCESS_DENIED: (
        "pull access denied, repository does not exist or may require authorization: server "
        "message: insufficient_scope: authorization failed",
        "pull access denied for {repo}, repository does not exist or may require 'docker login': "
        "denied: requested access to the resource is denied",
    ),
    Cause.REGISTRY_FIREWALL: (
        "unexpected status from HEAD request to https://{reg}/v2/{repo}/manifests/{tag}: 403 Forbidden",
        "denied: client with IP '{ip}' is not allowed access, refer https://aka.ms/acr/firewall to grant access",
    ),
    Cause.DNS_FAILURE: (
        'failed to do request: Head "https://{reg}/v2/{repo}/manifests/{tag}": dial tcp: lookup {reg} on 168.63.129.16:53: no such host',
        'failed to do request: Head "https://{reg}/v2/{repo}/manifests/{tag}": dial tcp: lookup {reg}: i/o timeout',
        'failed to do request: Head "https://{reg}/v2/{repo}/manifests/{tag}": dial tcp: lookup {reg} on 10.0.0.4:53: server misbehaving',
    ),
    Cause.NETWORK_TIMEOUT: (
        'failed to do request: Head "https://{reg}/v2/{repo}/manifests/{tag}": dial tcp {ip}:443: i/o timeout',
        'failed to copy: httpReadSeeker: failed open: failed to do request: Get "https://{reg}/v2/{repo}/blobs/sha256:{digest}": net/http: TLS handshake timeout',
    ),
    Cause.CONNECTION_FAILED: (
        "failed to copy: read tcp 10.0.1.15:{port}->{ip}:443: read: connection reset by peer",
        'failed to do request: Head "https://{reg}/v2/{repo}/manifests/{tag}": dial tcp {ip}:443: connect: connection refused',
        'failed to copy: httpReadSeeker: failed open: failed to do request: Get "https://{reg}/v2/{repo}/blobs/sha256:{digest}": EOF',
    ),
    Cause.TLS_ERROR: (
        'failed to do request: Head "https://{reg}/v2/{repo}/manifests/{tag}": tls: failed to verify certificate: x509: certificate signed by unknown authority',
        'failed to do request: Head "https://{reg}/v2/{repo}/manifests/{tag}": http: server gave HTTP response to HTTPS client',
    ),
    Cause.REGISTRY_UNAVAILABLE: (
        "unexpected status from HEAD request to https://{reg}/v2/{repo}/manifests/{tag}: 503 Service Unavailable",
        "unexpected status from GET request to https://{reg}/v2/{repo}/blobs/sha256:{digest}: 500 Internal Server Error",
    ),
    Cause.RATE_LIMITED: (
        "unexpected status from HEAD request to https://{reg}/v2/{repo}/manifests/{tag}: 429 Too Many Requests",
        "toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit",
    ),
    Cause.PULL_CANCELED: (
        'failed to do request: Head "https://{reg}/v2/{repo}/manifests/{tag}": context canceled',
    ),
    Cause.PLATFORM_MISMATCH: (
        "no match for platform in manifest: not found",
        "no matching manifest for linux/amd64 in the manifest list entries",
    ),
    Cause.INVALID_IMAGE_REFERENCE: ("invalid reference format",),
    Cause.IMAGE_UNPACK_FAILED: (
        "failed to extract layer sha256:{digest}: write /var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/412/fs/usr/lib/libx.so: no space left on device",
        "failed to register layer: Error processing tar file(exit status 1): unexpected EOF",
    ),
    Cause.UNKNOWN: (),
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
        if cause is Cause.UNKNOWN:
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


def run(size: int, repeats: int) -> None:
    corpus = build_corpus(size)
    pattern = baseline_pattern()
    search = pattern.search
    base_times, our_times = [], []
    counts: Counter[str] = Counter()
    for _ in range(repeats):
        start = time.perf_counter()
        hits = 0
        for message in corpus:
            if search(message) is not None:
                hits += 1
        base_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        counts.clear()
        for message in corpus:
            counts[classify(message).cause.value] += 1
        our_times.append(time.perf_counter() - start)
    base, ours = min(base_times), min(our_times)
    mean_len = sum(map(len, corpus)) / len(corpus)
    print(
        f"corpus: {len(corpus):,} messages, mean length {mean_len:.0f} chars, {len(counts)} causes"
    )
    print(f"baseline (one re.search of a keyword alternation): {len(corpus) / base:,.0f} msg/s")
    print(f"classify: {len(corpus) / ours:,.0f} msg/s")
    print(f"ratio classify/baseline: {ours / base:.2f} (target <= 3)")
    print("by cause: " + ", ".join(f"{cause}={n}" for cause, n in sorted(counts.items())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    run(args.size, args.repeats)


if __name__ == "__main__":
    main()
