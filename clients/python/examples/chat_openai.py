"""LangChain's ChatOpenAI against kittyd, and kittyd's operations as tools an agent can call.

kittyd is OpenAI-compatible: point ChatOpenAI at ``$KITTY_URL/v1`` and name a configured model.

    python clients/python/examples/chat_openai.py            # model `smol` (README's default config)

For an agent, bind the tools to a model that can call tools (``llm.bind_tools(tools)``, LangGraph's
``ToolNode``/``create_react_agent``); SmolLM2-135M is too small to call tools reliably, so this
example makes the tool calls an agent's model would request.

Env: KITTY_URL (default http://127.0.0.1:7700), KITTY_CHAT_MODEL (default smol).
"""

from __future__ import annotations

import os

from langchain_core.messages.tool import tool_call
from langchain_openai import ChatOpenAI

from kitty_client import KittyClient
from kitty_client.langgraph import langchain_tools


def main() -> None:
    url = os.environ.get("KITTY_URL", "http://127.0.0.1:7700").rstrip("/")
    model = os.environ.get("KITTY_CHAT_MODEL", "smol")

    llm = ChatOpenAI(base_url=f"{url}/v1", model=model, api_key="unused", temperature=0.2)  # type: ignore[arg-type]
    print("invoke:", llm.invoke("In one sentence: what is a process?").content)
    print("stream: ", end="")
    for chunk in llm.stream("Count from 1 to 5."):
        print(chunk.content, end="", flush=True)
    print()

    with KittyClient(url) as kitty:
        tools = {t.name: t for t in langchain_tools(kitty)}
        # The tool calls an agent's model would emit: check the workers, then free the model.
        # Invoking a tool with a tool call returns the ToolMessage the agent loop feeds back.
        calls = [
            tool_call(name="kitty_list_workers", args={}, id="call-1"),
            tool_call(name="kitty_release_model", args={"model_id": model}, id="call-2"),
        ]
        for call in calls:
            msg = tools[call["name"]].invoke(call)
            print(f"{msg.name}: {msg.content}")

if __name__ == "__main__":
    main()
