"""The classroom box's JupyterHub extensions (see the package README)."""

from pathlib import Path

__version__ = "0.2.0"

# The hub's config puts this first in c.JupyterHub.template_paths.
TEMPLATE_DIR = str(Path(__file__).parent / "templates")
