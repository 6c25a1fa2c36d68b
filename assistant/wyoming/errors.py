"""What a client did wrong, as the ``error`` event it gets back (the connection lives on)."""

from __future__ import annotations


class ClientError(Exception):
    """``code`` is stable and greppable; ``message`` tells the client what to send instead."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
