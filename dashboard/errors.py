"""Errors the dashboard and the API turn into a clear 4xx: JSON ``{"error": Type, "message": ...}`` for the API."""

from __future__ import annotations

from collections.abc import Mapping

# The form field a refusal of this kind is about, where whoever refuses cannot know the form (the passphrase is
# checked far from any page). A field is named as the form posts it.
FIELD_OF_KIND = {
    "WrongPassphrase": "passphrase",
    "PassphraseMissing": "passphrase",
    "WeakPassphrase": "new_passphrase",
    "PassphraseMismatch": "confirm_passphrase",
    "ReasonNeeded": "reason",
    "GoalTooLong": "goal",
}


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        kind: str,
        message: str,
        headers: Mapping[str, str] | None = None,
        field: str | None = None,
        more_fields: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.message = message
        self.headers = dict(headers or {})
        self.field = field or FIELD_OF_KIND.get(kind)
        # Every field at fault, the first being ``field``: a form refused for several fields marks each.
        self.fields = tuple(dict.fromkeys(([self.field] if self.field else []) + list(more_fields)))

    @classmethod
    def invalid_fields(cls, status: int, message: str, fields: list[str]) -> ApiError:
        """A form refused for every one of ``fields`` (the first named first), each marked at the form."""
        return cls(status, "InvalidField", message, field=fields[0], more_fields=tuple(fields[1:]))

    def as_json(self) -> dict[str, str]:
        return {"error": self.kind, "message": self.message}

    def as_sentence(self) -> Refusal:
        """The message as a page says it beside a form: "That is not the household passphrase; nothing was changed." """
        message = str(self.message)
        return Refusal(message[:1].upper() + message[1:] + ("" if message.endswith(".") else "."), self.field)


class Refusal(str):
    """A refusal's sentence, shown beside its form, that knows the field it is about (``field``, None for the form
    as a whole): the page marks that field invalid and described by the sentence, so a screen reader tabbing back
    to it hears what was wrong."""

    field: str | None

    def __new__(cls, sentence: str, field: str | None = None) -> Refusal:
        made = super().__new__(cls, sentence)
        made.field = field
        return made
