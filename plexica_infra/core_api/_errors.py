"""Errors the emulator answers with: always JSON `{"error", "message", ...}`."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

__all__ = ["ApiError", "RawApiError", "V1ApiError", "error_response"]


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


class V1ApiError(ApiError):
    """An error in the real Core API's shape: `{"error": {"code", "message"}}` (plexica-v1)."""

    def response(self) -> JSONResponse:
        return JSONResponse(
            {"error": {"code": self.error, "message": self.message}},
            status_code=self.status_code,
            headers=self.headers,
        )


class RawApiError(ApiError):
    """An error whose body is given whole: Fastify's own answers, the real service registry's."""

    def __init__(self, status_code: int, body: dict[str, Any]) -> None:
        super().__init__(status_code, str(body.get("error", "")), str(body.get("message", body.get("error", ""))))
        self.body = body

    def response(self) -> JSONResponse:
        return JSONResponse(self.body, status_code=self.status_code, headers=self.headers)
