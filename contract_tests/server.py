"""The suite's name for :mod:`mockserver.background` (a mock on a free loopback port)."""

from mockserver.background import BackgroundServer, free_port, serve_in_thread

__all__ = ["BackgroundServer", "free_port", "serve_in_thread"]
