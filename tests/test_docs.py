"""The documentation's sources cover the package: every public name has an API page,
every example has a gallery header, and the helpers of docs/_ext behave.  (Building
the site itself is .ci/run's documentation step: sphinx-build -W, then doctest.)"""

import ast
import importlib
import inspect
import pathlib
import re
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def documented_names():
    """Fully qualified names listed in the autosummary tables of docs/api/index.rst."""
    names, module, in_table = set(), None, False
    for line in (DOCS / "api" / "index.rst").read_text(encoding="utf-8").splitlines():
        current = re.match(r"\.\. currentmodule:: (\S+)", line)
        if current:
            module = current.group(1)
        if line.startswith(".. autosummary::"):
            in_table = True
            continue
        if in_table:
            if line and not line.startswith(" "):
                in_table = False          # the table ends at the next unindented line
            elif line.strip() and not line.strip().startswith(":"):
                names.add(f"{module}.{line.strip()}")
    return names


def public_functions(module_name):
    module = importlib.import_module(module_name)
    return {f"{module_name}.{name}" for name, obj in vars(module).items()
            if not name.startswith("_") and inspect.isfunction(obj)
            and obj.__module__ == module_name}


def test_api_reference_lists_every_public_name():
    import bpcore

    expected = {f"bpcore.{name}" for name in bpcore.__all__ if name != "__version__"}
    expected |= public_functions("bpcore.plot")
    expected |= {"bpcore.preprocessing.PiecewiseLinearEncoder", "bpcore.onnx.to_onnx"}
    missing = expected - documented_names()
    assert not missing, f"public names without an API page in docs/api/index.rst: {missing}"


def test_api_reference_names_exist():
    # a name listed but not importable would make autosummary fail the build
    for qualified in documented_names():
        module, _, name = qualified.rpartition(".")
        assert hasattr(importlib.import_module(module), name), qualified


@pytest.mark.parametrize("script", sorted((ROOT / "examples").glob("*.py")),
                         ids=lambda path: path.name)
def test_example_has_gallery_header(script):
    """sphinx-gallery needs each example's docstring to open with a reST title."""
    docstring = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8")), clean=False)
    assert docstring is not None, f"{script.name} has no docstring"
    lines = docstring.strip("\n").splitlines()
    assert len(lines) >= 3, f"{script.name}: a title, its underline and an explanation"
    title, underline = lines[0], lines[1]
    assert title.strip() and set(underline) == {"="} and len(underline) >= len(title), (
        f"{script.name}: the docstring must start with a title underlined by '='")
    assert (ROOT / "examples" / "GALLERY_HEADER.rst").is_file()


@pytest.fixture()
def docs_ext():
    pytest.importorskip("sphinx")
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        yield importlib.import_module("bpcore_docs")
    finally:
        sys.path.remove(str(DOCS / "_ext"))


def test_gallery_keeps_the_tracked_picture(docs_ext, tmp_path):
    """Run by the gallery, vanishing_gradients.py writes beside the gallery's pages, not
    over docs/vanishing_gradients.png (which the README shows)."""
    examples = ROOT / "examples"
    target = DOCS / "auto_examples" / "vanishing_gradients.rst"
    argv = docs_ext.gallery_argv({}, {"src_file": str(examples / "vanishing_gradients.py"),
                                      "target_file": str(target)})
    assert len(argv) == 1
    written = (examples / argv[0]).resolve()        # the example runs in examples/
    assert written == (DOCS / "auto_examples" / "vanishing_gradients.png").resolve()
    assert docs_ext.gallery_argv({}, {"src_file": str(examples / "onnx_export.py"),
                                      "target_file": "x.rst"}) == []


def test_benchmark_tables_are_read_from_the_notes(docs_ext):
    notes = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")
    sections = docs_ext.markdown_sections(notes)
    results = next(lines for name, lines in sections.items() if name.startswith("Results"))
    (table,) = docs_ext.markdown_tables(results)
    assert table[0][0] == "workload"
    rows = {row[0]: row for row in table[1:]}
    # the numbers are the notes' own: every cell of the W-small row is in the notes' line
    line = next(text for text in notes.splitlines() if text.startswith("| W-small |"))
    assert all(cell in line for cell in rows["W-small"])
    assert docs_ext.inline_rst("`n_members=4`") == "``n_members=4``"
    assert docs_ext.inline_rst("dead_units_ of relu") == r"dead_units\_ of relu"
    assert docs_ext.inline_rst("**0.97** (1)") == "**0.97** (1)"
