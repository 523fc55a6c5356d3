"""What every scenario gets: the daemon under test, the tools and the options."""
from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

from .tools import Tools

SMALL_BODY = '{"model":"%s","prompt":"hi","max_tokens":1}'
STREAM_BODY = '{"model":"%s","prompt":"hi","stream":true,"max_tokens":%d}'


@dataclass
class Ctx:
    tools: Tools
    k: object          # daemon.Kittyd (or a peer with the same surface: port, pid, ensure, url)
    fake: Path
    opts: argparse.Namespace
    notes: list[str] = field(default_factory=list)
    # kittyd right after start, before any request: rss_kb, fds, nofile (soft, hard)
    start: dict = field(default_factory=dict)

    def rounds_order(self, i: int) -> tuple[str, str]:
        """Alternate which side runs first in round i, so a drift in machine load hits both."""
        return ("direct", "kittyd") if i % 2 == 0 else ("kittyd", "direct")
