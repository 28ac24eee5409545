"""What goes into the system prompt besides the conversation: project files and memory."""

from herald.context.files import ContextBundle, ContextFile, load_context_files
from herald.context.memory import MemoryStore
from herald.context.prompt import build_system_prompt, default_prompt

__all__ = ["ContextBundle", "ContextFile", "MemoryStore", "build_system_prompt", "default_prompt", "load_context_files"]
