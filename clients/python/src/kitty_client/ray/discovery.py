"""Which kittyd a replica fronts: the one on its own Ray node.

Pure functions over what Ray says about the node (its custom resources, IP and id), so the rule
is tested without a cluster. The order, first match wins:

1. ``kittyd_urls[name]`` for a custom resource ``name`` the node has (``ray start --resources
   '{"kitty_node": 1, "gpu_box_2": 1}'`` with ``kittyd_urls: {gpu_box_2: http://...}``): how
   several nodes on one machine (the local test cluster) or nodes behind NAT are told apart;
2. ``kittyd_urls[ip]`` or ``kittyd_urls[node_id]``;
3. ``$KITTY_URL`` in the replica's environment (Ray's workers inherit the raylet's: ``KITTY_URL=...
   ray start ...`` on each node);
4. ``default_url``, else ``http://127.0.0.1:7700``: every node runs its kittyd on the default port.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from .._http import DEFAULT_URL, resolve_base_url

# The custom resource every kittyd node declares (one unit): one replica of the node deployment
# per node asks for it, so replicas land one per node.
NODE_RESOURCE = "kitty_node"


@dataclass(frozen=True)
class NodeTarget:
    """The replica's node, by the name used in logs and the X-Kitty-Node header, and its kittyd."""

    name: str
    url: str
    matched: str  # how it was found: "resource", "ip", "node_id", "env", "default"


def resolve_target(
    *,
    kittyd_urls: Mapping[str, str] | None,
    default_url: str | None,
    node_resources: Iterable[str],
    node_ip: str,
    node_id: str,
    env: Mapping[str, str],
) -> NodeTarget:
    urls = dict(kittyd_urls or {})
    # Ray's own resources (CPU, memory, node:<ip>, ...) never name a kittyd.
    custom = sorted(r for r in node_resources
                    if r in urls and r not in ("CPU", "GPU", "memory", "object_store_memory"))
    if custom:
        return NodeTarget(custom[0], resolve_base_url(urls[custom[0]]), "resource")
    if node_ip and node_ip in urls:
        return NodeTarget(node_ip, resolve_base_url(urls[node_ip]), "ip")
    if node_id and node_id in urls:
        return NodeTarget(node_id[:12], resolve_base_url(urls[node_id]), "node_id")
    name = node_ip or node_id[:12] or "local"
    if env.get("KITTY_URL"):
        return NodeTarget(name, resolve_base_url(env["KITTY_URL"]), "env")
    return NodeTarget(name, resolve_base_url(default_url or DEFAULT_URL), "default")


def this_node_target(kittyd_urls: Mapping[str, str] | None, default_url: str | None,
                     env: Mapping[str, str]) -> NodeTarget:
    """resolve_target for the Ray node this process runs on (inside a replica)."""
    import ray

    node_id = ray.get_runtime_context().get_node_id()
    for n in ray.nodes():
        if n.get("NodeID") == node_id:
            return resolve_target(kittyd_urls=kittyd_urls, default_url=default_url,
                                  node_resources=(n.get("Resources") or {}).keys(),
                                  node_ip=str(n.get("NodeManagerAddress") or ""), node_id=node_id, env=env)
    return resolve_target(kittyd_urls=kittyd_urls, default_url=default_url, node_resources=(),
                          node_ip="", node_id=node_id, env=env)


def count_kitty_nodes(resource: str = NODE_RESOURCE) -> int:
    """Alive nodes of the connected Ray cluster that declare ``resource``."""
    import ray

    return sum(1 for n in ray.nodes() if n.get("Alive") and (n.get("Resources") or {}).get(resource, 0) >= 1)
