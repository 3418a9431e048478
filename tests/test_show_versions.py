"""bpcore.show_versions and the command line `python -m bpcore`."""

import os
import subprocess
import sys
from importlib import metadata

import numpy as np
import pytest
import scipy
import sklearn
import threadpoolctl

import bpcore
from bpcore import _show_versions
from bpcore.__main__ import main

SRC = os.path.dirname(os.path.dirname(bpcore.__file__))


def run(*args):
    """`python -m bpcore ARGS` on this tree's bpcore."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [SRC] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []))}
    return subprocess.run([sys.executable, "-m", "bpcore", *args], capture_output=True,
                          text=True, env=env, timeout=120)


def test_main_prints_the_version_the_report_or_the_help(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"bpcore {bpcore.__version__}\n"
    assert main(["--show-versions"]) == 0
    assert capsys.readouterr().out == _show_versions.format_versions(
        _show_versions.versions_info()) + "\n"
    assert main([]) == 0
    assert capsys.readouterr().out.startswith("usage: python -m bpcore")
    with pytest.raises(SystemExit) as exit_:
        main(["--bogus"])
    assert exit_.value.code == 2


# the same through a new interpreter (about 1.5 s each: marked slow)
@pytest.mark.slow
def test_version_from_the_command_line():
    result = run("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"bpcore {bpcore.__version__}\n"


def test_the_version_has_one_source():
    tomllib = pytest.importorskip("tomllib")
    pyproject = os.path.join(os.path.dirname(os.path.dirname(__file__)), "pyproject.toml")
    if os.path.exists(pyproject):
        with open(pyproject, "rb") as f:
            project = tomllib.load(f)
        assert "version" in project["project"]["dynamic"]
        assert project["tool"]["setuptools"]["dynamic"]["version"] == {
            "attr": "bpcore._version.__version__"}
    try:
        installed = metadata.version("bpcore")
    except metadata.PackageNotFoundError:
        pytest.skip("bpcore is not installed (only on the path)")
    assert bpcore.__version__ == installed


@pytest.mark.slow
def test_help_explains_the_options():
    result = run("--help")
    assert result.returncode == 0
    assert "usage: python -m bpcore" in result.stdout
    assert "--show-versions" in result.stdout and "--version" in result.stdout
    assert run().stdout == result.stdout          # no option: the help
    wrong = run("--no-such-option")
    assert wrong.returncode == 2 and "unrecognized arguments: --no-such-option" in wrong.stderr


@pytest.mark.slow
def test_show_versions_from_the_command_line():
    result = run("--show-versions")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    lines = [line.strip() for line in out.splitlines()]
    assert f"version: {bpcore.__version__}" in lines
    assert f"built with OpenMP: {bpcore.openmp_enabled()}" in lines
    assert f"numpy: {np.__version__}" in lines
    assert f"scipy: {scipy.__version__}" in lines
    assert f"scikit-learn: {sklearn.__version__}" in lines
    assert f"threadpoolctl: {threadpoolctl.__version__}" in lines
    assert any(line.startswith("effective_n_threads: ") for line in lines)
    for section in ("bpcore:", "System:", "Python dependencies:", "Optional dependencies:",
                    "threadpoolctl info (BLAS and OpenMP libraries loaded):"):
        assert section in lines
    # numpy's BLAS is loaded, and bpcore's OpenMP runtime when it was built with one
    assert "user_api: blas" in lines
    assert ("user_api: openmp" in lines) == bpcore.openmp_enabled()


def test_show_versions_prints_or_returns(capsys):
    assert "show_versions" in bpcore.__all__
    info = bpcore.show_versions(as_dict=True)
    assert capsys.readouterr().out == ""
    assert set(info) == {"bpcore", "system", "dependencies", "optional dependencies",
                         "threadpools"}
    assert info["bpcore"]["version"] == bpcore.__version__
    assert info["bpcore"]["file"] == bpcore.__file__
    assert info["bpcore"]["built with OpenMP"] == bpcore.openmp_enabled()
    assert info["bpcore"]["effective_n_threads"] == bpcore.effective_n_threads()
    assert info["dependencies"]["numpy"] == metadata.version("numpy")
    assert set(info["optional dependencies"]) == {
        "tqdm", "matplotlib", "pandas", "dask", "distributed", "dask_ml", "onnx",
        "onnxruntime", "torch"}
    assert all({"user_api", "internal_api", "version", "num_threads", "filepath"} == set(lib)
               for lib in info["threadpools"])
    assert bpcore.show_versions() is None
    assert capsys.readouterr().out == _show_versions.format_versions(info) + "\n"


def test_a_missing_package_shows_as_not_installed(monkeypatch, capsys):
    real = metadata.version

    def version(name):
        if name in ("torch", "dask-ml"):
            raise metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(_show_versions.metadata, "version", version)
    bpcore.show_versions()
    lines = [line.strip() for line in capsys.readouterr().out.splitlines()]
    assert "torch: not installed" in lines and "dask_ml: not installed" in lines
    assert f"numpy: {np.__version__}" in lines
