"""Plain-stdlib HTTP workers for the multi-process gunicorn tests (spawned, so no Django here)."""

import json
import urllib.error
import urllib.request

_barrier = None


def init(barrier) -> None:
    global _barrier
    _barrier = barrier


def call(base: str, token: str, method: str, path: str, body: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        base + path, data=data, method=method,
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            return error.code, json.loads(raw)
        except ValueError:
            return error.code, raw.decode(errors="replace")[:500]


def run(job: tuple) -> list:
    """job = (base, token, [(method, path, body), ...]); waits for every process, then fires."""
    base, token, requests = job
    if _barrier is not None:
        _barrier.wait()
    return [call(base, token, method, path, body) for method, path, body in requests]
