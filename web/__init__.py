"""Flask front end of release-search: HTML search pages and a JSON API.

``create_app`` builds the app; ``web.server.serve`` runs it under waitress.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

__all__ = ["create_app"]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Create the app.

    Configuration comes from :data:`web.config.DEFAULTS`, then the ``RELEASE_SEARCH_*``
    environment variables (e.g. ``RELEASE_SEARCH_INDEX_DIR``), then ``config``. The index at
    ``INDEX_DIR`` is opened lazily on the first request that needs it, once per app.
    """
    from web import api, errors, security, views
    from web.config import load_config
    from web.index_holder import EXTENSION_KEY, IndexHolder

    app = Flask(__name__)
    # "/doc/%2F..." decodes to a double slash: answer it (404) rather than redirect to a merged path.
    app.url_map.merge_slashes = False
    app.config.update(load_config(os.environ, config))
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep the dataclass field order
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions[EXTENSION_KEY] = IndexHolder(app.config["INDEX_DIR"],
                                                 app.config.get("SYNONYMS") or None,
                                                 app.config.get("SCHEDULER") or None)
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    security.install(app)
    errors.install(app)
    return app
