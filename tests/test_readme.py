"""The README's usage example runs and does what it says."""

import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_usage_example_runs(capsys):
    text = README.read_text(encoding="utf-8")
    block = re.search(r"## Usage\s+```python\n(.*?)```", text, re.S).group(1)
    exec(compile(block, str(README), "exec"), {})
    accuracy = float(capsys.readouterr().out.strip().splitlines()[-1])
    assert accuracy > 0.95
