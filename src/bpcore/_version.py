# The one place bpcore's version is written: pyproject.toml reads it
# ([tool.setuptools.dynamic]), bpcore.__version__ and `python -m bpcore --version` show it.
__version__ = "0.1.0"
