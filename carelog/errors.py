"""The one error a use case raises when it refuses its input, shared by every capability."""

from __future__ import annotations


class FieldError(ValueError):
    """Input a use case refuses: the form field to point at (if any) and why, in plain words.

    Views show the message beside that field, or at the top of the form when there is none;
    other clients get it in a 4xx answer. Nothing has been saved when it is raised.
    """

    def __init__(self, field: str | None, message: str):
        super().__init__(message)
        self.field = field
        self.message = message
