"""Every Python snippet of the README runs as written, as a script of its own, and does
what the text around it says."""

import pathlib
import re
import subprocess
import sys

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
SNIPPETS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def snippet(marker):
    """The one snippet containing `marker`."""
    found = [code for code in SNIPPETS if marker in code]
    assert len(found) == 1, f"{len(found)} README snippets contain {marker!r}"
    return found[0]


def run(code, tmp_path, timeout=300):
    """Run `code` as a script in an empty directory; its stdout lines."""
    script = tmp_path / "snippet.py"
    script.write_text(code, encoding="utf-8")
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()


# Each snippet, by a line only it has, and what its output must show.
def check_usage(lines):
    assert float(lines[-1]) > 0.95                          # test accuracy on digits


def check_gradient_window(lines):
    norms = [float(v) for v in re.findall(r"[-+]?\d\.\d+(?:e[-+]?\d+)?", " ".join(lines[:3]))]
    assert len(norms) >= 11                                 # 11 layers' gradient norms
    assert norms[0] < norms[10] / 10                        # the first layers' vanish
    assert re.search(r"^passed", "\n".join(lines), re.M | re.I)   # the check's verdict


def check_recommended(lines):
    n_iter, best, score = lines[-1].split()
    assert int(n_iter) >= 1 and float(best) < 0 and float(score) > 0.95


def check_construction(lines):
    assert lines == []


def check_dask(lines):
    assert float(lines[-1]) > 0.85                          # one pass over the blocks


def check_onnx(lines, tmp_path):
    assert float(lines[-1]) == 1.0
    assert (tmp_path / "model.onnx").stat().st_size > 0


CASES = {
    "model.fit(X_train.astype(\"float32\"), y_train)": check_usage,
    "check_gradients(model": check_gradient_window,
    "MLPClassifier.recommended(": check_recommended,
    "n_members=4": check_construction,
    "Incremental(": check_dask,
    "to_onnx(model)": check_onnx,
}


def test_every_snippet_is_covered():
    for code in SNIPPETS:
        assert sum(marker in code for marker in CASES) == 1, code


@pytest.mark.slow                      # each snippet in a Python process of its own
@pytest.mark.parametrize("marker", CASES, ids=lambda m: re.sub(r"\W+", "_", m).strip("_"))
def test_snippet_runs(marker, tmp_path):
    check = CASES[marker]
    lines = run(snippet(marker), tmp_path)
    if check is check_onnx:
        check(lines, tmp_path)
    else:
        check(lines)
