"""A local test cluster: several Ray nodes on this machine, each with its own kittyd.

    python -m kitty_client.ray.local --kittyd build/kittyd --fake-engine build/fake_engine
    python -m kitty_client.ray.local --kittyd build/kittyd --config kitty.yaml --nodes 3

brings up ``--nodes`` Ray nodes (``ray.cluster_utils.Cluster``: one head, the others raylets of
the same cluster), node ``i`` declaring the resources ``kitty_node`` and ``kitty_node_<i>``; a
kittyd per node on its own port, state and logs directory, serving the models of ``--config``
(or, with ``--fake-engine``, six fake models of 300 MiB with a budget that fits two per node);
the Serve application of app.py mapping ``kitty_node_<i>`` to node i's kittyd; and prints the
ingress's URL (an OpenAI base URL with ``/v1``). Ctrl-C takes it all down. The tests and the
benchmark use :class:`LocalCluster` the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

FAKE_MODELS = 6
FAKE_MODEL_MIB = 300


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fake_config(fake_engine: str, models: int = FAKE_MODELS, mib: int = FAKE_MODEL_MIB,
                per_node: int = 2, extra_args: list[str] | None = None) -> dict[str, Any]:
    """`models` fake models of `mib` MiB each, and a budget that fits `per_node` of them."""
    def model(i: int) -> dict[str, Any]:
        return {"backend": "command", "memory": f"{mib}MiB", "idle_shutdown_seconds": 600,
                "command": [fake_engine, "--port", "${PORT}", "--model-id", f"m{i}", "--memory-mb", str(mib),
                            *(extra_args or [])]}
    return {"models": {f"m{i}": model(i) for i in range(models)},
            "memory": {"budget": f"{mib * per_node + mib // 2}MiB", "wait_seconds": 0}}


class _Kittyd:
    def __init__(self, exe: str, workdir: Path, config: dict[str, Any], first_port: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        workdir.mkdir(parents=True, exist_ok=True)
        cfg = json.loads(json.dumps(config))
        cfg.setdefault("server", {}).update({
            "listen": f"127.0.0.1:{self.port}", "state_dir": str(workdir / "state"),
            "logs_dir": str(workdir / "logs"), "auto_ports": f"{first_port}-{first_port + 199}"})
        self.config_path = workdir / "kitty.yaml"
        self.config_path.write_text(json.dumps(cfg, indent=2))  # JSON is YAML
        self.log_path = workdir / "kittyd.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([exe, "--config", str(self.config_path)], stdout=self._log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)

    def healthy(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"kittyd exited with {self.proc.returncode}:\n{self.log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(self.url + "/health", timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


class LocalCluster:
    """``with LocalCluster(kittyd, config, nodes=3) as c: c.url ...``; see the module's text."""

    def __init__(self, kittyd: str, config: dict[str, Any], nodes: int = 3, workdir: str | None = None,
                 serve_port: int | None = None, app_args: dict[str, Any] | None = None) -> None:
        self.kittyd_exe, self.config, self.n = kittyd, config, nodes
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="kitty-ray-"))
        self.serve_port = serve_port or free_port()
        self.url = f"http://127.0.0.1:{self.serve_port}"
        self.app_args = dict(app_args or {})
        self.kittyds: list[_Kittyd] = []
        self.cluster: Any = None

    def __enter__(self) -> "LocalCluster":
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        import ray
        from ray import serve
        from ray.cluster_utils import Cluster

        from .app import build_app

        # Each node's workers get a block of 200 ports above the kernel's ephemeral range (up to
        # 60999 by default), away from the 41000-41999 a kittyd on this machine uses by default.
        base = random.randrange(61000, 64800 - 200 * self.n + 1, 200)
        for i in range(self.n):
            self.kittyds.append(_Kittyd(self.kittyd_exe, self.workdir / f"node{i}", self.config, base + 200 * i))
        deadline = time.monotonic() + 30
        while not all(k.healthy() for k in self.kittyds):
            if time.monotonic() > deadline:
                raise RuntimeError("kittyd did not become healthy within 30 s")
            time.sleep(0.1)

        def node_args(i: int) -> dict[str, Any]:
            return {"num_cpus": 1, "resources": {"kitty_node": 1, f"kitty_node_{i}": 1},
                    "object_store_memory": 80 * 1024 * 1024}

        # On a small machine (two cores, a build alongside) a Serve proxy takes longer than Serve's
        # 5 s readiness check to import; the processes started below inherit these.
        os.environ.setdefault("RAY_SERVE_PROXY_READY_CHECK_TIMEOUT_S", "120")
        os.environ.setdefault("RAY_SERVE_PROXY_HEALTH_CHECK_TIMEOUT_S", "60")
        head = {**node_args(0), "include_dashboard": False}
        self.cluster = Cluster(initialize_head=True, head_node_args=head)
        for i in range(1, self.n):
            self.cluster.add_node(**node_args(i))
        self.cluster.wait_for_nodes()
        ray.init(address=self.cluster.address, logging_level="warning", log_to_driver=False)
        serve.start(proxy_location="HeadOnly", http_options={"host": "127.0.0.1", "port": self.serve_port})
        args = {"kittyd_urls": {f"kitty_node_{i}": k.url for i, k in enumerate(self.kittyds)}, "nodes": self.n,
                **self.app_args}
        serve.run(build_app(args), name="kitty", route_prefix="/")

    def kill_kittyd(self, i: int) -> int:
        """SIGKILL node i's kittyd (its watchdog takes its workers down); returns its pid."""
        k = self.kittyds[i]
        k.proc.kill()
        k.proc.wait()
        return k.proc.pid

    def close(self) -> None:
        try:
            import ray
            from ray import serve

            if ray.is_initialized():
                try:
                    serve.shutdown()
                finally:
                    ray.shutdown()
        finally:
            if self.cluster is not None:
                self.cluster.shutdown()
                self.cluster = None
            for k in self.kittyds:
                k.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m kitty_client.ray.local", description=__doc__.split("\n\n")[0])
    p.add_argument("--kittyd", default=os.environ.get("KITTYD", "kittyd"), help="the kittyd binary")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--config", help="a kittyd config (YAML); each node serves its models")
    src.add_argument("--fake-engine", help="serve six fake 300 MiB models with this fake_engine binary")
    p.add_argument("--nodes", type=int, default=3)
    p.add_argument("--port", type=int, default=8000, help="the ingress's port (default 8000)")
    p.add_argument("--workdir", help="where the kittyds keep configs, state and logs (default: a temp dir)")
    a = p.parse_args(argv)
    if a.config:
        import yaml

        config = yaml.safe_load(Path(a.config).read_text())
    else:
        config = fake_config(a.fake_engine)
    with LocalCluster(a.kittyd, config, nodes=a.nodes, workdir=a.workdir, serve_port=a.port) as c:
        for i, k in enumerate(c.kittyds):
            print(f"node {i}: kittyd {k.url} (logs {k.log_path.parent})")
        print(f"ingress: {c.url}/v1  (OpenAI base URL); Ctrl-C stops everything", flush=True)
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        while not stop.wait(1):
            pass
        print("stopping: Serve, the Ray nodes, the kittyds", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
