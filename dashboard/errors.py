"""Errors the dashboard and the API turn into a clear 4xx: JSON ``{"error": Type, "message": ...}`` for the API."""

from __future__ import annotations

from collections.abc import Mapping


class ApiError(Exception):
    def __init__(self, status: int, kind: str, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.message = message
        self.headers = dict(headers or {})

    def as_json(self) -> dict[str, str]:
        return {"error": self.kind, "message": self.message}

    def as_sentence(self) -> str:
        """The message as a page says it beside a form: "That is not the household passphrase; nothing was changed." """
        message = str(self.message)
        return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")
