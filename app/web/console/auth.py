"""Signing in to the console and who is signed in.

A one-time link (from 登录 in chat, or `gridbot console link`) opens a page whose button
signs the browser in: link previews and scanners that fetch the URL do not use it up.
The session is an HttpOnly, SameSite=Lax cookie (Secure behind TLS); every form carries
the session's CSRF token. Without a live session every console URL redirects to the
page that says how to sign in.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from app.db import unit_of_work
from app.services.directory import console_access
from app.services.directory.console_access import LinkRefused
from app.services.errors import ServiceError
from app.web.console.templating import render
from models import Area, Staff

COOKIE = "gridbot_console"
SIGN_IN_PAGE = "/console/signin"

router = APIRouter(prefix="/console", tags=["console"])


class SignInRequired(Exception):
    """Raised by `viewer` when there is no live session: answered with a redirect."""


class BadCsrf(Exception):
    """A POST without the session's form token: answered 403."""


def db(request: Request) -> Iterator[Session]:
    """A session for the request; committed when the endpoint returns."""
    with unit_of_work(request.app.state.sessions) as session:
        yield session


DB = Annotated[Session, Depends(db)]


@dataclass
class Viewer:
    staff: Staff
    csrf: str
    token: str

    @property
    def area(self) -> Area:
        return self.staff.area


def viewer(request: Request, session: DB) -> Viewer:
    token = request.cookies.get(COOKIE)
    record = console_access.current(session, token, now=datetime.now(UTC))
    if record is None or token is None:
        raise SignInRequired
    return Viewer(record.staff, record.csrf, token)


CurrentViewer = Annotated[Viewer, Depends(viewer)]


def signed_in_area(request: Request) -> int:
    """The signed-in person's area id, read in a short transaction of its own (for
    streamed answers); SignInRequired without a live session."""
    with unit_of_work(request.app.state.sessions) as session:
        record = console_access.current(session, request.cookies.get(COOKIE), now=datetime.now(UTC))
        if record is None:
            raise SignInRequired
        return record.staff.area_id


def check_csrf(viewer: Viewer, token: str) -> None:
    if not hmac.compare_digest(viewer.csrf.encode(), token.encode()):
        raise BadCsrf


def _secure(request: Request) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "")
    public = request.app.state.settings.public_url
    return request.url.scheme == "https" or forwarded == "https" or public.startswith("https")


@router.get("/signin")
def sign_in_page(request: Request):
    return render(request, "signin.html", status_code=401)


@router.get("/login/{token}")
def login_page(request: Request, token: str, session: DB):
    """The link's page: one button (POST) that uses the link. A link that can no longer
    sign anyone in is refused here already, with how to get a new one."""
    try:
        console_access.check_link(session, token, now=datetime.now(UTC))
    except LinkRefused as exc:
        return render(request, "signin.html", status_code=403, refused=exc.message)
    return render(request, "login.html", token=token)


@router.post("/login/{token}")
def login(request: Request, token: str, session: DB):
    settings = request.app.state.settings
    try:
        signed = console_access.redeem(
            session, token, now=datetime.now(UTC), hours=settings.console_session_hours
        )
    except LinkRefused as exc:
        return render(request, "signin.html", status_code=403, refused=exc.message)
    except ServiceError as exc:
        return render(request, "signin.html", status_code=403, refused=exc.message)
    response = RedirectResponse("/console/", status_code=303)
    response.set_cookie(
        COOKIE,
        signed.token,
        max_age=int(settings.console_session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/console",
    )
    return response


@router.post("/logout")
def logout(request: Request, session: DB, who: CurrentViewer, csrf: Annotated[str, Form()] = ""):
    check_csrf(who, csrf)
    console_access.sign_out(session, who.token, now=datetime.now(UTC))
    response = RedirectResponse(SIGN_IN_PAGE, status_code=303)
    response.delete_cookie(COOKIE, path="/console")
    return response
