"""kittybench: the pieces of bench/run.py (kittyd's benchmark), one module per concern.

util      logging, percentiles, /proc readers (RSS, CPU, fds, limits), machine facts
tools     the load generator (compiled from bench/loadgen.cc), its hold mode, wrk
daemon    kittyd on loopback with fake_engine models: config, start, stop, admin calls
report    the markdown table and notes
peer      an optional other proxy (llama-swap) for a side-by-side
scenarios one module per figure; each has run(ctx, opts) -> dict and rows(result) -> [Row]
"""
