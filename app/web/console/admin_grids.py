"""Grid import from the console (/console/admin/grids), for district supervisors: upload a
GeoJSON file, see each feature's verdict and the file on a map, then apply it. The same
validation and import as `gridbot grids import`, limited to the supervisor's area.

The uploaded file waits for "apply" under <data dir>/grid-uploads/<random token>.json
(removed when applied); nothing is imported before that.
"""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import RedirectResponse

from app.services.directory import grid_upload
from app.services.directory.grid_geojson import GridImportError, ImportLimits, parse_collection
from app.services.directory.staff_admin import may_administer
from app.web.console.admin import _refused
from app.web.console.auth import DB, CurrentViewer, check_csrf
from app.web.console.overlays import convert_geometry, overlay_converter
from app.web.console.templating import render

router = APIRouter(prefix="/console/admin", tags=["console"])

MAP_FEATURES = 3000
"""At most this many polygons go on the preview map (the table lists them all)."""
TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def _limits(settings) -> ImportLimits:
    return ImportLimits(
        max_bytes=settings.grid_import_max_bytes,
        max_features=settings.grid_import_max_features,
        max_vertices=settings.grid_import_max_vertices,
    )


def _uploads(settings) -> Path:
    return Path(settings.data_dir) / "grid-uploads"


def _page(request, who, *, preview=None, token="", error="", done="", status=200):
    shapes = ""
    if preview is not None and preview.features:
        convert = overlay_converter(request.app.state.settings)
        shapes = json.dumps(
            [
                {"name": v.name, "ok": v.ok, "g": convert_geometry(v.geometry, convert)}
                for v in preview.features[:MAP_FEATURES]
                if v.geometry
            ],
            ensure_ascii=False,
        )
    return render(
        request,
        "admin_grids.html",
        status,
        viewer=who,
        preview=preview,
        shapes=shapes,
        token=token,
        error=error,
        done=done,
        tile_url=request.app.state.settings.console_tile_url,
    )


@router.get("/grids")
def grids_page(request: Request, who: CurrentViewer):
    if not may_administer(who.staff):
        return _refused(request, who)
    done = ""
    created, updated = (
        request.query_params.get("created", ""),
        request.query_params.get("updated", ""),
    )
    if created.isdigit() and updated.isdigit():
        done = f"已导入：新建 {created} 个区域，更新 {updated} 个。新上报从现在起按新网格分派。"
    return _page(request, who, done=done)


@router.post("/grids/preview")
async def grids_preview(
    request: Request,
    session: DB,
    who: CurrentViewer,
    file: UploadFile | None = None,
    csrf: Annotated[str, Form()] = "",
):
    check_csrf(who, csrf)
    if not may_administer(who.staff):
        return _refused(request, who)
    if file is None or not file.filename:
        return _page(request, who, error="请选择一个 GeoJSON 文件。", status=400)
    settings = request.app.state.settings
    limits = _limits(settings)
    raw = await file.read(limits.max_bytes + 1)
    try:
        collection = parse_collection(raw, limits)
    except GridImportError as exc:
        return _page(request, who, error=f"不能导入：{exc.message}", status=400)
    preview = grid_upload.preview(session, who.area, collection, limits)
    session.rollback()
    token = ""
    if not preview.refused:
        token = secrets.token_urlsafe(24)
        folder = _uploads(settings)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{token}.json").write_bytes(raw)
    return _page(request, who, preview=preview, token=token)


@router.post("/grids/apply")
def grids_apply(
    request: Request,
    session: DB,
    who: CurrentViewer,
    csrf: Annotated[str, Form()] = "",
    token: Annotated[str, Form(max_length=64)] = "",
):
    check_csrf(who, csrf)
    if not may_administer(who.staff):
        return _refused(request, who)
    settings = request.app.state.settings
    path = _uploads(settings) / f"{token}.json"
    if not TOKEN.match(token) or not path.exists():
        message = "找不到要导入的文件（可能已经导入过），请重新上传。"
        return _page(request, who, error=message, status=400)
    limits = _limits(settings)
    try:
        result = grid_upload.apply(
            session, who.area, parse_collection(path.read_bytes(), limits), limits
        )
    except GridImportError as exc:
        session.rollback()
        return _page(request, who, error=f"不能导入，未做任何改动：{exc.message}", status=400)
    session.commit()
    path.unlink(missing_ok=True)
    return RedirectResponse(
        f"/console/admin/grids?created={result.created}&updated={result.updated}", status_code=303
    )
