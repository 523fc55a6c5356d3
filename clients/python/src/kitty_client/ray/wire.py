"""What a node replica tells the ingress about one request: a plain dict (a "head"), picklable
and cheap, so that the ingress decides about retries without exceptions crossing Ray.

A head has ``status`` (int), ``headers`` (the kittyd answer's headers worth passing on), ``node``
(the replica's node name), ``was_ready`` (the node's kittyd had the model ready before this
request: the affinity the cluster is judged by), ``retryable`` (another node may serve it),
``retry_after`` (seconds, for busy answers) and, unless the body is streamed after it, ``body``.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

# kittyd's answers that say "not this node, not now" rather than "not this request": another
# node (other models pinned, another budget, another state) may well serve it.
RETRYABLE_CODES = frozenset({"no_room", "no_room_busy", "worker_stopping", "shutting_down", "server_busy"})

# The answer headers a client of the cluster still wants to see.
PASSED_HEADERS = ("content-type", "x-kitty-served-by", "x-request-id", "retry-after")


def error_body(message: str, code: str, status: int) -> bytes:
    """An OpenAI-shaped error body, as kittyd writes them (docs/API.md)."""
    kind = "server_error" if status >= 500 or status == 429 else "invalid_request_error"
    return json.dumps({"error": {"message": message, "type": kind, "code": code}}).encode()


def error_code(body: bytes) -> str | None:
    try:
        err = json.loads(body).get("error")
    except (ValueError, AttributeError):
        return None
    if isinstance(err, dict) and isinstance(err.get("code"), str):
        return str(err["code"])
    return None


def answer_head(node: str, status: int, headers: Mapping[str, str], *, was_ready: bool,
                body: bytes | None = None) -> dict[str, Any]:
    """The head for an answer kittyd gave. ``body`` is read for the error code of a 4xx/5xx."""
    code = error_code(body) if body is not None and status >= 400 else None
    retry_after = headers.get("retry-after")
    head: dict[str, Any] = {
        "status": status,
        "headers": {k: headers[k] for k in PASSED_HEADERS if k in headers},
        "node": node,
        "was_ready": was_ready,
        "retryable": code in RETRYABLE_CODES,
        "code": code,
        "retry_after": float(retry_after) if retry_after and retry_after.isdigit() else None,
    }
    if body is not None:
        head["body"] = body
    return head


def unreachable_head(node: str, url: str, why: str) -> dict[str, Any]:
    """The node's kittyd did not answer at all: skip the node."""
    msg = f"kittyd of node {node} at {url} did not answer: {why}"
    return {"status": 503, "headers": {"content-type": "application/json"}, "node": node, "was_ready": False,
            "retryable": True, "code": "node_unavailable", "retry_after": None,
            "body": error_body(msg, "node_unavailable", 503)}
