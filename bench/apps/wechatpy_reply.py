"""(b) WeChat's own work with no database: wechatpy checks msg_signature, decrypts, parses,
and answers an encrypted passive text reply of the length gridbot's acknowledgements have.

Configured by BENCH_WECHAT_TOKEN, BENCH_WECHAT_AES_KEY and BENCH_WECHAT_APP_ID.
"""

from __future__ import annotations

import os

from fastapi import FastAPI, Request, Response
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.replies import TextReply

from bench.apps import REPLY

crypto = WeChatCrypto(
    os.environ["BENCH_WECHAT_TOKEN"],
    os.environ["BENCH_WECHAT_AES_KEY"],
    os.environ["BENCH_WECHAT_APP_ID"],
)
app = FastAPI()


@app.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}


@app.post("/wechat")
async def receive(request: Request) -> Response:
    q = request.query_params
    body = await request.body()
    xml = crypto.decrypt_message(body, q["msg_signature"], q["timestamp"], q["nonce"])
    msg = parse_message(xml)
    reply = TextReply(message=msg, content=REPLY).render()
    return Response(
        crypto.encrypt_message(reply, q["nonce"], q["timestamp"]),
        media_type="application/xml; charset=utf-8",
    )
