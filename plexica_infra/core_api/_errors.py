"""Errors the emulator answers with: always JSON `{"error", "message", ...}`."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

__all__ = ["ApiError", "error_response"]


class ApiError(Exception):
    """Raised by a handler; becomes one JSON error response.

    `error` is a stable machine-readable code, `message` a sentence for people,
    and `extra` more fields merged into the body (e.g. `currentState`).
    """

    def __init__(
        self,
        status_code: int,
        error: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.error = error
        self.message = message
        self.headers = headers
        self.extra = extra

    def response(self) -> JSONResponse:
        return error_response(self.status_code, self.error, self.message, headers=self.headers, **self.extra)


def error_response(
    status_code: int,
    error: str,
    message: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    return JSONResponse({"error": error, "message": message, **extra}, status_code=status_code, headers=headers)
