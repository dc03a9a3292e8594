"""The app with its services in reach, for tests that run a monitor pass: the arrangements' fixture."""

from tests.arrangements.conftest import Running, running

__all__ = ["Running", "running"]
