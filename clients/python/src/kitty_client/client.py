"""Synchronous client for kittyd's HTTP API (docs/API.md)."""

from __future__ import annotations

from typing import Any, ContextManager, Iterable, Iterator, Mapping, Self

import httpx

from . import _http
from .errors import KittyError, error_from_response
from .hold import Hold, hold as _hold


class KittyClient:
    """Talks to one kittyd over HTTP. Models never load in this process.

    Args:
        base_url: kittyd's root URL; default ``$KITTY_URL`` or ``http://127.0.0.1:7700``.
            A trailing ``/v1`` is accepted and dropped.
        api_key: Bearer key for the gateway (``server.api_keys``); default ``$KITTY_API_KEY``.
        admin_key: key for the admin routes (``server.admin_keys``); defaults to ``api_key``.
        timeout: seconds to wait for a response (ensuring a big model can take minutes).

    Errors raise :class:`~kitty_client.errors.KittyError` subclasses: ``ModelNotFound``,
    ``WorkerStartFailed``, ``DaemonUnavailable``, ...

    Usable as a context manager (closes the connection pool).
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        admin_key: str | None = None,
        timeout: float | None = _http.DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = _http.resolve_base_url(base_url)
        self.api_key = _http.resolve_api_key(api_key)
        self.admin_key = admin_key if admin_key is not None else self.api_key
        self._http = httpx.Client(
            base_url=self.base_url, timeout=_http.make_timeout(timeout), transport=transport
        )

    # --- plumbing -----------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _key_for(self, path: str) -> str | None:
        # The gateway's routes (OpenAI's and Ollama's) take the API key; /kitty/ the admin key.
        return self.api_key if path.startswith(("/v1/", "/api/")) else self.admin_key

    def _request(
        self,
        method: str,
        path: str,
        json: Any = None,
        *,
        params: Mapping[str, Any] | None = None,
        model: str | None = None,
    ) -> Any:
        url = self.base_url + path
        try:
            resp = self._http.request(
                method, path, json=json, params=params, headers=_http.headers(self._key_for(path))
            )
        except httpx.TransportError as exc:
            raise _http.transport_error(url, exc) from exc
        if resp.status_code >= 400:
            raise error_from_response(resp.status_code, resp.content, model=model)
        return _http.decode_json(resp.content, url) if resp.content else None

    def _get_json(self, path: str, *, params: Mapping[str, Any] | None = None, model: str | None = None) -> dict[str, Any]:
        return _http.expect_object(self._request("GET", path, params=params, model=model), self.base_url + path)

    def _post_json(self, path: str, json: Any = None, *, params: Mapping[str, Any] | None = None,
                   model: str | None = None) -> dict[str, Any]:
        data = self._request("POST", path, json if json is not None else {}, params=params, model=model)
        return _http.expect_object(data, self.base_url + path)

    def _stream(self, path: str, body: dict[str, Any], model: str) -> Iterator[str]:
        url = self.base_url + path
        try:
            with self._http.stream(
                "POST", path, json=body, headers=_http.headers(self._key_for(path))
            ) as resp:
                if resp.status_code >= 400:
                    raise error_from_response(resp.status_code, resp.read(), model=model)
                if _http.is_json_response(resp.headers.get("content-type")):
                    # A worker that ignores "stream": one JSON answer, one chunk.
                    text = _http.completion_text(_http.decode_json(resp.read(), url))
                    if text:
                        yield text
                    return
                yield from _http.iter_sse_text(resp.iter_lines(), model)
        except httpx.TransportError as exc:
            raise _http.transport_error(url, exc) from exc

    # --- admin --------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """``GET /health``: ``{"status": "ok", "version", "uptime_seconds", "models"}``."""
        return self._get_json("/health")

    def workers(self) -> list[dict[str, Any]]:
        """Every configured model's worker state (``W`` objects: model_id, status, pid, rss_mb, holds, ...)."""
        return list(self._get_json("/kitty/system/workers").get("workers", []))

    def worker(self, model: str) -> dict[str, Any]:
        """One model's worker state; raises ModelNotFound for an unknown id."""
        return self._get_json(_http.worker_path(model), model=model)

    def models(self) -> list[dict[str, Any]]:
        """``GET /v1/models``: the configured models with status and aliases."""
        return list(self._get_json("/v1/models").get("data", []))

    def ensure(self, model: str, reset: bool = False) -> dict[str, Any]:
        """Start the model's worker if needed and wait until it is ready; returns its state.

        ``reset`` climbs back to the top of the model's OOM downgrade ladder first.
        Raises ModelNotFound, WorkerStartFailed (with the worker's log tail) or WorkerStartTimeout.
        """
        params = {"reset": "true"} if reset else None
        return self._post_json(_http.worker_path(model, "/ensure"), params=params, model=model)

    def reload_config(self, force: bool = False) -> dict[str, Any]:
        """Re-read kittyd's config file and apply it; returns what happened to each model
        (``{"models": {"qwen": "restart_when_idle", ...}, "not_applied": [...]}``).

        With ``force`` changed models restart now, cutting their requests in flight. A bad file
        raises BadRequest (its message names file:line: key) and changes nothing.
        """
        params = {"force": "true"} if force else None
        return self._post_json("/kitty/config/reload", params=params)

    def release(self, model: str, force: bool = False) -> dict[str, Any]:
        """Stop the model's worker and wait until its process group is gone (frees its memory).

        Without ``force`` requests in flight finish first; with ``force`` they are cut.
        """
        params = {"force": "true"} if force else None
        return self._post_json(_http.worker_path(model, "/release"), params=params, model=model)

    def release_all(self, force: bool = False) -> list[dict[str, Any]]:
        """Stop every worker; returns their states."""
        params = {"force": "true"} if force else None
        return list(self._post_json("/kitty/workers/release-all", params=params).get("workers", []))

    def logs(self, model: str, tail: int = 100) -> list[str]:
        """The last ``tail`` lines of the worker's log."""
        data = self._get_json(_http.worker_path(model, "/logs"), params={"tail": tail}, model=model)
        return [str(x) for x in data.get("lines", [])]

    # --- memory -------------------------------------------------------------------------------

    def system_memory(self) -> dict[str, Any]:
        """``GET /kitty/system/memory``: total, available, budget, what workers hold, GPUs,
        pressure flags and events, the restore queue and the starts waiting for room."""
        return self._get_json("/kitty/system/memory")

    def headroom(self, nbytes: int) -> dict[str, Any]:
        """Make ``nbytes`` available to a job outside kittyd, stopping models in eviction order
        (never pinned or busy ones). Returns ``{"requested_bytes", "freed_bytes", "evicted",
        "available_bytes"}``; ``freed_bytes`` may be less than asked."""
        return self._post_json("/kitty/memory/headroom", {"bytes": int(nbytes)})

    def pin(self, model: str) -> dict[str, Any]:
        """Never evict or idle out the model (until ``unpin`` or a restart); returns its state."""
        return self._post_json(_http.worker_path(model, "/pin"), model=model)

    def unpin(self, model: str) -> dict[str, Any]:
        return self._post_json(_http.worker_path(model, "/unpin"), model=model)

    def set_priority(self, model: str, priority: int) -> dict[str, Any]:
        """Eviction priority, -1000..1000: a higher one stays longer. Returns the model's state."""
        return self._post_json(_http.worker_path(model, "/priority"), {"priority": int(priority)}, model=model)

    def create_hold(
        self, model: str, *, lease_seconds: float = _http.DEFAULT_LEASE_SECONDS, owner: str | None = None
    ) -> dict[str, Any]:
        """``POST /kitty/workers/{model}/hold``: start the model if needed, then hold it.

        A held model is not idled out or evicted. The hold lasts ``lease_seconds`` (0.1 to
        86400) unless :meth:`renew_hold` restarts the lease; :meth:`drop_hold` ends it. ``owner``
        is free text shown in ``workers()``. Most code wants :meth:`hold`, which does all three.

        Returns ``{"hold_id", "model_id", "lease_seconds", "expires_in_seconds"}``. Raises
        ModelNotFound, WorkerStartFailed, WorkerStartTimeout, or BadRequest for a lease out of
        range.
        """
        return self._post_json(_http.worker_path(model, "/hold"), _http.hold_body(lease_seconds, owner),
                               model=model)

    def renew_hold(self, hold_id: str) -> dict[str, Any]:
        """``POST /kitty/holds/{hold_id}/renew``: restart the hold's lease.

        Returns the same shape as :meth:`create_hold`. Raises HoldNotFound when the hold has
        expired, was dropped, or its model was released.
        """
        return self._post_json(_http.hold_path(hold_id, "/renew"))

    def drop_hold(self, hold_id: str) -> dict[str, Any]:
        """``DELETE /kitty/holds/{hold_id}``: end the hold; the model's idle countdown starts now.

        Returns ``{"released": true, ...}``. Raises HoldNotFound when the hold is already gone.
        """
        path = _http.hold_path(hold_id)
        return _http.expect_object(self._request("DELETE", path), self.base_url + path)

    def hold(
        self,
        model: str,
        *,
        lease_seconds: float | None = None,
        owner: str | None = None,
        release_on_exit: bool = False,
    ) -> ContextManager[Hold]:
        """Keep ``model`` ready (no idle-out, no eviction) while the ``with`` block runs.

        Ensures the model, takes a hold with a lease (default 30 s), renews it every lease/3
        from a background thread, and drops it on exit, also when the block raises; the model's
        idle countdown starts then. ``release_on_exit=True`` also releases the model (the
        graph-phase pattern: use it, then free its memory).

        Yields a :class:`~kitty_client.hold.Hold` (``hold_id``, ``worker`` state, ...).
        """
        return _hold(self, model, lease_seconds=lease_seconds, owner=owner, release_on_exit=release_on_exit)

    # --- gateway ------------------------------------------------------------------------------

    def complete_raw(self, model: str, prompt: str, **params: Any) -> dict[str, Any]:
        """``POST /v1/completions``; the full OpenAI response."""
        body = _http.completion_body(model, prompt, params, stream=False)
        return self._post_json("/v1/completions", body, model=model)

    def complete(self, model: str, prompt: str, **params: Any) -> str:
        """Text completion; ``params`` pass through (max_tokens, temperature, stop, ...)."""
        return _http.completion_text(self.complete_raw(model, prompt, **params))

    def chat_raw(self, model: str, messages: Iterable[Mapping[str, Any]], **params: Any) -> dict[str, Any]:
        """``POST /v1/chat/completions``; the full OpenAI response."""
        body = _http.chat_body(model, messages, params, stream=False)
        return self._post_json("/v1/chat/completions", body, model=model)

    def chat(self, model: str, messages: Iterable[Mapping[str, Any]], **params: Any) -> str:
        """Chat completion; returns the assistant message's text."""
        return _http.completion_text(self.chat_raw(model, messages, **params))

    def stream_complete(self, model: str, prompt: str, **params: Any) -> Iterator[str]:
        """Streamed text completion: yields text chunks as the worker produces them.

        Raises UpstreamError (or the mapped error) if the stream carries an error event.
        """
        return self._stream("/v1/completions", _http.completion_body(model, prompt, params, True), model)

    def stream_chat(self, model: str, messages: Iterable[Mapping[str, Any]], **params: Any) -> Iterator[str]:
        """Streamed chat completion: yields the assistant's text chunks."""
        return self._stream("/v1/chat/completions", _http.chat_body(model, messages, params, True), model)

    def embeddings(self, model: str, input: str | list[str], **params: Any) -> list[list[float]]:
        """``POST /v1/embeddings``; one vector per input."""
        body = {"model": model, "input": input, **params}
        data = self._post_json("/v1/embeddings", body, model=model)
        try:
            return [list(d["embedding"]) for d in data["data"]]
        except (KeyError, TypeError) as exc:
            raise KittyError(f"unexpected embeddings response: {str(data)[:300]}") from exc

    def __repr__(self) -> str:
        return f"KittyClient({self.base_url!r})"
