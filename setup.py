"""Build bpcore's Cython extension, with OpenMP when the compiler has it.

The OpenMP flags are found by compiling and linking a small test program with
the compiler setuptools picked.  When that fails the extension is built serial
(``prange`` runs on one thread) with a warning, unless ``BPCORE_FAIL_NO_OPENMP=1``
is set, in which case the build fails: release wheels must never be serial.

``BPCORE_ANNOTATE=1`` writes Cython's ``.html`` annotation beside each ``.pyx``.
"""

import os
import sys
import tempfile
import textwrap
import warnings

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

OPENMP_TEST_PROGRAM = textwrap.dedent(
    """
    #include <omp.h>
    #include <stdio.h>
    int main(void) {
        int n = 0;
        #pragma omp parallel reduction(+:n)
        n += 1;
        printf("%d threads of %d\\n", n, omp_get_max_threads());
        return 0;
    }
    """
)


def openmp_flags(compiler):
    """(compile args, link args) for OpenMP with this compiler, by its kind."""
    if compiler.compiler_type == "msvc":
        return ["/openmp"], []
    if sys.platform == "darwin":
        # Apple clang has no -fopenmp driver flag; libomp comes from the
        # environment (CPPFLAGS/LDFLAGS point at its include and lib folders).
        return ["-Xpreprocessor", "-fopenmp"], ["-lomp"]
    return ["-fopenmp"], ["-fopenmp"]


def compiles_with(compiler, compile_args, link_args):
    """True when the OpenMP test program compiles and links with these flags."""
    with tempfile.TemporaryDirectory() as tmp:
        source = os.path.join(tmp, "test_openmp.c")
        with open(source, "w") as f:
            f.write(OPENMP_TEST_PROGRAM)
        try:
            objects = compiler.compile(
                [source], output_dir=tmp, extra_postargs=compile_args
            )
            compiler.link_executable(
                objects, "test_openmp", output_dir=tmp, extra_postargs=link_args
            )
        except Exception:  # distutils raises CompileError/LinkError, both vary
            return False
    return True


class BuildExtOpenMP(build_ext):
    def build_extensions(self):
        compile_args, link_args = openmp_flags(self.compiler)
        if compiles_with(self.compiler, compile_args, link_args):
            print(f"bpcore: building with OpenMP ({' '.join(compile_args)})")
        else:
            message = (
                "bpcore: the compiler could not build an OpenMP program with "
                f"{compile_args + link_args}; "
            )
            if os.environ.get("BPCORE_FAIL_NO_OPENMP", "0") == "1":
                raise RuntimeError(message + "BPCORE_FAIL_NO_OPENMP=1, so the build stops.")
            warnings.warn(message + "building a serial extension (one thread).")
            compile_args, link_args = [], []
        if self.compiler.compiler_type == "msvc":
            optimise = ["/O2"]
        else:
            # -fno-math-errno lets sqrt vectorise (IEEE results are unchanged; only errno
            # is not set, and bpcore never reads it).  No -ffast-math, no -march.
            optimise = ["-O3", "-g0", "-fno-math-errno"]
        for ext in self.extensions:
            ext.extra_compile_args = optimise + compile_args + ext.extra_compile_args
            ext.extra_link_args = link_args + ext.extra_link_args
        super().build_extensions()


def extensions():
    from Cython.Build import cythonize

    modules = [
        Extension("bpcore._network", ["src/bpcore/_network.pyx"]),
    ]
    return cythonize(
        modules,
        compiler_directives={
            "language_level": "3",
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
            "nonecheck": False,
        },
        annotate=os.environ.get("BPCORE_ANNOTATE", "0") == "1",
    )


setup(ext_modules=extensions(), cmdclass={"build_ext": BuildExtOpenMP})
