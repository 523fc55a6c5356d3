"""LangGraph integration (seed 000 §6): tools and nodes that talk to kittyd over HTTP.

Graph nodes never load models in-process; they call kittyd, which starts workers on demand.
The pattern of a graph phase:

    ensure_node("qwen_32b")  ->  nodes that call LLMTools.completion(...)  ->  release_node("qwen_32b")

so the big model's memory is freed when its phase ends.

Contents:
- :class:`LLMTools`: ``completion({"model_id", "prompt", "max_tokens", "temperature"}) ->
  {"completion": str}``, ``release_model(model_id)``, ``ensure_model(model_id)`` (+ async twins).
- :func:`ensure_node` / :func:`release_node`: node factories (sync, or async given an
  :class:`~kitty_client.AsyncKittyClient`).
- :func:`langchain_tools`: the same operations as LangChain tools an agent can call.
- :func:`chat_model`: LangChain's ``ChatOpenAI`` pointed at kittyd's OpenAI-compatible gateway.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Mapping, NotRequired, TypedDict, overload

from ._http import resolve_api_key, resolve_base_url
from .async_client import AsyncKittyClient
from .client import KittyClient

if TYPE_CHECKING:
    from langchain_core.tools import BaseTool
    from langchain_openai import ChatOpenAI

DEFAULT_MAX_TOKENS = 512
DEFAULT_TEMPERATURE = 0.7


class LLMCompletionInput(TypedDict):
    """The seed's tool input (§6.1). ``max_tokens``/``temperature`` default when absent."""

    model_id: str
    prompt: str
    max_tokens: NotRequired[int]
    temperature: NotRequired[float]


class LLMCompletionOutput(TypedDict):
    completion: str


def _completion_params(args: Mapping[str, Any]) -> tuple[str, str, dict[str, Any]]:
    missing = [k for k in ("model_id", "prompt") if k not in args]
    if missing:
        raise ValueError(f"completion args need {', '.join(missing)}; got keys {sorted(args)}")
    params = {
        "max_tokens": int(args.get("max_tokens", DEFAULT_MAX_TOKENS)),
        "temperature": float(args.get("temperature", DEFAULT_TEMPERATURE)),
    }
    return str(args["model_id"]), str(args["prompt"]), params


class LLMTools:
    """The seed's ``LLMTools`` (§6.1), backed by kittyd instead of an in-process WorkerManager.

    Args:
        client: a :class:`KittyClient`; default one from ``base_url``/``api_key`` or the env
            (``KITTY_URL``, ``KITTY_API_KEY``).
        async_client: used by the ``a*`` methods; default one with the same URL and key.
    """

    def __init__(
        self,
        client: KittyClient | None = None,
        *,
        async_client: AsyncKittyClient | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
    ) -> None:
        self.client = client or KittyClient(base_url, api_key)
        self._async_client = async_client
        self._base_url = self.client.base_url
        self._api_key = self.client.api_key if api_key is None else api_key

    @property
    def async_client(self) -> AsyncKittyClient:
        if self._async_client is None:
            self._async_client = AsyncKittyClient(self._base_url, self._api_key)
        return self._async_client

    # --- sync ---------------------------------------------------------------------------------

    def completion(self, args: LLMCompletionInput | Mapping[str, Any]) -> LLMCompletionOutput:
        """Text completion on ``args["model_id"]``; kittyd starts the model if it is stopped."""
        model, prompt, params = _completion_params(args)
        return {"completion": self.client.complete(model, prompt, **params)}

    def chat(self, model_id: str, messages: list[Mapping[str, Any]], **params: Any) -> str:
        return self.client.chat(model_id, messages, **params)

    def ensure_model(self, model_id: str) -> dict[str, Any]:
        """Start the model now (phase start) so the first real call does not pay the load time."""
        return self.client.ensure(model_id)

    def release_model(self, model_id: str, force: bool = False) -> dict[str, Any]:
        """The graph says "done": stop the model's worker and free its memory.

        Returns the worker state (``status == "stopped"``) once the process group is gone.
        """
        return self.client.release(model_id, force=force)

    # --- async --------------------------------------------------------------------------------

    async def acompletion(self, args: LLMCompletionInput | Mapping[str, Any]) -> LLMCompletionOutput:
        model, prompt, params = _completion_params(args)
        return {"completion": await self.async_client.complete(model, prompt, **params)}

    async def aensure_model(self, model_id: str) -> dict[str, Any]:
        return await self.async_client.ensure(model_id)

    async def arelease_model(self, model_id: str, force: bool = False) -> dict[str, Any]:
        return await self.async_client.release(model_id, force=force)

    # --- LangChain ----------------------------------------------------------------------------

    def as_langchain_tools(self) -> list["BaseTool"]:
        """See :func:`langchain_tools`."""
        return langchain_tools(self)


# --- nodes --------------------------------------------------------------------------------------

# Nodes accept any state schema (TypedDict, dict, pydantic) and never read it.
State = Any
SyncNode = Callable[[Any], "dict[str, Any] | None"]
AsyncNode = Callable[[Any], Awaitable["dict[str, Any] | None"]]


def _update(state_key: str | None, worker: dict[str, Any]) -> dict[str, Any] | None:
    # None leaves the state untouched for every state schema (TypedDict or a plain dict);
    # a partial update is what a TypedDict state expects.
    return {state_key: worker} if state_key else None


@overload
def ensure_node(
    model_id: str, client: AsyncKittyClient, *, state_key: str | None = ...
) -> AsyncNode: ...


@overload
def ensure_node(
    model_id: str, client: KittyClient | None = ..., *, state_key: str | None = ...
) -> SyncNode: ...


def ensure_node(
    model_id: str,
    client: KittyClient | AsyncKittyClient | None = None,
    *,
    state_key: str | None = None,
) -> SyncNode | AsyncNode:
    """A graph node that ensures ``model_id`` is loaded (the phase's first node).

    With an :class:`AsyncKittyClient` the node is a coroutine function. With ``state_key``
    the node writes the worker state (pid, port, ...) to that key; otherwise it changes nothing.
    """
    if isinstance(client, AsyncKittyClient):
        aclient = client

        async def aensure(state: State) -> dict[str, Any] | None:
            return _update(state_key, await aclient.ensure(model_id))

        aensure.__name__ = f"ensure_{model_id}"
        return aensure

    holder: list[KittyClient] = [client] if client is not None else []

    def ensure(state: State) -> dict[str, Any] | None:
        if not holder:
            holder.append(KittyClient())
        return _update(state_key, holder[0].ensure(model_id))

    ensure.__name__ = f"ensure_{model_id}"
    return ensure


@overload
def release_node(
    model_id: str, client: AsyncKittyClient, *, force: bool = ..., state_key: str | None = ...
) -> AsyncNode: ...


@overload
def release_node(
    model_id: str, client: KittyClient | None = ..., *, force: bool = ..., state_key: str | None = ...
) -> SyncNode: ...


def release_node(
    model_id: str,
    client: KittyClient | AsyncKittyClient | None = None,
    *,
    force: bool = False,
    state_key: str | None = None,
) -> SyncNode | AsyncNode:
    """A graph node that releases ``model_id`` (the phase's last node): the graph says "done".

    Returns once the worker's process group is gone, so the next phase starts with the memory free.
    """
    if isinstance(client, AsyncKittyClient):
        aclient = client

        async def arelease(state: State) -> dict[str, Any] | None:
            return _update(state_key, await aclient.release(model_id, force=force))

        arelease.__name__ = f"release_{model_id}"
        return arelease

    holder: list[KittyClient] = [client] if client is not None else []

    def release(state: State) -> dict[str, Any] | None:
        if not holder:
            holder.append(KittyClient())
        return _update(state_key, holder[0].release(model_id, force=force))

    release.__name__ = f"release_{model_id}"
    return release


# --- LangChain tools ------------------------------------------------------------------------------


def _worker_summary(w: Mapping[str, Any]) -> str:
    keep = ("model_id", "status", "pid", "rss_mb", "idle_seconds", "in_flight", "last_error")
    return json.dumps({k: w.get(k) for k in keep})


def langchain_tools(tools: LLMTools | KittyClient | None = None) -> list["BaseTool"]:
    """kittyd operations as LangChain tools (for ``create_react_agent``, ``ToolNode``, ``bind_tools``).

    ``kitty_completion``, ``kitty_ensure_model``, ``kitty_release_model``, ``kitty_list_workers``;
    each has a sync and an async implementation.
    """
    from langchain_core.tools import StructuredTool
    from pydantic import BaseModel, Field

    t = tools if isinstance(tools, LLMTools) else LLMTools(tools)

    class CompletionArgs(BaseModel):
        model_id: str = Field(description="kittyd model id or alias, e.g. 'smol'")
        prompt: str = Field(description="the prompt to complete")
        max_tokens: int = Field(DEFAULT_MAX_TOKENS, description="most tokens to generate")
        temperature: float = Field(DEFAULT_TEMPERATURE, description="sampling temperature")

    class ModelArgs(BaseModel):
        model_id: str = Field(description="kittyd model id or alias")

    class ReleaseArgs(BaseModel):
        model_id: str = Field(description="kittyd model id or alias")
        force: bool = Field(False, description="cut requests in flight instead of letting them finish")

    class NoArgs(BaseModel):
        pass

    def completion(model_id: str, prompt: str, max_tokens: int = DEFAULT_MAX_TOKENS,
                   temperature: float = DEFAULT_TEMPERATURE) -> str:
        return t.completion({"model_id": model_id, "prompt": prompt, "max_tokens": max_tokens,
                             "temperature": temperature})["completion"]

    async def acompletion(model_id: str, prompt: str, max_tokens: int = DEFAULT_MAX_TOKENS,
                          temperature: float = DEFAULT_TEMPERATURE) -> str:
        out = await t.acompletion({"model_id": model_id, "prompt": prompt, "max_tokens": max_tokens,
                                   "temperature": temperature})
        return out["completion"]

    def ensure(model_id: str) -> str:
        return _worker_summary(t.ensure_model(model_id))

    async def aensure(model_id: str) -> str:
        return _worker_summary(await t.aensure_model(model_id))

    def release(model_id: str, force: bool = False) -> str:
        return _worker_summary(t.release_model(model_id, force=force))

    async def arelease(model_id: str, force: bool = False) -> str:
        return _worker_summary(await t.arelease_model(model_id, force=force))

    def list_workers() -> str:
        return "[" + ", ".join(_worker_summary(w) for w in t.client.workers()) + "]"

    async def alist_workers() -> str:
        return "[" + ", ".join(_worker_summary(w) for w in await t.async_client.workers()) + "]"

    return [
        StructuredTool.from_function(
            func=completion, coroutine=acompletion, name="kitty_completion", args_schema=CompletionArgs,
            description="Complete a prompt with a local model served by kittyd; returns the text.",
        ),
        StructuredTool.from_function(
            func=ensure, coroutine=aensure, name="kitty_ensure_model", args_schema=ModelArgs,
            description="Load a local model now (starts its worker) and return its status.",
        ),
        StructuredTool.from_function(
            func=release, coroutine=arelease, name="kitty_release_model", args_schema=ReleaseArgs,
            description="Done with a local model: stop its worker and free its memory.",
        ),
        StructuredTool.from_function(
            func=list_workers, coroutine=alist_workers, name="kitty_list_workers", args_schema=NoArgs,
            description="List kittyd's models with status, pid and memory use.",
        ),
    ]


# --- ChatOpenAI -----------------------------------------------------------------------------------


def chat_model(model: str, base_url: str | None = None, api_key: str | None = None, **kwargs: Any) -> "ChatOpenAI":
    """LangChain's ``ChatOpenAI`` against kittyd's OpenAI-compatible gateway.

    Equivalent to ``ChatOpenAI(base_url=KITTY_URL + "/v1", model=model, api_key=...)``; the
    request's ``model`` picks the worker and kittyd starts it on demand. ``max_tokens`` is also
    sent under that name (ChatOpenAI itself sends only ``max_completion_tokens``).
    """
    from langchain_openai import ChatOpenAI

    # ChatOpenAI sends OpenAI's newer `max_completion_tokens`; llama.cpp-style workers read
    # `max_tokens`, so send both.
    if kwargs.get("max_tokens") is not None:
        kwargs["extra_body"] = {"max_tokens": kwargs["max_tokens"], **(kwargs.get("extra_body") or {})}
    return ChatOpenAI(
        base_url=resolve_base_url(base_url) + "/v1",
        model=model,
        # ChatOpenAI insists on a key; kittyd ignores it when no api_keys are configured.
        api_key=resolve_api_key(api_key) or "kitty-no-key",  # type: ignore[arg-type]
        **kwargs,
    )
