"""One module per figure. Each exposes NAME, run(ctx) -> dict and rows(result) -> list[Row]; one that
sets FRESH_DAEMON = True gets a newly started kittyd (memory and fd figures)."""
from . import (cold, idle_conns, latency, loop_block, memory, ollama, ollama_backend, recovery, release, rps,
               sched, slow_clients, stream, swap)

# The order they run in: cheap and sensitive first; the fd-heavy ones last so a daemon that they
# break takes nothing else with it (run.py restarts kittyd after a crash). swap runs a kittyd of its
# own (a memory budget), as does recovery (it kills, reloads and rewrites its config), and sched none (a C++ microbenchmark of the scheduler's decision).
ALL = [latency, stream, rps, loop_block, cold, release, swap, recovery, ollama, ollama_backend, sched, memory, idle_conns,
       slow_clients]
BY_NAME = {m.NAME: m for m in ALL}
