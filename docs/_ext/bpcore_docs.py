"""Sphinx helpers for bpcore's documentation.

- ``.. benchmark-table:: <section heading>`` renders a table of benchmarks/README.md
  (the ``:index:`` option picks the n-th table of that section, from 0), so that the
  site shows the numbers of the benchmark notes themselves, never a copy of them.
- Methods the estimators inherit from scikit-learn (``score``, ``get_params``, the
  metadata-routing ``set_*_request``) keep scikit-learn's docstrings, whose
  cross-references point into scikit-learn's own documentation; here they become
  plain text (the build has no network to fetch scikit-learn's inventory).
- ``gallery_argv``: the command-line arguments sphinx-gallery gives each example it
  runs (the vanishing-gradients example writes its picture into the gallery's build
  directory instead of the tracked docs/vanishing_gradients.png).
"""

from __future__ import annotations

import os
import pathlib
import re

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

ROOT = pathlib.Path(__file__).resolve().parents[2]
BENCHMARK_NOTES = ROOT / "benchmarks" / "README.md"


# --------------------------------------------------------------- benchmark tables
def markdown_sections(text):
    """{heading: [lines]} of a markdown text, for its ``#``, ``##`` and ``###`` headings
    (a heading's lines run to the next heading of any level)."""
    sections, heading = {}, None
    for line in text.splitlines():
        match = re.match(r"#{1,3} (.*)", line)
        if match:
            heading = match.group(1).strip()
            sections[heading] = []
        elif heading is not None:
            sections[heading].append(line)
    return sections


def markdown_tables(lines):
    """The pipe tables among `lines`, each a list of rows of cell strings (the header
    row first, the ``|---|`` separator dropped)."""
    tables, current = [], None
    for line in lines + [""]:
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if current is None:
                current = []
            if not all(re.fullmatch(r":?-+:?", cell) for cell in cells):
                current.append(cells)
        elif current is not None:
            tables.append(current)
            current = None
    return tables


def inline_rst(cell):
    """A markdown table cell as reStructuredText inline markup: `code` becomes
    ``code``, **bold** stays, and outside code a word's trailing underscore or a
    lone asterisk is escaped (reST would read a reference or an emphasis)."""
    out = []
    for part in re.split(r"(`[^`]+`|\*\*[^*]+\*\*)", cell):
        if not part:
            continue
        if part.startswith("`"):
            markup = "``" + part[1:-1] + "``"
        elif part.startswith("**"):
            markup = part
        else:
            text = re.sub(r"(\w)_\b", r"\1\\_", part)
            out.append(text.replace("*", r"\*"))
            continue
        # reST wants inline markup set off from the words around it
        if out and not re.search(r"[\s(\[/'\"-]$", out[-1]):
            markup = "\\ " + markup
        out.append(markup + "\x00")      # marks a markup end, settled below
    text = "".join(out)
    text = re.sub(r"\x00(?=[\w])", r"\\ ", text).replace("\x00", "")
    return text or ".."


class BenchmarkTable(SphinxDirective):
    """A table of benchmarks/README.md, by section heading (and index in it)."""

    required_arguments = 1
    final_argument_whitespace = True
    option_spec = {"index": directives.nonnegative_int,
                   "widths": directives.unchanged,
                   "class": directives.class_option}

    def run(self):
        self.env.note_dependency(str(BENCHMARK_NOTES))
        heading = self.arguments[0].strip()
        sections = markdown_sections(BENCHMARK_NOTES.read_text(encoding="utf-8"))
        matches = [name for name in sections if name == heading or name.startswith(heading)]
        if len(matches) != 1:
            raise self.error(f"benchmarks/README.md has {len(matches)} sections headed "
                             f"{heading!r}; headings: {list(sections)}")
        tables = markdown_tables(sections[matches[0]])
        index = self.options.get("index", 0)
        if index >= len(tables):
            raise self.error(f"section {matches[0]!r} of benchmarks/README.md has "
                             f"{len(tables)} table(s); asked for index {index}")
        rows = tables[index]
        width = len(rows[0])
        lines = [".. list-table::", "   :header-rows: 1", "   :class: benchmark-table"]
        if "widths" in self.options:
            lines.append(f"   :widths: {self.options['widths']}")
        lines.append("")
        for row in rows:
            row = (row + [""] * width)[:width]
            for k, cell in enumerate(row):
                lines.append(("   * - " if k == 0 else "     - ") + inline_rst(cell))
        container = nodes.container(classes=["benchmark-table-wrapper"])
        self.state.nested_parse(StringList(lines, source=str(BENCHMARK_NOTES)),
                                self.content_offset, container)
        return [container]


# ------------------------------------------------- docstrings inherited from sklearn
_SKLEARN_ROLE = re.compile(r":(?:ref|term|doc|class|func|meth|attr|obj|mod):`([^`<]*?)\s*(?:<([^>]*)>)?`")


def _plain_role(match):
    text, target = match.group(1).strip(), match.group(2)
    return "``" + (text or target).lstrip("~") + "``" if not text or match.group(0).startswith(
        (":class:", ":func:", ":meth:", ":attr:", ":obj:", ":mod:")) else text


def unlink_sklearn_docstring(app, what, name, obj, options, lines):
    """scikit-learn's cross-references in a docstring written by scikit-learn, as text."""
    module = getattr(obj, "__module__", None) or ""
    if not module.startswith("sklearn."):
        return
    lines[:] = [_SKLEARN_ROLE.sub(_plain_role, line) for line in lines]


# ----------------------------------------------------------------- sphinx-gallery
def gallery_argv(gallery_conf, script_vars):
    """sys.argv[1:] for an example run by sphinx-gallery."""
    source = pathlib.Path(script_vars["src_file"])
    if source.name == "vanishing_gradients.py":
        target = pathlib.Path(script_vars["target_file"]).with_suffix(".png")
        # the example runs in its own directory
        return [os.path.relpath(target, source.parent)]
    return []


def setup(app):
    app.add_directive("benchmark-table", BenchmarkTable)
    app.connect("autodoc-process-docstring", unlink_sklearn_docstring)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
