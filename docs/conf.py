"""Sphinx configuration of bpcore's documentation.

Build (from the repository root, with bpcore importable: installed, or PYTHONPATH=src
over a tree whose extension is built):

    sphinx-build -W --keep-going -b html docs docs/_build/html
    sphinx-build -b doctest docs docs/_build/doctest

Nothing here needs the network at build time.
"""

import os
import pathlib
import sys

import bpcore

DOCS = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))   # bpcore_docs: benchmark tables, gallery argv

# -- project ---------------------------------------------------------------------------
project = "bpcore"
author = "The bpcore developers"
copyright = "The bpcore developers"
release = bpcore.__version__                      # the one version, from the package
version = ".".join(release.split(".")[:2])

# -- extensions ------------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.doctest",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "bpcore_docs",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "auto_examples/*.ipynb",
                    "auto_examples/*.py"]
root_doc = "index"
default_role = "literal"      # `name` in these pages reads as code
pygments_style = "sphinx"

# autodoc / autosummary: one page per public object, under api/generated/, so that
# the estimators are at api/generated/bpcore.MLPClassifier.html
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"    # the numpydoc sections say the types
autoclass_content = "class"
add_module_names = False

# numpydoc renders the Parameters / Attributes sections; the class template lists
# the methods itself
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True

# doctest: the guide's examples run with `sphinx-build -b doctest`
doctest_global_setup = """
import warnings
import matplotlib
matplotlib.use("Agg")
import numpy as np
warnings.simplefilter("ignore")      # short demonstration fits: ConvergenceWarning
np.set_printoptions(precision=4, suppress=True)
"""
doctest_default_flags = (__import__("doctest").ELLIPSIS
                         | __import__("doctest").NORMALIZE_WHITESPACE
                         | __import__("doctest").DONT_ACCEPT_TRUE_FOR_1)

# MathJax renders the formulas in the reader's browser; the build fetches nothing
mathjax3_config = {"tex": {"macros": {"R": r"\mathbb{R}"}}}

# -- sphinx-gallery --------------------------------------------------------------------
# Every example runs during the build except dask_cluster.py, which starts a
# LocalCluster of worker processes: it is shown, not run.
sphinx_gallery_conf = {
    "examples_dirs": [str(DOCS.parent / "examples")],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/(vanishing_gradients|onnx_export|out_of_core)\.py$",
    "ignore_pattern": r"__init__\.py",
    "reset_argv": "bpcore_docs.gallery_argv",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
}

# -- HTML ------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"bpcore {release}"
html_baseurl = "https://bpcore.readthedocs.io/en/latest/"
html_static_path = ["_static"]
html_css_files = ["bpcore.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_prev_next": True,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"index": [], "benchmarks": []}
html_show_sourcelink = False
html_context = {"default_mode": "light"}
