"""The one exception a rule raises to refuse a change. Every app's services raise it (or a
subclass), and views show its message on the page, so it sits apart from any one service."""


class RegisterError(Exception):
    """A register rule refused the change. The message is written for the person using the page."""
