"""The operations console: server-rendered pages under /console for leads and supervisors.

`install(app)` adds its routers, its static files (CSS, a little JS, vendored Leaflet,
the icon, also at /favicon.ico)
and the answers to "not signed in" (a redirect to the sign-in page) and "bad form token"
(403).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from app.web.console import actions, admin, admin_grids, auth, dashboard, export, map, pages
from app.web.console.auth import SIGN_IN_PAGE, BadCsrf, SignInRequired
from app.web.console.templating import HERE, render


async def _sign_in(request: Request, exc: Exception):
    if request.url.path.endswith(".json"):
        from fastapi.responses import JSONResponse

        return JSONResponse({"error": "请先登录控制台"}, status_code=401)
    return RedirectResponse(SIGN_IN_PAGE, status_code=303)


def _favicon() -> FileResponse:
    """What a browser asks for on any page without a <link rel=icon> (it logged a 404)."""
    return FileResponse(
        HERE / "static" / "favicon.svg",
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )


async def _bad_csrf(request: Request, exc: Exception):
    message = "表单已失效（可能来自其他网站或登录已更新），请刷新页面后重试。"
    return render(request, "refused.html", 403, message=message)


def install(app: FastAPI) -> None:
    app.include_router(auth.router)
    app.include_router(map.router)
    app.include_router(export.router)
    app.include_router(pages.router)
    app.include_router(dashboard.router)
    app.include_router(admin.router)
    app.include_router(admin_grids.router)
    app.include_router(actions.router)
    app.add_api_route("/favicon.ico", _favicon, include_in_schema=False)
    app.mount("/console/static", StaticFiles(directory=HERE / "static"), name="console-static")
    app.add_exception_handler(SignInRequired, _sign_in)
    app.add_exception_handler(BadCsrf, _bad_csrf)
