"""The server process: `python -m herald.local.serve <llama_cpp.server arguments>`.

A thin wrapper around llama-cpp-python's own server entry point that adds two things:

* the "herald-gemma3" chat format (see `chat_format`), registered before the server starts;
* a watchdog that exits when the Herald process that started it is gone. The server runs in
  its own process group (so Ctrl-C in the terminal doesn't reach it and Herald can kill it
  as a whole); without the watchdog a crashed or SIGKILLed Herald would leave it running.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

CHAT_FORMAT = "herald-gemma3"
PARENT_PID_ENV = "HERALD_LOCAL_PARENT_PID"


def register_chat_format() -> None:
    """Make `--chat_format herald-gemma3` known to llama-cpp-python."""
    from llama_cpp import llama_chat_format

    from herald.local.chat_format import END_OF_TURN, render_gemma3

    @llama_chat_format.register_chat_format(CHAT_FORMAT)  # type: ignore[untyped-decorator]
    def _format(messages: Any, tools: Any = None, tool_choice: Any = None, **_: Any) -> Any:
        prompt = render_gemma3(messages, tools=tools, tool_choice=tool_choice)
        return llama_chat_format.ChatFormatterResponse(prompt=prompt, stop=END_OF_TURN)


def watch_parent(parent_pid: int, *, interval: float = 0.5) -> None:
    """Exit this process as soon as `parent_pid` is no longer our parent (it died)."""

    def run() -> None:
        while os.getppid() == parent_pid:
            time.sleep(interval)
        os._exit(0)  # nothing to flush: the model is read-only and requests die with us

    threading.Thread(target=run, name="herald-parent-watchdog", daemon=True).start()


def main() -> None:
    parent = os.environ.get(PARENT_PID_ENV)
    if parent and parent.isdigit():
        watch_parent(int(parent))
    register_chat_format()
    from llama_cpp.server.__main__ import main as server_main

    server_main()  # type: ignore[no-untyped-call]  # parses sys.argv, which holds the llama_cpp.server arguments


if __name__ == "__main__":
    main()
