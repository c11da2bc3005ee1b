"""Helpers for tests: real infrastructure (infra), service processes (process), ports."""

from tests.support.ports import free_port
from tests.support.process import ManagedProcess, ProcessFailed

__all__ = ["ManagedProcess", "ProcessFailed", "free_port"]
