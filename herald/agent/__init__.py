"""The agent: model calls, tools and conversation state."""

from herald.agent.core import AIAgent

__all__ = ["AIAgent"]
