"""The one error the API answers with: `{"error": {"code", "message", "details"}}`."""

from __future__ import annotations

from typing import Any

from portplan.errors import PortplanError


class ApiError(PortplanError):
    """An expected failure of a request: its HTTP status, a stable code and details."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.details = details

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": str(self), "details": self.details}}


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")
