"""The one error the tally engine raises, with a stable code for the web layer to map."""

from __future__ import annotations


class TallyError(ValueError):
    """A profile, option or file the engine cannot tally; ``code`` is stable, ``message`` human."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
