"""A fake WeChat API server for tests: tokens, customer-service and template sends, media.

    server = start_fake_wechat()
    api = WeChatAPI(app_id="wx", app_secret="s", base_url=server.base_url)
    ...
    server.stop()

It runs a ThreadingHTTPServer on 127.0.0.1 in a daemon thread (starts in milliseconds).
Like the real API, errors are JSON {"errcode", "errmsg"} with HTTP 200, and \\uXXXX
escapes in a JSON body are NOT decoded (they arrive as literal text), so a client that
ASCII-escapes Chinese is caught.

The package: `server` (the API: tokens, sends, media), `failures` (scripted and random
failures) and `transport` (the HTTP server and WeChat's JSON answers).
"""

from tests.fakewechat.server import TOKEN_LIFETIME, FakeWeChat, start_fake_wechat
from tests.fakewechat.transport import ERRMSG

__all__ = ["ERRMSG", "TOKEN_LIFETIME", "FakeWeChat", "start_fake_wechat"]
