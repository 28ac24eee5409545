"""`herald serve`: an OpenAI- and Anthropic-compatible HTTP gateway over `herald.AsyncClient`.

    config = load_config(Path("gateway.toml"))
    serve(config, workers=2)              # until SIGTERM
    app = create_app(config)              # or mount the aiohttp application yourself

Layout: `config` (the TOML file), `chat` / `messages` / `responses` (the three wires, sans-IO), `call`
(what they share: the parsed call, statuses, finish reasons), `relay` (one stream, status
held until content), `app` (routes, auth), `upstream` (the one seam to `AsyncClient`),
`metrics` (Prometheus), `server` (socket, workers, SIGTERM). See docs/gateway.md.
"""

from herald.serve.app import create_app
from herald.serve.config import ModelRoute, ServeConfig, load_config
from herald.serve.server import serve

__all__ = ["ModelRoute", "ServeConfig", "create_app", "load_config", "serve"]
