"""Realistic variants for every cause: containerd, dockerd/moby, CRI-O and Container Apps wordings,
ACR, Docker Hub, GHCR, ECR and GCR, and Reason-only rows.

Each case: (id, message, reason, expected cause, expected facts)."""

from typing import Any

ACR = "contoso.azurecr.io/orders/api:1.4.2"
CTD = 'Failed to pull image "{img}": rpc error: code = Unknown desc = failed to pull and unpack image "{img}": failed to resolve reference "{img}": '


def ctd(img: str, detail: str) -> str:
    return CTD.format(img=img) + detail


VARIANTS: list[tuple[str, str, str | None, str, dict[str, Any]]] = [
    # image-not-found
    (
        "nf-containerd-acr",
        ctd(ACR, f"{ACR}: not found"),
        None,
        "image-not-found",
        {"registry": "contoso.azurecr.io", "repository": "orders/api", "tag": "1.4.2"},
    ),
    (
        "nf-dockerd-hub",
        "Error response from daemon: manifest for nginx:1.99 not found: manifest unknown: manifest unknown",
        None,
        "image-not-found",
        {
            "image": "nginx:1.99",
            "registry": "docker.io",
            "repository": "library/nginx",
            "tag": "1.99",
        },
    ),
    (
        "nf-crio-ghcr",
        'Failed to pull image "ghcr.io/acme/worker:v9": rpc error: code = Unknown desc = reading manifest v9 in ghcr.io/acme/worker: manifest unknown',
        None,
        "image-not-found",
        {"registry": "ghcr.io", "repository": "acme/worker", "tag": "v9"},
    ),
    (
        "nf-gcr-404",
        ctd(
            "gcr.io/proj/app:2",
            "unexpected status from HEAD request to https://gcr.io/v2/proj/app/manifests/2: 404 Not Found",
        ),
        None,
        "image-not-found",
        {"http_status": 404, "registry": "gcr.io"},
    ),
    (
        "nf-aca-manifest-json",
        'Container \'api\' was terminated with exit code \'\' and reason \'ImagePullFailure\'. Image contoso.azurecr.io/api:9 not found in registry. ErrorMessage=Image not found or access denied. Error: {"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest tagged by \\"9\\" is not found"}]}',
        None,
        "image-not-found",
        {"image": "contoso.azurecr.io/api:9"},
    ),
    (
        "nf-digest",
        ctd(
            "contoso.azurecr.io/api@sha256:" + "ab" * 32,
            "contoso.azurecr.io/api@sha256:" + "ab" * 32 + ": not found",
        ),
        None,
        "image-not-found",
        {"digest": "sha256:" + "ab" * 32, "tag": None},
    ),
    # registry-unauthorized
    (
        "ua-reason-only",
        "Container pull image failed with unauthorized error.",
        "ImagePullUnauthorized",
        "registry-unauthorized",
        {},
    ),
    (
        "ua-reason-column-generic-text",
        'Persistent Image Pull Errors for image "contoso.azurecr.io/api:1". Please check https://aka.ms/cappsimagepullerrors.',
        "ImagePullUnauthorized",
        "registry-unauthorized",
        {"image": "contoso.azurecr.io/api:1"},
    ),
    (
        "ua-dockerd-basic-auth",
        'Error response from daemon: Get "https://contoso.azurecr.io/v2/api/manifests/1": no basic auth credentials',
        None,
        "registry-unauthorized",
        {"registry": "contoso.azurecr.io"},
    ),
    (
        "ua-ecr",
        ctd(
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/svc:3",
            "failed to authorize: failed to fetch anonymous token: unexpected status from GET request to https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/: 401 Unauthorized",
        ),
        None,
        "registry-unauthorized",
        {"http_status": 401, "registry": "123456789012.dkr.ecr.eu-west-1.amazonaws.com"},
    ),
    (
        "ua-acr-json",
        'Error response from daemon: Head "https://contoso.azurecr.io/v2/api/manifests/1": unauthorized: {"errors":[{"code":"UNAUTHORIZED","message":"authentication required, visit https://aka.ms/acr/authorization for more information."}]}',
        None,
        "registry-unauthorized",
        {},
    ),
    # repository-access-denied
    (
        "ad-dockerhub-private",
        "Error response from daemon: pull access denied for acme/private, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
        None,
        "repository-access-denied",
        {},
    ),
    (
        "ad-crio-insufficient-scope",
        'Failed to pull image "contoso.azurecr.io/team/x:1": rpc error: code = Unknown desc = reading manifest 1 in contoso.azurecr.io/team/x: insufficient_scope: authorization failed',
        None,
        "repository-access-denied",
        {"repository": "team/x"},
    ),
    (
        "ad-aca-no-code",
        "Container 'web' was terminated with exit code '' and reason 'ImagePullFailure'. Image contoso.azurecr.io/web:2 not found in registry. ErrorMessage=Image not found or access denied.",
        None,
        "repository-access-denied",
        {"image": "contoso.azurecr.io/web:2"},
    ),
    # registry-firewall
    (
        "fw-acr-denied-real-ip",
        ctd(
            ACR,
            "unexpected status from HEAD request to https://contoso.azurecr.io/v2/orders/api/manifests/1.4.2: 403 Forbidden: denied: client with IP '20.84.13.7' is not allowed access, refer https://aka.ms/acr/firewall to grant access",
        ),
        None,
        "registry-firewall",
        {"client_ip": "20.84.13.7", "http_status": 403},
    ),
    (
        "fw-aca-json",
        'Container \'api\' was terminated with exit code \'\' and reason \'ImagePullFailure\'. Image contoso.azurecr.io/api:1 not found in registry. ErrorMessage=Image not found or access denied. Error: {"errors":[{"code":"DENIED","message":"client with IP \'52.160.1.9\' is not allowed access, refer https://aka.ms/acr/firewall to grant access"}]}',
        None,
        "registry-firewall",
        {"client_ip": "52.160.1.9", "image": "contoso.azurecr.io/api:1"},
    ),
    (
        "fw-ipv6",
        "denied: client with IP '2001:db8::7' is not allowed access, refer https://aka.ms/acr/firewall to grant access",
        None,
        "registry-firewall",
        {"client_ip": "2001:db8::7"},
    ),
    # dns-failure
    (
        "dns-server-misbehaving",
        ctd(
            ACR,
            'failed to do request: Head "https://contoso.azurecr.io/v2/orders/api/manifests/1.4.2": dial tcp: lookup contoso.azurecr.io on 10.0.0.4:53: server misbehaving',
        ),
        None,
        "dns-failure",
        {"dns_server": "10.0.0.4"},
    ),
    (
        "dns-temporary",
        'Error response from daemon: Get "https://ghcr.io/v2/": dial tcp: lookup ghcr.io: Temporary failure in name resolution',
        None,
        "dns-failure",
        {"registry": "ghcr.io"},
    ),
    (
        "dns-private-link",
        ctd(
            "corp.azurecr.io/app:7",
            'failed to do request: Head "https://corp.azurecr.io/v2/app/manifests/7": dial tcp: lookup corp.privatelink.azurecr.io on 168.63.129.16:53: no such host',
        ),
        None,
        "dns-failure",
        {"dns_server": "168.63.129.16", "registry": "corp.azurecr.io"},
    ),
    # network-timeout
    (
        "to-dial-ip",
        ctd(
            ACR,
            'failed to do request: Head "https://contoso.azurecr.io/v2/orders/api/manifests/1.4.2": dial tcp 20.62.128.2:443: i/o timeout',
        ),
        None,
        "network-timeout",
        {},
    ),
    (
        "to-dockerd-client-timeout",
        'Error response from daemon: Get "https://registry-1.docker.io/v2/": net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)',
        None,
        "network-timeout",
        {},
    ),
    (
        "to-deadline",
        'Failed to pull image "quay.io/org/app:1": rpc error: code = DeadlineExceeded desc = context deadline exceeded',
        None,
        "network-timeout",
        {"registry": "quay.io"},
    ),
    # connection-failed
    (
        "cf-refused",
        ctd(
            ACR,
            'failed to do request: Head "https://contoso.azurecr.io/v2/orders/api/manifests/1.4.2": dial tcp 10.1.2.3:443: connect: connection refused',
        ),
        None,
        "connection-failed",
        {},
    ),
    (
        "cf-eof",
        ctd(
            ACR,
            'failed to copy: httpReadSeeker: failed open: failed to do request: Get "https://contoso.azurecr.io/v2/orders/api/blobs/sha256:1ab": EOF',
        ),
        None,
        "connection-failed",
        {},
    ),
    (
        "cf-proxy",
        'Error response from daemon: Get "https://registry-1.docker.io/v2/": proxyconnect tcp: dial tcp 10.9.9.9:3128: connect: no route to host',
        None,
        "connection-failed",
        {},
    ),
    # tls-error
    (
        "tls-unknown-authority",
        ctd(
            ACR,
            'failed to do request: Head "https://contoso.azurecr.io/v2/orders/api/manifests/1.4.2": tls: failed to verify certificate: x509: certificate signed by unknown authority',
        ),
        None,
        "tls-error",
        {},
    ),
    (
        "tls-http-to-https",
        'Error response from daemon: Get "https://registry.internal:5000/v2/": http: server gave HTTP response to HTTPS client',
        None,
        "tls-error",
        {},
    ),
    # registry-unavailable
    (
        "5xx-500",
        ctd(
            "ghcr.io/acme/api:1",
            "unexpected status from GET request to https://ghcr.io/v2/acme/api/blobs/sha256:77e: 500 Internal Server Error",
        ),
        None,
        "registry-unavailable",
        {"http_status": 500},
    ),
    (
        "5xx-dockerd-502",
        "Error response from daemon: received unexpected HTTP status: 502 Bad Gateway",
        None,
        "registry-unavailable",
        {"http_status": 502},
    ),
    # rate-limited
    (
        "rl-dockerhub",
        'Failed to pull image "nginx:1.25": rpc error: code = Unknown desc = failed to pull and unpack image "docker.io/library/nginx:1.25": failed to copy: httpReadSeeker: failed open: unexpected status code https://registry-1.docker.io/v2/library/nginx/manifests/sha256:abc: 429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit.',
        None,
        "rate-limited",
        {"image": "nginx:1.25", "registry": "docker.io", "http_status": 429},
    ),
    (
        "rl-dockerd",
        "Error response from daemon: toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit",
        None,
        "rate-limited",
        {},
    ),
    # pull-canceled
    (
        "cancel-code",
        'Failed to pull image "contoso.azurecr.io/big:1": rpc error: code = Canceled desc = failed to pull and unpack image "contoso.azurecr.io/big:1": context canceled',
        None,
        "pull-canceled",
        {},
    ),
    (
        "cancel-crio",
        'Failed to pull image "ghcr.io/a/b:1": rpc error: code = Canceled desc = pulling image: context canceled',
        None,
        "pull-canceled",
        {},
    ),
    # platform-mismatch
    (
        "pm-containerd",
        ctd("contoso.azurecr.io/arm-only:1", "no match for platform in manifest: not found"),
        None,
        "platform-mismatch",
        {},
    ),
    (
        "pm-dockerd",
        "Error response from daemon: no matching manifest for linux/amd64 in the manifest list entries",
        None,
        "platform-mismatch",
        {},
    ),
    # invalid-image-reference
    (
        "ir-containerd",
        'Failed to pull image "Contoso.azurecr.io/API:1": rpc error: code = Unknown desc = failed to pull and unpack image "docker.io/library/Contoso.azurecr.io/API:1": failed to resolve reference: invalid reference format: repository name must be lowercase',
        None,
        "invalid-image-reference",
        {},
    ),
    (
        "ir-reason",
        'Failed to apply default image tag "contoso.azurecr.io/api:1 ": couldn\'t parse image reference',
        "InvalidImageName",
        "invalid-image-reference",
        {},
    ),
    ("ir-reason-only", "Error: InvalidImageName", None, "invalid-image-reference", {}),
    # image-unpack-failed
    (
        "up-no-space",
        ctd(
            "contoso.azurecr.io/ml/model:3",
            "failed to extract layer sha256:4b1c: write /var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/412/fs/model.bin: no space left on device: unknown",
        ),
        None,
        "image-unpack-failed",
        {},
    ),
    (
        "up-register-layer",
        "Error response from daemon: failed to register layer: Error processing tar file(exit status 1): unexpected EOF",
        None,
        "image-unpack-failed",
        {},
    ),
    # unknown
    ("uk-backoff", "Error: ImagePullBackOff", None, "unknown", {}),
    (
        "uk-back-off-pulling",
        'Back-off pulling image "contoso.azurecr.io/api:1"',
        "BackOff",
        "unknown",
        {"image": "contoso.azurecr.io/api:1"},
    ),
    ("uk-errimagepull", "Error: ErrImagePull", None, "unknown", {}),
]
