"""Errors that reach a person: one clear line and an exit code, never a traceback."""

from __future__ import annotations


class CommandError(Exception):
    """A failure the command line reports as one line on stderr."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# A second `breather serve` for a home: not a failure to restart after (the login unit's RestartPreventExitStatus
# names it, or systemd would start it again every few seconds beside the service that won).
EXIT_ALREADY_RUNNING = 3
