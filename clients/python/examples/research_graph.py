"""The seed's research graph (seed 000 §6.2) on kittyd: ensure_qwen -> research -> release_qwen.

Early node: ensure the worker. Middle node: use it. Final node: release it, so the model's
memory is free when the graph returns.

Run against the README's default config (kittyd serving the real SmolLM2 as `smollm2-135m`,
alias `smol`):

    python clients/python/examples/research_graph.py "Why is the sky blue?"

Env: KITTY_URL (default http://127.0.0.1:7700), KITTY_RESEARCH_MODEL (default smol).
"""

from __future__ import annotations

import argparse
import os
from typing import Any, TypedDict

from langgraph.graph import END, StateGraph

from kitty_client import KittyClient
from kitty_client.langgraph import LLMTools, ensure_node, release_node


class ResearchState(TypedDict, total=False):
    question: str
    research: str
    worker: dict[str, Any]  # the worker's state after ensure (pid, port, ...)
    released: dict[str, Any]  # the worker's state after release (status "stopped")


def build_research_graph(client: KittyClient, model_id: str, *, max_tokens: int = 128) -> Any:
    """Compile the seed's three-node graph for ``model_id`` talking to kittyd via ``client``."""
    llm_tools = LLMTools(client)

    def research_node(state: ResearchState) -> ResearchState:
        out = llm_tools.completion(
            {
                "model_id": model_id,
                "prompt": f"Research this question:\n{state['question']}\n",
                "max_tokens": max_tokens,
                "temperature": 0.3,
            }
        )
        return {"research": out["completion"]}

    graph = StateGraph(ResearchState)
    graph.add_node("ensure_qwen", ensure_node(model_id, client, state_key="worker"))
    graph.add_node("research", research_node)
    graph.add_node("release_qwen", release_node(model_id, client, state_key="released"))
    graph.set_entry_point("ensure_qwen")
    graph.add_edge("ensure_qwen", "research")
    graph.add_edge("research", "release_qwen")
    graph.add_edge("release_qwen", END)
    return graph.compile()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("question", nargs="?", default="What limits the memory of a small computer?")
    ap.add_argument("--model", default=os.environ.get("KITTY_RESEARCH_MODEL", "smol"))
    ap.add_argument("--url", default=None, help="kittyd URL (default $KITTY_URL or http://127.0.0.1:7700)")
    ap.add_argument("--max-tokens", type=int, default=128)
    args = ap.parse_args()

    with KittyClient(args.url) as client:
        app = build_research_graph(client, args.model, max_tokens=args.max_tokens)
        result = app.invoke({"question": args.question})
        print(result["research"].strip())
        w, r = result["worker"], result["released"]
        print(f"\n[{args.model}: worker pid {w.get('pid')} used, then released: status {r.get('status')}]")


if __name__ == "__main__":
    main()
