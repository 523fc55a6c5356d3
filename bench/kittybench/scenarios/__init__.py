"""One module per figure. Each exposes NAME, run(ctx) -> dict and rows(result) -> list[Row]; one that
sets FRESH_DAEMON = True gets a newly started kittyd (memory and fd figures)."""
from . import (cold, idle_conns, latency, loop_block, memory, release, rps, slow_clients,
               stream)

# The order they run in: cheap and sensitive first; the fd-heavy ones last so a daemon that they
# break takes nothing else with it (run.py restarts kittyd after a crash).
ALL = [latency, stream, rps, loop_block, cold, release, memory, idle_conns, slow_clients]
BY_NAME = {m.NAME: m for m in ALL}
