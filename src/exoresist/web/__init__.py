"""Stage: the web application and REST API (``exoresist serve``), a thin layer over the library.

The API lives under ``/api/v1`` (OpenAPI at ``/openapi.json``, interactive docs at ``/docs``); the
pages are rendered on the server (Jinja2 + htmx) and draw graphs and plots with vendored
Cytoscape.js and Plotly. Routes call the same library functions as the CLI and render the JSON
those give; see ``docs/web.md``::

    from exoresist.web import Settings, create_app
    app = create_app(Settings(db="sqlite:///out/kb.sqlite", data_dir=Path("out/web")))
"""

from exoresist.web.app import create_app
from exoresist.web.settings import Settings

__all__ = ["Settings", "create_app"]
