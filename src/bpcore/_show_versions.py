"""What a bug report needs: bpcore's build, the system, the versions of the packages
bpcore uses and the native thread pools (BLAS, OpenMP) loaded in this process.

    python -m bpcore --show-versions
    python -c "import bpcore; bpcore.show_versions()"
"""

import platform
import sys
from importlib import metadata

# (name shown, distribution name) of what bpcore needs, then of what it can use
REQUIRED = [("numpy", "numpy"), ("scipy", "scipy"), ("scikit-learn", "scikit-learn"),
            ("threadpoolctl", "threadpoolctl"), ("Cython", "Cython")]
OPTIONAL = [("tqdm", "tqdm"), ("matplotlib", "matplotlib"), ("pandas", "pandas"),
            ("dask", "dask"), ("distributed", "distributed"), ("dask_ml", "dask-ml"),
            ("onnx", "onnx"), ("onnxruntime", "onnxruntime"), ("torch", "torch")]
THREADPOOL_FIELDS = ("internal_api", "version", "num_threads", "filepath")


def _installed(distribution):
    """The installed version of a distribution, read from its metadata (nothing is
    imported), or None."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _bpcore_info():
    import bpcore
    from bpcore import _network

    return {
        "version": bpcore.__version__,
        "file": bpcore.__file__,
        "extension": _network.__file__,
        "built with OpenMP": bpcore.openmp_enabled(),
        "effective_n_threads": bpcore.effective_n_threads(),
    }


def _system_info():
    return {
        "python": sys.version.replace("\n", " "),
        "executable": sys.executable,
        "machine": platform.platform(),
        "processor": platform.machine(),
    }


def _threadpool_info():
    """threadpoolctl's record of each BLAS and OpenMP library loaded, bpcore's
    extension (and so its OpenMP runtime) included."""
    from threadpoolctl import threadpool_info

    from bpcore import _network  # noqa: F401 - loads the extension's OpenMP runtime

    return [{"user_api": lib.get("user_api"), **{key: lib.get(key) for key in THREADPOOL_FIELDS}}
            for lib in threadpool_info()]


def versions_info():
    """Everything ``show_versions`` prints, as a dict of sections."""
    return {
        "bpcore": _bpcore_info(),
        "system": _system_info(),
        "dependencies": {name: _installed(dist) for name, dist in REQUIRED},
        "optional dependencies": {name: _installed(dist) for name, dist in OPTIONAL},
        "threadpools": _threadpool_info(),
    }


def _section(title, items, missing="not installed"):
    width = max(len(key) for key in items)
    lines = [f"{title}:"] if title else []
    for key, value in items.items():
        lines.append(f"{key:>{width + 4}}: {missing if value is None else value}")
    return lines


def format_versions(info):
    """The text ``show_versions`` prints for a ``versions_info()`` dict."""
    lines = _section("bpcore", info["bpcore"])
    lines += [""] + _section("System", info["system"])
    lines += [""] + _section("Python dependencies", info["dependencies"])
    lines += [""] + _section("Optional dependencies", info["optional dependencies"])
    lines += ["", "threadpoolctl info (BLAS and OpenMP libraries loaded):"]
    if not info["threadpools"]:
        lines.append("    none found")
    for lib in info["threadpools"]:
        lines += [""] + _section(None, lib, missing="unknown")
    return "\n".join(lines)


def show_versions(*, as_dict=False):
    """Print bpcore's build, the system and the versions bpcore depends on.

    For bug reports: bpcore's version, where it is installed and whether its
    extension was built with OpenMP; the thread count its parallel regions use now
    (``effective_n_threads``); Python and the platform; numpy, scipy, scikit-learn,
    threadpoolctl and Cython; the optional packages (tqdm, matplotlib, pandas, dask,
    distributed, dask_ml, onnx, onnxruntime, torch), each as its version or "not
    installed"; and threadpoolctl's record of the BLAS and OpenMP libraries loaded
    in the process (internal API, version, threads, file).

    Versions are read from the installed packages' metadata: nothing optional is
    imported.  ``python -m bpcore --show-versions`` prints the same.

    Parameters
    ----------
    as_dict : bool, default=False
        Return the information as a dict (sections 'bpcore', 'system',
        'dependencies', 'optional dependencies', 'threadpools') instead of printing it.

    Returns
    -------
    dict or None
    """
    info = versions_info()
    if as_dict:
        return info
    print(format_versions(info))
    return None
