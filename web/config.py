"""Configuration of the web app: defaults, then ``RELEASE_SEARCH_*`` environment variables, then a mapping.

Environment values are converted to the type of the matching default (``int`` or ``bool``), so
``RELEASE_SEARCH_PER_PAGE=20`` configures ``PER_PAGE = 20``; a key without a default stays a string.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from search import MAX_EXPORT_ROWS
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
    # The site's root URL as clients see it (``https://search.example.org/``), for the absolute
    # URLs of /opensearch.xml; empty: built from the request's Host header, once validated.
    "BASE_URL": "",
    # A synonyms file read instead of the index directory's synonyms.txt (empty: that one).
    "SYNONYMS": "",
    # Most rows of a CSV / JSON Lines export (at most search.MAX_EXPORT_ROWS).
    "EXPORT_ROWS": MAX_EXPORT_ROWS,
    # A sharded index searched on this Dask cluster (``tcp://host:8786``); empty: in-process.
    "SCHEDULER": "",
}

#: A ``host[:port]`` a URL may name: DNS labels (letters, digits, inner hyphens; IPv4 too) or a
#: bracketed IPv6 address, and a port of at most 5 digits.
HOST_RE = re.compile(
    r"(?:(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?"
)

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
    config["BASE_URL"] = check_base_url(config.get("BASE_URL") or "")
    rows = config["EXPORT_ROWS"]
    if not isinstance(rows, int) or isinstance(rows, bool) or not 1 <= rows <= MAX_EXPORT_ROWS:
        raise ConfigError(f"EXPORT_ROWS must be a whole number from 1 to {MAX_EXPORT_ROWS}")
    return config


def check_base_url(url: str) -> str:
    """``url`` without its trailing slashes if it is an http(s) URL of a site's root (a host,
    perhaps a port and a path; no user, query or fragment); empty stays empty (not configured)."""
    if not url:
        return ""
    parts = urlsplit(url)
    try:
        port_ok = parts.port is None or 0 < parts.port
    except ValueError:  # not a number, or over 65535
        port_ok = False
    if (parts.scheme not in ("http", "https") or not HOST_RE.fullmatch(parts.netloc) or not port_ok
            or parts.query or parts.fragment or "?" in url or "#" in url
            or any(ch.isspace() or ch in "<>\"'" for ch in parts.path)):
        raise ConfigError("BASE_URL must be an http:// or https:// URL of the site's root, without query "
                          f"or fragment, got {url!r}")
    return url.rstrip("/")
