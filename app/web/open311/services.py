"""GET /open311/v2/services.{fmt} and /open311/v2/services/{code}.{fmt}."""

from __future__ import annotations

from fastapi import APIRouter

from app.services.open311 import open311_services as catalogue
from app.web.deps import PolicyDep
from app.web.open311.formats import Open311Error, answer, check_format

router = APIRouter(prefix="/open311/v2", tags=["open311"])


@router.get("/services.{fmt}")
def service_list(fmt: str, policy: PolicyDep):
    fmt = check_format(fmt)
    body = catalogue.services(policy)
    return answer(fmt, body, root="services", item="service")


@router.get("/services/{code}.{fmt}")
def service_definition(code: str, fmt: str, policy: PolicyDep):
    fmt = check_format(fmt)
    category = catalogue.service_code(code)
    if category is None:
        raise Open311Error(404, f"没有编码为 {code[:40]} 的服务（service_code）。", fmt)
    body = catalogue.definition(category, policy)
    return answer(fmt, body, root="service_definition", item=None)
