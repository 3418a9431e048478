"""``python -m bpcore``: the installed version, and the report bug reports need."""

import argparse
import sys


def main(argv=None):
    from ._version import __version__

    parser = argparse.ArgumentParser(
        prog="python -m bpcore",
        description="bpcore: compiled backpropagation for fully-connected networks, as "
                    "scikit-learn estimators.",
        epilog="The demonstration on scikit-learn's digits: python -m bpcore.demo",
    )
    parser.add_argument("--version", action="version", version=f"bpcore {__version__}",
                        help="print bpcore's version and exit")
    parser.add_argument("--show-versions", action="store_true",
                        help="print bpcore's build (OpenMP, threads), the system, the "
                             "versions of its dependencies and the BLAS and OpenMP "
                             "libraries loaded: what a bug report needs")
    args = parser.parse_args(argv)
    if args.show_versions:
        from ._show_versions import show_versions

        show_versions()
    else:
        parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
