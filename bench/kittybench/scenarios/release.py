"""Release of a worker: a cooperative one (answers POST /shutdown) and one that ignores SIGTERM
(stop_timeout 2 s). The release call's duration, and the process group's end as seen by the
runner polling killpg(pgid, 0) every 1 ms."""
from __future__ import annotations

import os
import threading
import time

from ..context import Ctx
from ..util import Row, fmt, log, median

NAME = "release"
TARGET_COOP_MS = 100.0
STUBBORN_STOP_TIMEOUT_S = 2


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def release_once(k, model: str) -> dict:
    _, pid = k.ensure(model)
    try:
        pgid = os.getpgid(pid)
    except ProcessLookupError:
        pgid = pid
    gone_at: list[float] = []
    stop = threading.Event()

    def poll(t0: float) -> None:
        while not stop.is_set():
            if not group_alive(pgid):
                gone_at.append(time.perf_counter() - t0)
                return
            time.sleep(0.001)

    t0 = time.perf_counter()
    th = threading.Thread(target=poll, args=(t0,), daemon=True)
    th.start()
    status, data = k.call("POST", f"/kitty/workers/{model}/release", timeout=60)
    call_ms = (time.perf_counter() - t0) * 1000
    th.join(timeout=5)
    stop.set()
    return {"call_ms": call_ms, "group_gone_ms": gone_at[0] * 1000 if gone_at else None,
            "status": status, "worker_status": data.get("status") if isinstance(data, dict) else None,
            "group_alive_after_call": group_alive(pgid), "pgid_equals_pid": pgid == pid}


def run(ctx: Ctx) -> dict:
    out = {}
    for model, reps in (("coop", ctx.opts.release_reps), ("stubborn", ctx.opts.stubborn_reps)):
        samples = [release_once(ctx.k, model) for _ in range(reps)]
        calls = [s["call_ms"] for s in samples]
        gones = [s["group_gone_ms"] for s in samples if s["group_gone_ms"] is not None]
        out[model] = {
            "reps": reps, "samples": samples,
            "call_ms_median": median(calls), "call_ms_max": max(calls),
            "group_gone_ms_median": median(gones), "group_gone_ms_max": max(gones) if gones else None,
        }
        log(f"release {model:<8}: call median {out[model]['call_ms_median']:.1f} ms, group gone median "
            f"{out[model]['group_gone_ms_median']} ms")
    out["stubborn"]["stop_timeout_s"] = STUBBORN_STOP_TIMEOUT_S
    return out


def rows(r: dict) -> list[Row]:
    c, s = r["coop"], r["stubborn"]
    gone = c["group_gone_ms_median"]
    return [
        Row("cooperative release: call returns, median", f"≤ {TARGET_COOP_MS:.0f} ms",
            fmt(c["call_ms_median"], " ms"), c["call_ms_median"] <= TARGET_COOP_MS),
        Row("cooperative release: process group gone (1 ms poll), median", f"≤ {TARGET_COOP_MS:.0f} ms",
            fmt(gone, " ms"), None if gone is None else gone <= TARGET_COOP_MS),
        Row(f"release of a worker ignoring SIGTERM (stop_timeout {s['stop_timeout_s']} s): call / group gone, median",
            f"≈ {s['stop_timeout_s'] * 1000} ms",
            f"{fmt(s['call_ms_median'], ' ms')} / {fmt(s['group_gone_ms_median'], ' ms')}"),
    ]
