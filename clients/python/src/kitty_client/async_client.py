"""Asynchronous twin of :class:`kitty_client.KittyClient` for async LangGraph graphs."""

from __future__ import annotations

from typing import Any, AsyncContextManager, AsyncIterator, Iterable, Mapping, Self

import httpx

from . import _http
from .errors import KittyError, error_from_response
from .hold import Hold, ahold


class AsyncKittyClient:
    """Same methods as :class:`~kitty_client.KittyClient`, as coroutines.

    Streaming methods are async generators::

        async for chunk in client.stream_chat("smol", [{"role": "user", "content": "hi"}]):
            print(chunk, end="")

    and ``hold`` is an async context manager renewing its lease from a task.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        admin_key: str | None = None,
        timeout: float | None = _http.DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = _http.resolve_base_url(base_url)
        self.api_key = _http.resolve_api_key(api_key)
        self.admin_key = admin_key if admin_key is not None else self.api_key
        self._http = httpx.AsyncClient(
            base_url=self.base_url, timeout=_http.make_timeout(timeout), transport=transport
        )

    # --- plumbing -----------------------------------------------------------------------------

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _key_for(self, path: str) -> str | None:
        return self.api_key if path.startswith("/v1/") else self.admin_key

    async def _request(
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
            resp = await self._http.request(
                method, path, json=json, params=params, headers=_http.headers(self._key_for(path))
            )
        except httpx.TransportError as exc:
            raise _http.transport_error(url, exc) from exc
        if resp.status_code >= 400:
            raise error_from_response(resp.status_code, resp.content, model=model)
        return _http.decode_json(resp.content, url) if resp.content else None

    async def _get_json(self, path: str, *, params: Mapping[str, Any] | None = None,
                        model: str | None = None) -> dict[str, Any]:
        return _http.expect_object(await self._request("GET", path, params=params, model=model), self.base_url + path)

    async def _post_json(self, path: str, json: Any = None, *, params: Mapping[str, Any] | None = None,
                         model: str | None = None) -> dict[str, Any]:
        data = await self._request("POST", path, json if json is not None else {}, params=params, model=model)
        return _http.expect_object(data, self.base_url + path)

    async def _stream(self, path: str, body: dict[str, Any], model: str) -> AsyncIterator[str]:
        url = self.base_url + path
        try:
            async with self._http.stream(
                "POST", path, json=body, headers=_http.headers(self._key_for(path))
            ) as resp:
                if resp.status_code >= 400:
                    raise error_from_response(resp.status_code, await resp.aread(), model=model)
                if _http.is_json_response(resp.headers.get("content-type")):
                    text = _http.completion_text(_http.decode_json(await resp.aread(), url))
                    if text:
                        yield text
                    return
                parser = _http.SSEParser(model)
                async for line in resp.aiter_lines():
                    for ev in parser.feed(line):
                        text = _http.chunk_text(ev)
                        if text:
                            yield text
                    if parser.done:
                        return
                for ev in parser.close():
                    text = _http.chunk_text(ev)
                    if text:
                        yield text
        except httpx.TransportError as exc:
            raise _http.transport_error(url, exc) from exc

    # --- admin --------------------------------------------------------------------------------

    async def health(self) -> dict[str, Any]:
        return await self._get_json("/health")

    async def workers(self) -> list[dict[str, Any]]:
        return list((await self._get_json("/kitty/system/workers")).get("workers", []))

    async def worker(self, model: str) -> dict[str, Any]:
        return await self._get_json(_http.worker_path(model), model=model)

    async def models(self) -> list[dict[str, Any]]:
        return list((await self._get_json("/v1/models")).get("data", []))

    async def ensure(self, model: str, reset: bool = False) -> dict[str, Any]:
        params = {"reset": "true"} if reset else None
        return await self._post_json(_http.worker_path(model, "/ensure"), params=params, model=model)

    async def reload_config(self, force: bool = False) -> dict[str, Any]:
        params = {"force": "true"} if force else None
        return await self._post_json("/kitty/config/reload", params=params)

    async def release(self, model: str, force: bool = False) -> dict[str, Any]:
        params = {"force": "true"} if force else None
        return await self._post_json(_http.worker_path(model, "/release"), params=params, model=model)

    async def release_all(self, force: bool = False) -> list[dict[str, Any]]:
        params = {"force": "true"} if force else None
        return list((await self._post_json("/kitty/workers/release-all", params=params)).get("workers", []))

    async def logs(self, model: str, tail: int = 100) -> list[str]:
        data = await self._get_json(_http.worker_path(model, "/logs"), params={"tail": tail}, model=model)
        return [str(x) for x in data.get("lines", [])]

    async def system_memory(self) -> dict[str, Any]:
        return await self._get_json("/kitty/system/memory")

    async def headroom(self, nbytes: int) -> dict[str, Any]:
        return await self._post_json("/kitty/memory/headroom", {"bytes": int(nbytes)})

    async def pin(self, model: str) -> dict[str, Any]:
        return await self._post_json(_http.worker_path(model, "/pin"), model=model)

    async def unpin(self, model: str) -> dict[str, Any]:
        return await self._post_json(_http.worker_path(model, "/unpin"), model=model)

    async def set_priority(self, model: str, priority: int) -> dict[str, Any]:
        return await self._post_json(_http.worker_path(model, "/priority"), {"priority": int(priority)},
                                     model=model)

    async def create_hold(
        self, model: str, *, lease_seconds: float = _http.DEFAULT_LEASE_SECONDS, owner: str | None = None
    ) -> dict[str, Any]:
        """``POST /kitty/workers/{model}/hold`` -- see :meth:`KittyClient.create_hold`."""
        return await self._post_json(_http.worker_path(model, "/hold"), _http.hold_body(lease_seconds, owner),
                                     model=model)

    async def renew_hold(self, hold_id: str) -> dict[str, Any]:
        """``POST /kitty/holds/{hold_id}/renew`` -- see :meth:`KittyClient.renew_hold`."""
        return await self._post_json(_http.hold_path(hold_id, "/renew"))

    async def drop_hold(self, hold_id: str) -> dict[str, Any]:
        """``DELETE /kitty/holds/{hold_id}`` -- see :meth:`KittyClient.drop_hold`."""
        path = _http.hold_path(hold_id)
        return _http.expect_object(await self._request("DELETE", path), self.base_url + path)

    def hold(
        self,
        model: str,
        *,
        lease_seconds: float | None = None,
        owner: str | None = None,
        release_on_exit: bool = False,
    ) -> AsyncContextManager[Hold]:
        """``async with client.hold("big") as h:`` -- see :meth:`KittyClient.hold`."""
        return ahold(self, model, lease_seconds=lease_seconds, owner=owner, release_on_exit=release_on_exit)

    # --- gateway ------------------------------------------------------------------------------

    async def complete_raw(self, model: str, prompt: str, **params: Any) -> dict[str, Any]:
        return await self._post_json("/v1/completions", _http.completion_body(model, prompt, params, False),
                                     model=model)

    async def complete(self, model: str, prompt: str, **params: Any) -> str:
        return _http.completion_text(await self.complete_raw(model, prompt, **params))

    async def chat_raw(self, model: str, messages: Iterable[Mapping[str, Any]], **params: Any) -> dict[str, Any]:
        return await self._post_json("/v1/chat/completions", _http.chat_body(model, messages, params, False),
                                     model=model)

    async def chat(self, model: str, messages: Iterable[Mapping[str, Any]], **params: Any) -> str:
        return _http.completion_text(await self.chat_raw(model, messages, **params))

    def stream_complete(self, model: str, prompt: str, **params: Any) -> AsyncIterator[str]:
        return self._stream("/v1/completions", _http.completion_body(model, prompt, params, True), model)

    def stream_chat(self, model: str, messages: Iterable[Mapping[str, Any]], **params: Any) -> AsyncIterator[str]:
        return self._stream("/v1/chat/completions", _http.chat_body(model, messages, params, True), model)

    async def embeddings(self, model: str, input: str | list[str], **params: Any) -> list[list[float]]:
        data = await self._post_json("/v1/embeddings", {"model": model, "input": input, **params}, model=model)
        try:
            return [list(d["embedding"]) for d in data["data"]]
        except (KeyError, TypeError) as exc:
            raise KittyError(f"unexpected embeddings response: {str(data)[:300]}") from exc

    def __repr__(self) -> str:
        return f"AsyncKittyClient({self.base_url!r})"
