"""Configuration of the web app: defaults, then ``RELEASE_SEARCH_*`` environment variables, then a mapping.

Environment values are converted to the type of the matching default (``int`` or ``bool``), so
``RELEASE_SEARCH_PER_PAGE=20`` configures ``PER_PAGE = 20``; a key without a default stays a string.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from search.errors import SearchError

#: Prefix of the environment variables read by :func:`load_config`.
ENV_PREFIX = "RELEASE_SEARCH_"

#: Default configuration of the app.
DEFAULTS: dict[str, Any] = {
    # Where the index lives (the same default as the CLI).
    "INDEX_DIR": "index",
    # Hits per HTML result page.
    "PER_PAGE": 10,
    # Highest page number a request may ask for (deeper pages are 400).
    "MAX_PAGE": 1000,
    # Request bodies are never needed: keep them small.
    "MAX_CONTENT_LENGTH": 16 * 1024,
    # Log one line per request (method, path, status, time in ms).
    "LOG_REQUESTS": True,
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(SearchError):
    """An environment variable cannot be converted to the type of its default."""


def _convert(key: str, raw: str) -> Any:
    """Convert an environment string to the type of ``DEFAULTS[key]`` (string if no default)."""
    default = DEFAULTS.get(key)
    if isinstance(default, bool):
        lowered = raw.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ConfigError(f"{ENV_PREFIX}{key}: expected a boolean, got {raw!r}")
    if isinstance(default, int):
        try:
            return int(raw.strip())
        except ValueError:
            raise ConfigError(f"{ENV_PREFIX}{key}: expected an integer, got {raw!r}") from None
    return raw


def load_config(environ: Mapping[str, str], overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return the app configuration: :data:`DEFAULTS`, then ``environ``'s ``RELEASE_SEARCH_*``, then ``overrides``."""
    config = dict(DEFAULTS)
    for name, raw in environ.items():
        if name.startswith(ENV_PREFIX) and len(name) > len(ENV_PREFIX):
            key = name[len(ENV_PREFIX) :]
            config[key] = _convert(key, raw)
    if overrides:
        config.update(overrides)
    config["INDEX_DIR"] = str(config["INDEX_DIR"])
    return config
