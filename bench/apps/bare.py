"""(a) The ceiling of the stack: a FastAPI route that reads the body and answers "success"."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse

app = FastAPI()


@app.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}


@app.post("/wechat")
async def receive(request: Request) -> PlainTextResponse:
    await request.body()
    return PlainTextResponse("success")
