"""Typed dependencies for the routes: what the app was built with (app/bootstrap.py),
declared in the signature instead of read from `request.app.state`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session, sessionmaker

from app.domain.policy import Policy
from app.settings import Settings


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _sessions(request: Request) -> sessionmaker[Session]:
    return request.app.state.sessions


def _policy(request: Request) -> Policy:
    """The policy in force for this request (the app's file, re-read when it changes)."""
    return request.app.state.policy()


def _sandbox(request: Request):
    channel = request.app.state.sandbox
    if channel is None:
        raise HTTPException(404, "the sandbox is off: GRIDBOT_CHANNEL is not 'sandbox'")
    return channel


SettingsDep = Annotated[Settings, Depends(_settings)]
SessionsDep = Annotated[sessionmaker[Session], Depends(_sessions)]
PolicyDep = Annotated[Policy, Depends(_policy)]
SandboxDep = Annotated[object, Depends(_sandbox)]
"""The sandbox channel; a 404 when the app runs another channel."""
