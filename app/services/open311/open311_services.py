"""The Open311 service list: one service per problem category (app/domain/categories.py).

A category whose policy has shorter deadlines for severe problems offers a `severity`
attribute; a request with severity=severe gets those deadlines, as a rider's report
whose words say 危险 or 无法通行 does.
"""

from __future__ import annotations

from typing import Any

from app.domain.categories import Category
from app.domain.policy import Policy

SEVERITY = "severity"
SEVERITY_VALUES = (("normal", "一般"), ("severe", "严重（危险、无法通行、有人受伤）"))


def service_code(code: str) -> Category | None:
    try:
        return Category(code)
    except ValueError:
        return None


def has_severity(category: Category, policy: Policy) -> bool:
    rules = policy.for_category(category.value)
    return rules.severe != rules.normal


def service(category: Category, policy: Policy) -> dict[str, Any]:
    return {
        "service_code": category.value,
        "service_name": category.label,
        "description": f"{category.major_class} · {category.label}",
        "metadata": has_severity(category, policy),
        "type": "realtime",
        "keywords": ",".join(category.keywords),
        "group": category.major_class,
    }


def services(policy: Policy) -> list[dict[str, Any]]:
    return [service(c, policy) for c in Category]


def definition(category: Category, policy: Policy) -> dict[str, Any]:
    attributes = []
    if has_severity(category, policy):
        attributes.append(
            {
                "variable": True,
                "code": SEVERITY,
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": "normal 或 severe",
                "order": 1,
                "description": "严重程度：严重的问题处置时限更短",
                "values": [{"key": k, "name": n} for k, n in SEVERITY_VALUES],
            }
        )
    return {"service_code": category.value, "attributes": attributes}
