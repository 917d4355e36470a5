"""Errors of the perception stage, and the one place secrets are scrubbed from messages.

Every error a parser raises is a `PerceptionError` whose message is one line naming the input
(the image, the model, the server) and the problem. API keys never reach a message: the parsers
pass every text that may contain server output through `redact` first.
"""

from __future__ import annotations

import re


class PerceptionError(Exception):
    """A parser could not produce a coarse URDF; the message says which input and why."""


class StatusError(PerceptionError):
    """An HTTP error that retrying will not fix; `status` says which."""

    def __init__(self, message: str, status: int = 0):
        super().__init__(message)
        self.status = status


class CoarseURDFError(PerceptionError, ValueError):
    """A coarse URDF answer breaks the schema in a way repair cannot fix; lists every problem."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = list(problems)
        super().__init__(f"coarse URDF from {source} cannot be repaired: " + "; ".join(problems))


# Key-like tokens: OpenAI keys ("sk-...", "sk-proj-..."), also when a server echoes them masked.
_KEY_PATTERN = re.compile(r"\b(sk|rk|pk)-[A-Za-z0-9_\-*.]{6,}")
_BEARER_PATTERN = re.compile(r"(?i)(bearer\s+)[^\s'\"]+")


def redact(text: str, *secrets: str | None) -> str:
    """`text` with every given secret, any key-like token and bearer credentials masked."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
            # Servers echo parts of a wrong key ("sk-abc1****wxyz"): hide long fragments too.
            for fragment in (secret[:12], secret[-8:]):
                if len(fragment) >= 8:
                    text = text.replace(fragment, "[redacted]")
    text = _KEY_PATTERN.sub("[redacted]", text)
    return _BEARER_PATTERN.sub(r"\1[redacted]", text)
