"""No Python interaction in the hot loops, by Cython's own annotation (`cython -a`).

Every line of the kernels (`noexcept nogil` functions) and of the epoch loop (the
`with nogil:` block of train_epoch) must be white, except the `prange` headers
(Cython's scaffolding for exceptions from parallel blocks; no Python call runs) and
the one deliberate interaction: the signal check between batches, so that Ctrl-C
stops a fit.
"""

import html
import pathlib
import re
import subprocess
import sys

import pytest

SOURCE = pathlib.Path(__file__).resolve().parents[1] / "src" / "bpcore" / "_network.pyx"
ALLOWED = ("prange(", "with gil:", "PyErr_CheckSignals()")


def hot_lines(source_lines):
    """Line numbers of the kernels' bodies and of the epoch loop's nogil block."""
    hot = set()
    number = 0
    current_def = None
    while number < len(source_lines):
        line = source_lines[number]
        if line.startswith("def "):
            current_def = line[4:].split("(")[0]
        if line.startswith("cdef ") and "(" in line:
            # a function: read its (possibly multi-line) signature
            signature_end = number
            while not source_lines[signature_end].rstrip().endswith(":"):
                signature_end += 1
            signature = " ".join(source_lines[number : signature_end + 1])
            number = signature_end + 1
            if "noexcept nogil" in signature:
                while number < len(source_lines) and (
                    not source_lines[number] or source_lines[number][0].isspace()
                ):
                    hot.add(number + 1)
                    number += 1
            continue
        if line.strip() == "with nogil:" and current_def == "train_epoch":
            indent = len(line) - len(line.lstrip())
            number += 1
            while number < len(source_lines) and (
                not source_lines[number].strip()
                or len(source_lines[number]) - len(source_lines[number].lstrip()) > indent
            ):
                hot.add(number + 1)
                number += 1
            continue
        number += 1
    return {n for n in hot if source_lines[n - 1].strip() and not source_lines[n - 1].strip().startswith("#")}


@pytest.mark.slow
@pytest.mark.skipif(not SOURCE.exists(), reason="needs the source tree")
def test_hot_loops_are_white(tmp_path):
    pytest.importorskip("Cython")
    subprocess.run(
        [sys.executable, "-m", "cython", "-3", "-a", str(SOURCE), "-o", str(tmp_path / "n.c")],
        check=True, capture_output=True,
    )
    annotated = (tmp_path / "n.html").read_text(encoding="utf-8")
    scores = {}
    for match in re.finditer(
        r'<pre class="cython line score-(\d+)"[^>]*>\+?<span class="">(\d+)</span>: (.*?)</pre>',
        annotated,
    ):
        scores[int(match.group(2))] = (int(match.group(1)), html.unescape(re.sub("<[^>]+>", "", match.group(3))))
    source_lines = SOURCE.read_text(encoding="utf-8").splitlines()
    hot = hot_lines(source_lines)
    assert len(hot) > 100  # the kernels were found
    yellow = [
        f"{n}: {scores[n][1].strip()}"
        for n in sorted(hot)
        if n in scores and scores[n][0] > 0 and not any(a in scores[n][1] for a in ALLOWED)
    ]
    assert not yellow, "Python interaction in hot loops:\n" + "\n".join(yellow)
