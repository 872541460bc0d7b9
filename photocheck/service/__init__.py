"""Counter service: the HTTP API and the counter staff's web page (``photocheck serve``).

    from photocheck.service import ServiceSettings, create_app, serve
    serve(ServiceSettings(port=8000))              # what `photocheck serve` does

See README.md ("Counter service") for the endpoints, the API key, limits and privacy.
:mod:`.settings` is light; FastAPI and uvicorn are imported only when ``create_app`` or
``serve`` is first used, so the command line starts as fast with this package as without.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .settings import API_KEY_ENV, API_KEY_HEADER, ServiceSettings, is_loopback

if TYPE_CHECKING:
    from .app import create_app, serve

__all__ = ["API_KEY_ENV", "API_KEY_HEADER", "ServiceSettings", "create_app", "is_loopback",
           "serve"]


def __getattr__(name: str) -> Any:
    if name in ("create_app", "serve"):
        from . import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
