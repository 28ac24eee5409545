"""Herald: an AI agent whose LLM transport never breaks."""
