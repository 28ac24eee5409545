"""Herald: an AI agent whose LLM transport never breaks."""

from herald.agent import AIAgent
from herald.agent.async_core import AsyncAIAgent
from herald.agent.result import TurnResult
from herald.agent.settings import AgentSettings
from herald.client import AsyncClient, Client
from herald.errors import (
    AuthenticationError,
    BadResponse,
    ConfigError,
    ContextOverflow,
    HeraldError,
    Interrupted,
    LLMError,
    ModelNotFoundError,
    ProviderError,
    ProviderUnreachable,
    RateLimitError,
    UserError,
)
from herald.llm.records import AttemptRecord
from herald.llm.timeouts import StreamTimeouts
from herald.llm.types import LLMResponse
from herald.mcp.config import MCPServerConfig
from herald.version import __version__


__all__ = [
    "AIAgent",
    "AgentSettings",
    "AsyncAIAgent",
    "AsyncClient",
    "AttemptRecord",
    "AuthenticationError",
    "BadResponse",
    "Client",
    "ConfigError",
    "ContextOverflow",
    "HeraldError",
    "Interrupted",
    "LLMError",
    "LLMResponse",
    "MCPServerConfig",
    "ModelNotFoundError",
    "ProviderError",
    "ProviderUnreachable",
    "RateLimitError",
    "StreamTimeouts",
    "TurnResult",
    "UserError",
    "__version__",
]
