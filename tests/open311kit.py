"""A small Open311 GeoReport v2 client written from the specification (wiki.open311.org)
and mySociety's updates extension, not from gridbot's code: it knows the spec's paths,
parameters and element names, and reads the XML form back into plain dicts.

Every XML answer is checked to be well formed, UTF-8 declared, with the spec's root and
item elements.
"""

from __future__ import annotations

from xml.etree import ElementTree

from fastapi.testclient import TestClient

# Element names from the spec's examples: the list root, each item, nested lists.
NESTED = {"attributes", "values", "endpoints", "formats"}


def _read(element: ElementTree.Element):
    children = list(element)
    if not children:
        return element.text or ""
    if element.tag in NESTED:
        return [_read(child) for child in children]
    return {child.tag: _read(child) for child in children}


def parse_xml(body: bytes, root: str, item: str | None):
    assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>'), body[:80]
    top = ElementTree.fromstring(body)
    assert top.tag == root, top.tag
    if item is None:
        return _read(top)
    assert all(child.tag == item for child in top), [c.tag for c in top]
    return [_read(child) for child in top]


class Open311:
    """Calls one GeoReport v2 endpoint in one format."""

    def __init__(self, http: TestClient, fmt: str = "json", api_key: str | None = None):
        self.http = http
        self.fmt = fmt
        self.api_key = api_key
        self.base = "/open311/v2"

    def _answer(self, response, root: str, item: str | None):
        if response.status_code >= 400:
            errors = self._errors(response)
            return response.status_code, errors
        if self.fmt == "xml":
            assert response.headers["content-type"].startswith("text/xml")
            return response.status_code, parse_xml(response.content, root, item)
        return response.status_code, response.json()

    def _errors(self, response):
        if self.fmt == "xml":
            return parse_xml(response.content, "errors", "error")
        return response.json()

    def _key(self, params: dict) -> dict:
        if self.api_key is not None:
            params = {"api_key": self.api_key, **params}
        return params

    def discovery(self):
        r = self.http.get(f"/open311/discovery.{self.fmt}")
        return self._answer(r, "discovery", None)

    def services(self):
        r = self.http.get(f"{self.base}/services.{self.fmt}")
        return self._answer(r, "services", "service")

    def service_definition(self, code: str):
        r = self.http.get(f"{self.base}/services/{code}.{self.fmt}")
        return self._answer(r, "service_definition", None)

    def post_request(self, **fields):
        r = self.http.post(f"{self.base}/requests.{self.fmt}", data=self._key(fields))
        return self._answer(r, "service_requests", "request")

    def requests(self, **params):
        r = self.http.get(f"{self.base}/requests.{self.fmt}", params=self._key(params))
        return self._answer(r, "service_requests", "request")

    def request(self, service_request_id):
        r = self.http.get(
            f"{self.base}/requests/{service_request_id}.{self.fmt}", params=self._key({})
        )
        return self._answer(r, "service_requests", "request")

    def updates(self, **params):
        r = self.http.get(f"{self.base}/servicerequestupdates.{self.fmt}", params=self._key(params))
        return self._answer(r, "service_requests_updates", "request_update")

    def post_update(self, **fields):
        r = self.http.post(f"{self.base}/servicerequestupdates.{self.fmt}", data=self._key(fields))
        return self._answer(r, "service_request_updates", "request_update")
