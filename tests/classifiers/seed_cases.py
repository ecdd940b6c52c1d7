"""Every error message of the troubleshooting guide (shared/reference/seed-aca-image-pull-errors.md),
verbatim, with the cause and image it must get."""

SEED_CASES: list[tuple[str, str, str | None, str]] = [
    (
        "persistent-portal",
        'Persistent Image Pull Errors for image "someregistry.com/image:atest". Please check https://aka.ms/cappsimagepullerrors.',
        "someregistry.com/image:atest",
        "unknown",
    ),
    (
        "dedicated-imagepullfailure",
        "Container 'some-container' was terminated with exit code '' and reason 'ImagePullFailure'",
        None,
        "unknown",
    ),
    (
        "generic-containerd-elided",
        'Failed to pull image "someacr.azurecr.io/someimage:sometag": rpc error: code = Unknown desc = failed to pull and unpack image "someacr.azurecr.io/someimage:sometag": failed to resolve reference "someacr.azurecr.io/someimage:sometag": ...',
        "someacr.azurecr.io/someimage:sometag",
        "unknown",
    ),
    (
        "401-oauth-and-anonymous",
        'Failed to pull image "someacr.azurecr.io/image:tag": [rpc error: code = Unknown desc = failed to pull and unpack image "someacr.azurecr.io/image:tag": failed to resolve reference "someacr.azurecr.io/image:tag": failed to authorize: failed to fetch oauth token: unexpected status from GET request to https://someacr.azurecr.io/oauth2/token?scope=repository%3repo%image%3Apull&service=someacr.azurecr.io: 401 Unauthorized, rpc error: code = Unknown desc = failed to pull and unpack image "someacr.azurecr.io/iamge:tag": failed to resolve reference "someacr.azurecr.io/iamge:tag": failed to authorize: failed to fetch anonymous token: unexpected status from GET request to https://someacr.azurecr.io/oauth2/token?scope=repository%3repo%2Fimage%3Apull&service=someacr.azurecr.io: 401 Unauthorized]',
        "someacr.azurecr.io/image:tag",
        "registry-unauthorized",
    ),
    (
        "403-forbidden",
        'Failed to pull image "someacr.azurecr.io/image:tag": rpc error: code = Unknown desc = failed to pull and unpack image "someacr.azurecr.io/image:tag": failed to resolve reference "someacr.azurecr.io/image:tag": unexpected status from HEAD request to https://someacr.azurecr.io/image:tag/v2/image/manifests/tag: 403 Forbidden',
        "someacr.azurecr.io/image:tag",
        "registry-firewall",
    ),
    (
        "insufficient-scope",
        'Failed to pull image "someacr.azurecr.io/someimage:sometag": rpc error: code = Unknown desc = failed to pull and unpack image "someacr.azurecr.io/someimage:sometag": failed to resolve reference "someacr.azurecr.io/someimage:sometag": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed',
        "someacr.azurecr.io/someimage:sometag",
        "repository-access-denied",
    ),
    (
        "dns-no-such-host",
        'Failed to pull image "someacr.azurecr.io/someimage:sometag": rpc error: code = Unknown desc = failed to pull and unpack image "someacr.azurecr.io/someimage:sometag": failed to resolve reference "someacr.azurecr.io/someimage:sometag": failed to do request: Head "https://someacr.azurecr.io/someimage:sometag/v2/someimage/manifests/sometag": dial tcp: lookup someacr.azurecr.io on 168.63.129.16:53: no such host',
        "someacr.azurecr.io/someimage:sometag",
        "dns-failure",
    ),
    (
        "dns-lookup-io-timeout",
        'Failed to pull image "someacr.azurecr.io/someimage:sometag": rpc error: code = Unknown desc = failed to pull and unpack image "someacr.azurecr.io/someimage:sometag": failed to resolve reference "someacr.azurecr.io/someimage:sometag": failed to do request: Head "https://someacr.azurecr.io/someimage:sometag/v2/image/manifests/tag": dial tcp: lookup someacr.azurecr.io: i/o timeout',
        "someacr.azurecr.io/someimage:sometag",
        "dns-failure",
    ),
    (
        "connection-reset",
        'Failed to pull image "someacr.azurecr.io/someimage:sometag": rpc error: code = Unknown desc = failed to pull and unpack image "someacr.azurecr.io/someimage:sometag": failed to copy: read tcp xx.x.x.xxx:xxxxx->xx.xxx.xx.xxx:xxx: read: connection reset by peer',
        "someacr.azurecr.io/someimage:sometag",
        "connection-failed",
    ),
    (
        "tls-handshake-timeout",
        'Failed to pull image "someacr.azurecr.io/someimage:sometag": rpc error: code = Unknown desc = failed to pull and unpack image "someacr.azurecr.io/someimage:sometag": failed to copy: httpReadSeeker: failed open: failed to do request: Get "httpsomeacr.azurecr.io/someimage:sometag": net/http: TLS handshake timeout',
        "someacr.azurecr.io/someimage:sometag",
        "network-timeout",
    ),
    (
        "503-unavailable",
        'Failed to pull image "someacr.azurecr.io/someimage:sometag": rpc error: code = Unknown desc = failed to pull and unpack image "msomeacr.azurecr.io/someimage:sometag": failed to resolve reference "someacr.azurecr.io/someimage:sometag": unexpected status from HEAD request to https://someacr.azurecr.io/v2/someimage/manifests/sometag: 503 Service Unavailable',
        "someacr.azurecr.io/someimage:sometag",
        "registry-unavailable",
    ),
    (
        "context-canceled",
        'Failed to pull image "someacr.azurecr.io/someimage:sometag": rpc error: code = Canceled desc = failed to pull and unpack image "someacr.azurecr.io/someimage:sometag": failed to resolve reference "someacr.azurecr.io/someimage:sometag": failed to do request: Head "someacr.azurecr.io/someimage:sometag": context canceled',
        "someacr.azurecr.io/someimage:sometag",
        "pull-canceled",
    ),
    (
        "acr-firewall-denied",
        "DENIED: client with IP 'xx.xx.xxx1.xx' is not allowed access, refer https://aka.ms/acr/firewall to grant access'",
        None,
        "registry-firewall",
    ),
    (
        "missing-tag-notfound-then-401",
        'Failed to pull image "someacr.azurecr.io/someimage:sometag": [rpc error: code = NotFound desc = failed to pull and unpack image "someacr.azurecr.io/someimage:sometag": failed to resolve reference "someacr.azurecr.io/someimage:sometag": someacr.azurecr.io/someimage:sometag: not found, rpc error: code = Unknown desc = failed to pull and unpack image "someacr.azurecr.io/someimage:sometag": failed to resolve reference "someacr.azurecr.io/someimage:sometag": failed to authorize: failed to fetch anonymous token: unexpected status from GET request to https://someacr.azurecr.io/oauth2/token?scope=repository%3Asomeimage%3Apull&service=someacr.azurecr.io: 401 Unauthorized]',
        "someacr.azurecr.io/someimage:sometag",
        "image-not-found",
    ),
    (
        "missing-tag-insufficient-scope",
        'Failed to pull image "someacr.azurecr.io/someimage:sometag": rpc error: code = Unknown desc = failed to pull and unpack image "someacr.azurecr.io/someimage:sometag": failed to resolve reference "someacr.azurecr.io/someimage:sometag": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed',
        "someacr.azurecr.io/someimage:sometag",
        "repository-access-denied",
    ),
    (
        "invalid-value-404",
        '\'Invalid value: "somehost.com/someimage:tag": GET https:: unexpected status code 404 Not Found:',
        "somehost.com/someimage:tag",
        "image-not-found",
    ),
    (
        # platform-facts §1: a firewall denial despite the words "not found".
        "aca-terminated-denied-json",
        'Container \'app\' was terminated with exit code \'\' and reason \'ImagePullFailure\'. Image X not found in registry. ErrorMessage=Image not found or access denied. Error: {"errors":[{"code":"DENIED","message":"client with IP \'1.2.3.4\' is not allowed access, refer https://aka.ms/acr/firewall to grant access"}]}',
        None,
        "registry-firewall",
    ),
]
