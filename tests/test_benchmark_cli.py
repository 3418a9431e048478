"""The benchmark scripts and examples as command lines: `--help` answers without
running anything, and nothing is written over tracked files unless asked for."""

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCRIPTS = sorted(p.name for p in (ROOT / "benchmarks").glob("*.py"))


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS)
def test_every_benchmark_answers_help(script):
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), "--help"],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("usage:"), run.stdout[:200]


@pytest.mark.slow
def test_report_writes_its_plot_only_where_asked(tmp_path):
    pytest.importorskip("matplotlib")
    results = tmp_path / "results.json"
    results.write_text('[{"workload": "W-small", "unit": "s/epoch", '
                       '"times": {"bpcore": 0.001, "scikit-learn": 0.004}, '
                       '"gflops": 50.0, "peak_fraction": 0.25, "peak_gflops": 200.0}]')
    tracked = ROOT / "benchmarks" / "speedups.png"
    before = tracked.stat().st_mtime_ns if tracked.exists() else None
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "report.py"), str(results)],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "| W-small | 0.001 s/epoch | 0.004 (4.00×)" in run.stdout
    assert list(tmp_path.iterdir()) == [results]
    assert (tracked.stat().st_mtime_ns if tracked.exists() else None) == before
    picture = tmp_path / "speedups.png"
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "report.py"), str(results),
                          "--plot", str(picture)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert picture.stat().st_size > 1000


@pytest.mark.slow
def test_onnx_example_leaves_no_file_behind(tmp_path):
    pytest.importorskip("onnxruntime")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    run = subprocess.run([sys.executable, str(ROOT / "examples" / "onnx_export.py")],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr
    assert "labels agree: True" in run.stdout
    assert list(tmp_path.iterdir()) == []
    target = tmp_path / "model.onnx"
    run = subprocess.run([sys.executable, str(ROOT / "examples" / "onnx_export.py"), str(target)],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr
    assert target.stat().st_size > 1000
