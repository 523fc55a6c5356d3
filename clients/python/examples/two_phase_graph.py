"""A two-phase graph: a big model drafts, is released, then a second model refines.

    ensure_big -> draft -> release_big -> ensure_second -> refine -> release_second

Only one model is resident at a time: `release_big` returns once the big worker's process group
is gone, so the second model starts with the memory free (the point of seed 000 §10).

Runs against the README's default config, which has one real model: by default both phases use
it (`smollm2-135m`, then its alias `smol`), so you will see it stopped and started again.
With two models configured, pass their ids:

    python clients/python/examples/two_phase_graph.py --big qwen_32b --second smol "topic"

Env: KITTY_URL, KITTY_BIG_MODEL (default smollm2-135m), KITTY_SECOND_MODEL (default smol).
"""

from __future__ import annotations

import argparse
import os
from typing import Any, TypedDict

from langgraph.graph import END, StateGraph

from kitty_client import KittyClient
from kitty_client.langgraph import ensure_node, release_node


class TwoPhaseState(TypedDict, total=False):
    topic: str
    draft: str
    final: str
    big_worker: dict[str, Any]  # big model's worker after ensure (pid, ...)
    big_released: dict[str, Any]  # ... and after release (status "stopped")
    second_worker: dict[str, Any]


def build_two_phase_graph(client: KittyClient, big: str, second: str, *, max_tokens: int = 96) -> Any:
    def draft(state: TwoPhaseState) -> TwoPhaseState:
        text = client.complete(big, f"Write a short draft about: {state['topic']}\n",
                               max_tokens=max_tokens, temperature=0.7)
        return {"draft": text}

    def refine(state: TwoPhaseState) -> TwoPhaseState:
        messages = [
            {"role": "system", "content": "You improve drafts. Answer with the improved text only."},
            {"role": "user", "content": f"Improve this draft:\n{state['draft']}"},
        ]
        return {"final": client.chat(second, messages, max_tokens=max_tokens, temperature=0.3)}

    g = StateGraph(TwoPhaseState)
    g.add_node("ensure_big", ensure_node(big, client, state_key="big_worker"))
    g.add_node("draft", draft)
    g.add_node("release_big", release_node(big, client, state_key="big_released"))
    g.add_node("ensure_second", ensure_node(second, client, state_key="second_worker"))
    g.add_node("refine", refine)
    g.add_node("release_second", release_node(second, client))
    g.set_entry_point("ensure_big")
    for a, b in [("ensure_big", "draft"), ("draft", "release_big"), ("release_big", "ensure_second"),
                 ("ensure_second", "refine"), ("refine", "release_second"), ("release_second", END)]:
        g.add_edge(a, b)
    return g.compile()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("topic", nargs="?", default="why local models should free memory when idle")
    ap.add_argument("--big", default=os.environ.get("KITTY_BIG_MODEL", "smollm2-135m"))
    ap.add_argument("--second", default=os.environ.get("KITTY_SECOND_MODEL", "smol"))
    ap.add_argument("--url", default=None, help="kittyd URL (default $KITTY_URL or http://127.0.0.1:7700)")
    ap.add_argument("--max-tokens", type=int, default=96)
    args = ap.parse_args()

    with KittyClient(args.url) as client:
        out = build_two_phase_graph(client, args.big, args.second, max_tokens=args.max_tokens).invoke(
            {"topic": args.topic})
        print("--- draft (", args.big, ") ---\n", out["draft"].strip(), sep="")
        print("--- final (", args.second, ") ---\n", out["final"].strip(), sep="")
        print(f"\n[{args.big} pid {out['big_worker'].get('pid')} -> {out['big_released'].get('status')} "
              f"before {args.second} pid {out['second_worker'].get('pid')} started]")


if __name__ == "__main__":
    main()
