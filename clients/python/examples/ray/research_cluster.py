"""The seed's research graph (seed 000 §6.2) against a cluster: research with one model, then
summarise with another, each phase's request sent to the Ray Serve ingress of kitty_client.ray.

On one box the graph ensures and releases its model; on a cluster nobody does: the ingress sends
each phase's request to a node whose kittyd already holds that phase's model (Serve's model
multiplexing over kittyd's holds), and the node's kittyd decides what its memory keeps. Each
phase records where it ran and whether the model was already hot there (the ingress's
X-Kitty-Node and X-Kitty-Model-Was-Ready headers): run several questions and every phase after
the first lands where its model is hot.

    python -m kitty_client.ray.local --kittyd build/kittyd --fake-engine build/fake_engine &
    python clients/python/examples/ray/research_cluster.py --url http://127.0.0.1:8000 \\
        --research-model m0 --summary-model m1 "Why is the sky blue?" "What is a GPU?"
"""

from __future__ import annotations

import argparse
from typing import Any, TypedDict

import openai
from langgraph.graph import END, StateGraph


class ResearchState(TypedDict, total=False):
    question: str
    research: str
    summary: str
    phases: list[dict[str, Any]]  # per phase: model, node, was_ready


def _ask(client: openai.OpenAI, model: str, prompt: str, max_tokens: int) -> tuple[str, dict[str, Any]]:
    raw = client.chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "user", "content": prompt}], max_tokens=max_tokens, temperature=0.3)
    answer = raw.parse()
    where = {"model": model, "node": raw.headers.get("x-kitty-node"),
             "was_ready": raw.headers.get("x-kitty-model-was-ready") == "true"}
    return answer.choices[0].message.content or "", where


def build_research_graph(client: openai.OpenAI, research_model: str, summary_model: str, *,
                         max_tokens: int = 128) -> Any:
    """The two-phase graph for an OpenAI client pointed at the cluster's ingress (base URL .../v1)."""

    def research(state: ResearchState) -> ResearchState:
        text, where = _ask(client, research_model, f"Research this question:\n{state['question']}\n", max_tokens)
        return {"research": text, "phases": [*state.get("phases", []), {"phase": "research", **where}]}

    def summarize(state: ResearchState) -> ResearchState:
        text, where = _ask(client, summary_model, f"Summarise in two sentences:\n{state['research']}\n", max_tokens)
        return {"summary": text, "phases": [*state.get("phases", []), {"phase": "summarize", **where}]}

    graph = StateGraph(ResearchState)
    graph.add_node("research", research)
    graph.add_node("summarize", summarize)
    graph.set_entry_point("research")
    graph.add_edge("research", "summarize")
    graph.add_edge("summarize", END)
    return graph.compile()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("questions", nargs="*", default=["What limits the memory of a small computer?"])
    ap.add_argument("--url", default="http://127.0.0.1:8000", help="the ingress (kitty_client.ray)")
    ap.add_argument("--research-model", default="m0")
    ap.add_argument("--summary-model", default="m1")
    ap.add_argument("--max-tokens", type=int, default=128)
    args = ap.parse_args()
    client = openai.OpenAI(base_url=args.url.rstrip("/") + "/v1", api_key="unused")
    app = build_research_graph(client, args.research_model, args.summary_model, max_tokens=args.max_tokens)
    for q in args.questions:
        result = app.invoke({"question": q})
        print(f"Q: {q}\n{result['summary'].strip()}")
        for p in result["phases"]:
            print(f"  {p['phase']:<9} {p['model']} on {p['node']} ({'hot' if p['was_ready'] else 'started there'})")


if __name__ == "__main__":
    main()
