"""Form posts read without a multipart parser: the dashboard's forms are URL-encoded only."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs

from fastapi import Request

from .errors import WebError

LIMIT = 1024 * 1024
"""Bytes: a policy text with its test cases fits many times over."""


class BadForm(WebError):
    status, code = 400, "invalid-form"


class TooLarge(WebError):
    status, code = 413, "too-large"


@dataclass(frozen=True, slots=True)
class Form:
    fields: dict[str, list[str]]

    def get(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[0] if values else default

    def all(self, name: str) -> list[str]:
        return list(self.fields.get(name, []))


async def read_form(request: Request) -> Form:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not kind and request.headers.get("content-length", "0") == "0":
        return Form({})
    if kind != "application/x-www-form-urlencoded":
        raise BadForm("send the form as application/x-www-form-urlencoded")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > LIMIT:
            raise TooLarge(f"a form may be at most {LIMIT} bytes")
    try:
        text = body.decode("utf-8")
        fields = parse_qs(text, keep_blank_values=True, strict_parsing=False,
                          max_num_fields=2000)
    except (UnicodeDecodeError, ValueError):
        raise BadForm("the form is not UTF-8 URL-encoded text") from None
    return Form(fields)
