"""kittyd as the per-node model runtime under Ray Serve (``pip install kitty-client[ray]``).

One replica of :class:`KittyNode` runs on every Ray node that has a kittyd and fronts it; Serve's
model multiplexing is kittyd's hold, so each model's requests go to the nodes where it is already
loaded, and each node's kittyd keeps deciding what its memory holds. :class:`KittyIngress` is the
cluster's OpenAI-compatible endpoint. ``serve run kitty_client.ray:build_app`` deploys both;
``python -m kitty_client.ray.local`` brings up a local test cluster (several Ray nodes on this
machine, a kittyd each). README: "A cluster: Ray Serve".
"""

from __future__ import annotations

try:
    import ray  # noqa: F401
    from ray import serve  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError("kitty_client.ray needs Ray Serve: pip install 'kitty-client[ray]'") from exc

from .app import KittyIngressDeployment, KittyNodeDeployment, build_app
from .discovery import NODE_RESOURCE, NodeTarget, resolve_target
from .ingress import KittyIngress
from .node import KittyNode

__all__ = [
    "NODE_RESOURCE",
    "KittyIngress",
    "KittyIngressDeployment",
    "KittyNode",
    "KittyNodeDeployment",
    "NodeTarget",
    "build_app",
    "resolve_target",
]
