"""Seed 000 §7.1's ``OllamaClient``, over kittyd's Ollama-compatible API.

Code written against Ollama's ``/api/generate`` keeps working with kittyd in Ollama's place, and
gets kittyd's lifecycle (start on demand, idle shutdown, eviction) and errors::

    from kitty_client import OllamaClient

    ollama = OllamaClient()                     # $KITTY_URL or http://127.0.0.1:7700
    text = ollama.completion("smol", "Say hi")
    ollama.unload("smol")                       # Ollama's keep_alive 0: free its memory now
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from . import _http
from .client import KittyClient


class OllamaClient:
    """Ollama's calls (``completion``, ``chat``, ``embed``, ``load``, ``unload``) on kittyd.

    Args:
        base_url: kittyd's root URL; default ``$KITTY_URL`` or ``http://127.0.0.1:7700``.
        api_key: Bearer key (``server.api_keys``); default ``$KITTY_API_KEY``.
        timeout: seconds to wait for an answer (a cold model loads first).

    ``keep_alive`` (seconds, or Ollama's ``"5m"``; 0 unloads after the answer; negative keeps the
    model) and ``options`` (Ollama's: ``num_predict``, ``temperature``, ``stop`` ...) are passed as
    Ollama takes them. Errors raise the same :class:`~kitty_client.errors.KittyError` subclasses
    as :class:`KittyClient` (``ModelNotFound`` lists the models that exist).
    """

    def __init__(self, base_url: str | None = None, api_key: str | None = None, *,
                 timeout: float | None = _http.DEFAULT_TIMEOUT) -> None:
        self._kitty = KittyClient(base_url, api_key, timeout=timeout)
        self.base_url = self._kitty.base_url

    def close(self) -> None:
        self._kitty.close()

    def __enter__(self) -> "OllamaClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _post(self, path: str, body: dict[str, Any], model: str) -> dict[str, Any]:
        return self._kitty._post_json(path, body, model=model)

    @staticmethod
    def _body(model: str, keep_alive: float | str | None, options: Mapping[str, Any] | None,
              **fields: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"model": model, "stream": False, **fields}
        if options:
            body["options"] = dict(options)
        if keep_alive is not None:
            body["keep_alive"] = keep_alive
        return body

    def completion(self, model: str, prompt: str, *, system: str | None = None,
                   keep_alive: float | str | None = None, options: Mapping[str, Any] | None = None) -> str:
        """The model's answer to ``prompt`` (``POST /api/generate``, not streamed)."""
        extra = {"system": system} if system else {}
        return str(self._post("/api/generate", self._body(model, keep_alive, options, prompt=prompt, **extra),
                              model)["response"])

    def chat(self, model: str, messages: Iterable[Mapping[str, Any]], *, keep_alive: float | str | None = None,
             options: Mapping[str, Any] | None = None) -> str:
        """The assistant's reply to ``messages`` (``POST /api/chat``, not streamed)."""
        body = self._body(model, keep_alive, options, messages=[dict(m) for m in messages])
        return str(self._post("/api/chat", body, model)["message"]["content"])

    def embed(self, model: str, inputs: str | list[str]) -> list[list[float]]:
        """One vector per input (``POST /api/embed``)."""
        return list(self._post("/api/embed", {"model": model, "input": inputs}, model)["embeddings"])

    def load(self, model: str, keep_alive: float | str | None = None) -> None:
        """Starts the model (Ollama's generate without a prompt), kept ``keep_alive`` if given."""
        self._post("/api/generate", self._body(model, keep_alive, None), model)

    def unload(self, model: str) -> None:
        """Stops the model once its requests end (Ollama's ``keep_alive: 0``)."""
        self._post("/api/generate", self._body(model, 0, None), model)
