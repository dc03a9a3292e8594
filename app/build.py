"""What is running: the package's version, read from its installed metadata."""

from __future__ import annotations

import platform
from functools import cache
from importlib.metadata import PackageNotFoundError, version


@cache
def package_version() -> str:
    try:
        return version("creditgate")
    except PackageNotFoundError:  # a checkout on the path without `pip install`
        return "0+unknown"


def python_version() -> str:
    return platform.python_version()
