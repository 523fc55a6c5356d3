"""kitty_client: Python client for kittyd, KITTY's local LLM worker manager.

    from kitty_client import KittyClient

    kitty = KittyClient()                      # $KITTY_URL or http://127.0.0.1:7700
    print(kitty.complete("smol", "Say hi", max_tokens=16))
    with kitty.hold("smol"):                   # not idled out or evicted inside the block
        ...
    kitty.release("smol")                      # done: free its memory

LangGraph tools and nodes live in :mod:`kitty_client.langgraph`.
"""

from .async_client import AsyncKittyClient
from .client import KittyClient
from .errors import (
    AuthenticationError,
    BadRequest,
    DaemonUnavailable,
    HoldNotFound,
    InternalError,
    KittyError,
    MethodNotAllowed,
    ModelNotFound,
    NoRoom,
    NoRoomBusy,
    NotFound,
    RequestTimeout,
    RequestTooLarge,
    RouteNotFound,
    ServerBusy,
    ShuttingDown,
    Unsupported,
    UpstreamError,
    WorkerStartFailed,
    WorkerStartTimeout,
    WorkerStopping,
    error_from_payload,
)
from .hold import Hold
from .ollama import OllamaClient

__version__ = "0.1.0"

__all__ = [
    "AsyncKittyClient",
    "AuthenticationError",
    "BadRequest",
    "DaemonUnavailable",
    "Hold",
    "HoldNotFound",
    "InternalError",
    "KittyClient",
    "KittyError",
    "MethodNotAllowed",
    "ModelNotFound",
    "NotFound",
    "OllamaClient",
    "RequestTimeout",
    "RequestTooLarge",
    "RouteNotFound",
    "ServerBusy",
    "NoRoom",
    "NoRoomBusy",
    "ShuttingDown",
    "Unsupported",
    "UpstreamError",
    "WorkerStartFailed",
    "WorkerStartTimeout",
    "WorkerStopping",
    "__version__",
    "error_from_payload",
]
