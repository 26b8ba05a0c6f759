"""The two forms GeoReport v2 answers in: `.json` and `.xml` (root element, one element
per item, nested lists named as the spec names them), and its error format."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from fastapi.responses import JSONResponse, Response

from app.services.errors import Conflict, NotAllowed, NotFound

FORMATS = ("json", "xml")

LIST_ITEMS = {
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}
"""The element of each item of a nested list, by the list's name."""


class Open311Error(Exception):
    """Answered as the spec's error list with this HTTP status."""

    def __init__(self, status: int, description: str, fmt: str = "json") -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.fmt = fmt


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise Open311Error(404, f"不支持的格式 .{fmt[:20]}：请用 .json 或 .xml。")
    return fmt


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(parent: Element, item: Mapping[str, Any]) -> None:
    for key, value in item.items():
        child = SubElement(parent, key)
        if isinstance(value, list):
            for entry in value:
                grandchild = SubElement(child, LIST_ITEMS.get(key, "item"))
                if isinstance(entry, Mapping):
                    _fill(grandchild, entry)
                else:
                    grandchild.text = _text(entry)
        elif isinstance(value, Mapping):
            _fill(child, value)
        elif value is not None:
            child.text = _text(value)


def xml_document(root: str, item: str | None, body: Any) -> bytes:
    """`body` (a list of items under `root`, each as `item`, or one mapping as `root`)."""
    top = Element(root)
    if item is None:
        _fill(top, body)
    else:
        for entry in body:
            _fill(SubElement(top, item), entry)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + tostring(top, encoding="unicode").encode()


def answer(fmt: str, body: Any, *, root: str, item: str | None, status: int = 200) -> Response:
    if fmt == "xml":
        return Response(
            xml_document(root, item, body),
            status_code=status,
            media_type="text/xml; charset=utf-8",
        )
    return JSONResponse(body, status_code=status)


def error_answer(fmt: str, status: int, description: str) -> Response:
    return answer(
        fmt if fmt in FORMATS else "json",
        [{"code": status, "description": description}],
        root="errors",
        item="error",
        status=status,
    )


def rows(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [dict(i) for i in items]


def refusal(exc: Exception, fmt: str) -> Open311Error:
    """A use case's refusal as the spec's error: not found 404, not allowed 403, a state
    that does not allow it 409, anything else the caller sent wrong 400."""
    status = 400
    if isinstance(exc, NotFound):
        status = 404
    elif isinstance(exc, NotAllowed):
        status = 403
    elif isinstance(exc, Conflict):
        status = 409
    return Open311Error(status, getattr(exc, "message", str(exc)), fmt)
