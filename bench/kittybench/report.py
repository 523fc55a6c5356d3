"""The markdown report: machine facts, one table (metric, target, measured, met?), method notes."""
from __future__ import annotations

from .util import Row


def _row(r: Row) -> str:
    met = "—" if r.met is None else ("yes" if r.met else "**NO**")
    return f"| {r.metric} | {r.target} | {r.measured} | {met} |"


METHOD_NOTES = [
    "Everything runs on this one machine over loopback: kittyd, the fake engine(s) it starts, the load "
    "generator (`bench/loadgen.cc`: one thread per client for request/stream runs, one epoll thread for "
    "held connections) and wrk (2 threads). On 2 cores they all compete for the same CPUs, so a ratio "
    "to direct is 'what is left for the engine and the client once the proxy has taken its share', as "
    "issue 8's targets assume. Direct = the same load to the worker's own port, in the same round.",
    "Rounds alternate which side runs first (direct, kittyd / kittyd, direct, …); a figure is the "
    "median over rounds, and each round's value is listed so the spread is visible.",
    "Streaming: fake engine at token-ms 0; bytes are SSE body bytes after de-chunking, counted only "
    "inside the measured window (streams still running at its end are cut by the client). CPU per "
    "MB: user+sys seconds from /proc/<pid>/stat over the whole run, divided by every body byte received.",
    "kittyd is started with the soft fd limit given by --kittyd-nofile (default 1024, a login shell's "
    "default; hard limit unchanged): a daemon that needs more must raise its own. Engines get the hard "
    "limit through prlimit so that they are never the bottleneck.",
    "Memory: kittyd's own VmRSS (/proc/<pid>/status), never its workers'.",
]

# Added when the scenario ran: what its figures mean (issue 9's run its own daemon or none).
SCENARIO_NOTES = {
    "swap": "Swap (issue 9): a kittyd of its own with `memory: {budget}` that fits one of two fake_engine "
            "models (`--memory-mb`, `memory:` key 50 MiB more). Per round, alternating which model is A: A's "
            "release alone, B's cold ensure alone, then the swap (A ready, B stopped, ensure B); after each swap "
            "GET /kitty/system/workers must show A stopped and B ready, else the scenario fails. The plain "
            "overhead carries the engines' own run-to-run variance (a 400 MiB engine's exit takes 30-80 ms); "
            "'engine times matched' takes each step's engine time out as kittyd logged it, leaving what kittyd "
            "itself added. The recovery wait (GPU memory) is 0 without a GPU.",
    "sched": "Scheduler decision (issue 9): `sched_bench` (bench/sched_bench.cc, Google Benchmark), real time "
             "per iteration of sched::PlanStart on a prepared list of N holders where nothing fits (every "
             "candidate sorted and walked); median and worst of the repetitions. Building that list from the "
             "workers is not in the figure.",
}


def render(res: dict, rows: list[Row]) -> str:
    m = res["machine"]
    kb = res["binaries"]["kittyd"]
    load0 = ", ".join(f"{x:.2f}" for x in (m.get("loadavg_at_start") or []))
    load1 = ", ".join(f"{x:.2f}" for x in (m.get("loadavg_at_end") or []))
    at_start = (res.get("kittyd_at_start") or {}).get("nofile")
    nofile = f"{at_start[0]} (hard {at_start[1]})" if at_start else res["settings"]["kittyd_nofile"]
    top = ", ".join(f"{t['comm']} {t['cpu'] * 100:.0f} %" for t in m.get("top_cpu_at_start") or []) or "none"
    lines = [
        f"# kittyd benchmark{': ' + res['label'] if res.get('label') else ''}",
        "",
        f"- kittyd: `{kb.get('path')}`, commit {kb.get('commit', 'unknown')}"
        + (" (work tree dirty)" if kb.get("dirty") else "") + f", built {kb.get('mtime_utc', '?')}",
        f"- machine: {m['nproc']} cores ({m['cpu_model']}), {m.get('mem_gib')} GiB; load average "
        f"{load0} at start, {load1} at end" + (" — **measured under load**" if m.get("loaded") else ""),
        f"- using CPU when the run began (1 s sample): {top}",
        f"- kittyd started with soft fd limit {nofile}; server options "
        f"{res['settings']['server_opts'] or 'none (kittyd defaults)'}; mode {res['settings']['mode']}; "
        f"log level {res['settings'].get('kittyd_log_level', 'warn')}",
        f"- {m['time_utc']}, {res['elapsed_s']:.0f} s, `bench/run.sh {' '.join(res['argv'])}`".rstrip(),
        "",
        "| metric | target | measured | met? |",
        "| --- | --- | --- | --- |",
    ]
    lines += [_row(r) for r in rows]
    ran = {name.removesuffix("_partial") for name in res.get("scenarios", {})}
    notes = METHOD_NOTES + [n for name, n in SCENARIO_NOTES.items() if name in ran] + res.get("notes", [])
    lines += ["", "Method:"] + [f"- {n}" for n in notes]
    if res.get("errors"):
        lines += ["", "Errors (a scenario that could not produce its figure):"] + [f"- {e}" for e in res["errors"]]
    lines += ["", f"Raw numbers: `{res['json_name']}` beside this file."]
    return "\n".join(lines) + "\n"


def rerender(json_path: str) -> str:
    """The markdown again from a results JSON (e.g. after adding notes to it by hand)."""
    import json
    res = json.loads(open(json_path).read())
    return render(res, [Row(**r) for r in res["rows"]])
