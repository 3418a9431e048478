"""The build's promises: without OpenMP the extension still compiles and trains (serial),
and setup.py falls back with a warning, or fails when BPCORE_FAIL_NO_OPENMP=1."""

import os
import pathlib
import shutil
import subprocess
import sys
import sysconfig
import warnings

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
needs_tree = pytest.mark.skipif(
    not (ROOT / "setup.py").exists() or shutil.which("gcc") is None,
    reason="needs the source tree and gcc",
)


@pytest.mark.slow
@needs_tree
def test_serial_build_compiles_and_trains(tmp_path):
    pytest.importorskip("Cython")
    package = tmp_path / "bpcore"
    shutil.copytree(ROOT / "src" / "bpcore", package,
                    ignore=shutil.ignore_patterns("*.so", "*.c", "*.html", "__pycache__"))
    subprocess.run([sys.executable, "-m", "cython", "-3", "_network.pyx", "-o", "_network.c"],
                   cwd=package, check=True, capture_output=True)
    target = "_network" + sysconfig.get_config_var("EXT_SUFFIX")
    # no -fopenmp: prange runs serially, the omp_* calls take their stubs
    subprocess.run(["gcc", "-shared", "-fPIC", "-O1", f"-I{sysconfig.get_paths()['include']}",
                    "_network.c", "-o", target], cwd=package, check=True, capture_output=True)
    code = (
        "import warnings; warnings.simplefilter('ignore');"
        "import numpy as np, bpcore;"
        "assert bpcore.__file__.startswith(%r), bpcore.__file__;"
        "X = np.random.default_rng(0).normal(size=(200, 5)); y = (X[:, 0] > 0).astype(int);"
        "m = bpcore.MLPClassifier((8,), max_iter=50, random_state=0).fit(X, y);"
        "print(bpcore.openmp_enabled(), bpcore.effective_n_threads(), repr(m._params.tolist()))"
    ) % str(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    enabled, threads, params = out.stdout.split(maxsplit=2)
    assert enabled == "False" and threads == "1"
    # the same model as the installed (OpenMP) build trains: the chunks are the same
    import numpy as np

    import bpcore

    X = np.random.default_rng(0).normal(size=(200, 5))
    y = (X[:, 0] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = bpcore.MLPClassifier((8,), max_iter=50, random_state=0).fit(X, y)
    np.testing.assert_allclose(eval(params), reference._params, rtol=0, atol=1e-12)


@pytest.mark.slow
@needs_tree
def test_setup_falls_back_or_fails_without_openmp(monkeypatch):
    from setuptools._distutils.ccompiler import new_compiler
    from setuptools._distutils.sysconfig import customize_compiler

    source = (ROOT / "setup.py").read_text().rsplit("\nsetup(", 1)[0]
    namespace = {}
    exec(compile(source, "setup.py", "exec"), namespace)
    compiler = new_compiler()
    customize_compiler(compiler)
    assert namespace["compiles_with"](compiler, ["-fopenmp"], ["-fopenmp"])

    namespace["openmp_flags"] = lambda c: (["-fno-such-openmp-flag"], [])
    build = namespace["BuildExtOpenMP"].__new__(namespace["BuildExtOpenMP"])
    build.compiler, build.extensions = compiler, []
    monkeypatch.setattr(namespace["build_ext"], "build_extensions", lambda self: None)
    monkeypatch.delenv("BPCORE_FAIL_NO_OPENMP", raising=False)
    with pytest.warns(UserWarning, match="building a serial extension"):
        build.build_extensions()
    monkeypatch.setenv("BPCORE_FAIL_NO_OPENMP", "1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError, match="BPCORE_FAIL_NO_OPENMP=1"):
            build.build_extensions()
