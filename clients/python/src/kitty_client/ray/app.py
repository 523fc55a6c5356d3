"""The Serve application: the node deployment (one replica per kittyd node) behind the ingress.

``serve run kitty_client.ray:build_app`` (or a Serve config file with ``import_path:
kitty_client.ray:build_app`` and ``args:``) builds it; every argument is optional:

- ``kittyd_urls``: ``{node resource, IP or node id: kittyd URL}`` (discovery.py); a JSON
  string on the ``serve run`` command line;
- ``kittyd_url``: the URL for nodes not in ``kittyd_urls`` (else ``$KITTY_URL``, else
  ``http://127.0.0.1:7700``);
- ``nodes``: how many node replicas (default: every alive node declaring ``node_resource``);
- ``node_resource``: the custom resource a kittyd node declares (default ``kitty_node``);
- ``api_key`` / ``admin_key``: kittyd's keys, when it has some;
- ``lease_seconds``: the holds' lease (default 30: a replica that vanishes frees its models
  within that);
- ``max_models``: overrides what the node's kittyd says fits together (for tests);
- ``max_attempts``, ``retry_budget_seconds``: the ingress's retry bound (default 3 × nodes + 2
  tries within 30 s).
"""

from __future__ import annotations

import json
from typing import Any, Mapping

import ray
from ray import serve
from ray.serve import Application

from .discovery import NODE_RESOURCE, count_kitty_nodes
from .ingress import KittyIngress
from .node import KittyNode

# Neither replica computes: they wait on sockets. num_cpus 0 keeps them from taking the CPUs
# the cluster's other work is scheduled by.
KittyNodeDeployment = serve.deployment(
    KittyNode,
    name="KittyNode",
    ray_actor_options={"num_cpus": 0, "resources": {NODE_RESOURCE: 1}},
    max_replicas_per_node=1,
    # kittyd queues and limits per model itself; a low Serve limit would make the router send a
    # model's requests to nodes that do not hold it.
    max_ongoing_requests=256,
    health_check_period_s=1,
    health_check_timeout_s=10,
    graceful_shutdown_timeout_s=5,
)
KittyIngressDeployment = serve.deployment(
    KittyIngress, name="KittyIngress", ray_actor_options={"num_cpus": 0}, max_ongoing_requests=1024,
)


def _mapping(v: Any) -> dict[str, str] | None:
    if v in (None, ""):
        return None
    if isinstance(v, str):
        v = json.loads(v)
    if not isinstance(v, Mapping):
        raise ValueError(f"kittyd_urls must be a mapping of node resource/IP/id to URL, not {v!r}")
    return {str(k): str(u) for k, u in v.items()}


def build_app(args: Mapping[str, Any] | None = None) -> Application:
    a = dict(args or {})
    known = {"kittyd_urls", "kittyd_url", "nodes", "node_resource", "api_key", "admin_key", "lease_seconds",
             "max_models", "max_attempts", "retry_budget_seconds"}
    unknown = sorted(set(a) - known)
    if unknown:
        raise ValueError(f"unknown argument(s) {unknown}; known: {sorted(known)}")
    resource = str(a.get("node_resource") or NODE_RESOURCE)
    nodes_arg = a.get("nodes", "auto")
    if nodes_arg in (None, "", "auto"):
        if not ray.is_initialized():
            ray.init(address="auto")
        nodes = count_kitty_nodes(resource)
        if nodes < 1:
            raise ValueError(f"no alive Ray node declares the resource {resource!r}; start each kittyd node's "
                             f"raylet with --resources '{{\"{resource}\": 1}}' (or pass nodes=N)")
    else:
        nodes = int(nodes_arg)
    node = KittyNodeDeployment.options(
        num_replicas=nodes, ray_actor_options={"num_cpus": 0, "resources": {resource: 1}},
    ).bind(
        kittyd_urls=_mapping(a.get("kittyd_urls")), kittyd_url=a.get("kittyd_url"), api_key=a.get("api_key"),
        admin_key=a.get("admin_key"), lease_seconds=float(a.get("lease_seconds") or 30.0),
        max_models=int(a["max_models"]) if a.get("max_models") else None,
    )
    return KittyIngressDeployment.bind(
        node, nodes=nodes, max_attempts=int(a["max_attempts"]) if a.get("max_attempts") else None,
        retry_budget_seconds=float(a.get("retry_budget_seconds") or 30.0),
    )
