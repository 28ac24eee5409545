"""Compatibility module: `from run_agent import AIAgent`, as in the agent design Herald follows."""

from herald.agent import AIAgent

__all__ = ["AIAgent"]
