"""LangGraph/LangChain integration: the seed's LLMTools, nodes, LangChain tools and ChatOpenAI."""

from __future__ import annotations

import json

from kitty_testkit import Kittyd, pid_exists
from langchain_openai import ChatOpenAI

from kitty_client import AsyncKittyClient, KittyClient
from kitty_client.langgraph import LLMTools, chat_model, ensure_node, langchain_tools, release_node


def test_llmtools_seed_contract(client: KittyClient) -> None:
    tools = LLMTools(client)
    out = tools.completion({"model_id": "big", "prompt": "Hello", "max_tokens": 4, "temperature": 0.1})
    assert set(out) == {"completion"} and isinstance(out["completion"], str) and out["completion"]
    w = tools.release_model("big")
    assert w["status"] == "stopped"


def test_nodes_ensure_and_release(client: KittyClient) -> None:
    ensure, release = ensure_node("second", client, state_key="w"), release_node("second", client)
    update = ensure({})
    assert update is not None and update["w"]["status"] == "ready"
    assert release({}) is None
    assert not pid_exists(update["w"]["pid"])


async def test_async_nodes(kittyd: Kittyd) -> None:
    async with AsyncKittyClient(kittyd.url) as ac:
        upd = await ensure_node("second", ac, state_key="w")({})
        assert upd is not None and upd["w"]["status"] == "ready"
        upd2 = await release_node("second", ac, state_key="r")({})
        assert upd2 is not None and upd2["r"]["status"] == "stopped"


def test_langchain_tools(client: KittyClient) -> None:
    tools = {t.name: t for t in langchain_tools(client)}
    assert set(tools) == {"kitty_completion", "kitty_ensure_model", "kitty_release_model", "kitty_list_workers"}
    text = tools["kitty_completion"].invoke({"model_id": "big", "prompt": "Hi", "max_tokens": 4})
    assert isinstance(text, str) and text
    listed = json.loads(tools["kitty_list_workers"].invoke({}))
    assert any(w["model_id"] == "big" and w["status"] == "ready" for w in listed)
    released = json.loads(tools["kitty_release_model"].invoke({"model_id": "big"}))
    assert released["status"] == "stopped"


async def test_langchain_tools_async(client: KittyClient) -> None:
    tools = {t.name: t for t in LLMTools(client).as_langchain_tools()}
    text = await tools["kitty_completion"].ainvoke({"model_id": "second", "prompt": "Hi", "max_tokens": 4})
    assert text
    await tools["kitty_release_model"].ainvoke({"model_id": "second"})


def test_chat_openai_against_kittyd(kittyd: Kittyd) -> None:
    # Plain LangChain, nothing from kitty_client: kittyd is OpenAI-compatible.
    llm = ChatOpenAI(base_url=kittyd.url + "/v1", model="big", api_key="unused")  # type: ignore[arg-type]
    msg = llm.invoke("Say hello")
    assert isinstance(msg.content, str) and msg.content
    # The helper builds the same thing from KITTY_URL / base_url.
    msg2 = chat_model("large", base_url=kittyd.url, max_tokens=8).invoke("Say hello")
    assert msg2.content
    chunks = [c.content for c in chat_model("streamer", base_url=kittyd.url).stream("count")]
    assert len([c for c in chunks if c]) >= 2
