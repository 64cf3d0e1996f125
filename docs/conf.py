"""Sphinx configuration of the sksom documentation.

Build with ``python -m sphinx -W -b html docs docs/_build/html`` from the
repository root (``pip install -e ".[docs]"`` first). The build runs every
``examples/plot_*.py`` through sphinx-gallery and needs no network.
"""

import os
import sys
from pathlib import Path

# Figures are written to files only, and TensorFlow keeps its start-up
# chatter to itself while the examples run.
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sksom  # noqa: E402

project = "sksom"
author = "the sksom developers"
copyright = "2026, the sksom developers"
release = sksom.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "auto_examples/*.ipynb", "auto_examples/*.py"]
root_doc = "index"
nitpicky = False

# -- API reference -----------------------------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"
# Methods that override Keras ones without a docstring would otherwise show
# Keras's Markdown docstrings, which are not reStructuredText.
autodoc_inherit_docstrings = False
# numpydoc lists the methods; autosummary's own member tables would repeat
# them (and warn about the duplicates).
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# -- Gallery -----------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "backreferences_dir": "gen_modules/backreferences",
    "doc_module": ("sksom",),
    "reference_url": {"sksom": None},
    "download_all_examples": False,
    "remove_config_comments": True,
    "reset_modules": ("matplotlib",),
    "show_memory": False,
    "plot_gallery": "True",
}

# -- HTML --------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sksom {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_prev_next": False,
    # No icons or version switcher: they would fetch from the network.
    "icon_links": [],
}
html_static_path = []


def _skip_member(app, what, name, obj, skip, options):
    # scikit-learn generates set_{method}_request for metadata routing; their
    # docstrings point into scikit-learn's glossary, which is not ours.
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_member)
