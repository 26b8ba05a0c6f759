"""`gridbot chat`: a newcomer plays rider and worker in a terminal against the sandbox."""

import threading

import pytest
from PIL import Image

from app.domain.coords import wgs84_to_gcj02
from app.services.directory import staff_channels
from app.settings import Settings
from app.terminal import TerminalChat
from tests.chatkit import FENGYUAN_1
from tests.e2e.conftest import wait_for
from tests.e2e.server import APP_ID, TOKEN, ServeProcess, free_port


def test_terminal_chat_walks_the_story_in_the_sandbox(gridbot, tmp_path):
    bot = gridbot("plain", channel="sandbox")
    rider_out, worker_out = [], []
    rider = TerminalChat(bot.settings, openid="rider-1", url=bot.base_url, out=rider_out.append)
    worker = TerminalChat(bot.settings, openid="worker-1", url=bot.base_url, out=worker_out.append)

    photo = tmp_path / "flood.jpg"
    Image.new("RGB", (64, 48), (40, 90, 160)).save(photo, "JPEG")
    assert "请发送位置" in rider.send(f"/photo {photo}")
    lat, lng = wgs84_to_gcj02(*FENGYUAN_1)
    assert "工单号 #1" in rider.send(f"/loc {lat:.6f} {lng:.6f} 枫林路口")

    notices = wait_for(worker.poll_sandbox, "the worker's new-ticket notice")
    assert "新工单 #1" in notices[0] and "照片：1 张" in notices[0]
    assert any("[通知] 【新工单 #1】" in line for line in worker_out)

    assert "已认领" in worker.send("认领")
    claimed = wait_for(rider.poll_sandbox, "the rider's claim notice")
    assert any("已由张伟认领" in n for n in claimed), claimed
    assert rider.poll_sandbox() == []  # each notice is shown once

    assert "已补充到工单 #1" in rider.send("/voice 补充一下，积水有半米深")
    assert rider_out[-1].startswith("gridbot> 已补充")

    # The worker opens the chat again later: what came before is shown as earlier, once.
    again: list[str] = []
    TerminalChat(bot.settings, openid="worker-1", url=bot.base_url, out=again.append).show_history()
    assert again[0] == "--- earlier notices to worker-1 ---"
    assert "【新工单 #1】" in again[1] and again[-1] == "--- new messages below ---"


def test_a_worker_bound_on_both_channels_sees_each_notice_once_as_sent_to_wecom(gridbot):
    bot = gridbot("plain", channel="sandbox")
    with bot.sessions() as s, s.begin():
        staff_channels.set_wecom_userid(s, staff_channels.find_staff(s, "worker-1"), "zhangwei")
    rider_out, worker_out = [], []
    rider = TerminalChat(bot.settings, openid="rider-1", url=bot.base_url, out=rider_out.append)
    worker = TerminalChat(bot.settings, openid="worker-1", url=bot.base_url, out=worker_out.append)
    assert "位置" in rider.send("路口积水很深")
    lat, lng = wgs84_to_gcj02(*FENGYUAN_1)
    assert "工单号 #1" in rider.send(f"/loc {lat:.6f} {lng:.6f} 枫林路口")

    wait_for(worker.poll_sandbox, "the worker's new-ticket notice")
    (line,) = worker_out  # once, and not on the official account
    assert line.startswith("[企业微信] ") and "新工单 #1】" in line
    assert "已认领" in worker.send("认领")  # typed on the official account: the same person
    assert any("已由张伟认领" in n for n in wait_for(rider.poll_sandbox, "the claim notice"))


def test_terminal_chat_explains_itself_and_survives_typos(gridbot, tmp_path):
    bot = gridbot("safe", channel="sandbox")
    out = []
    chat = TerminalChat(bot.settings, openid="rider-2", url=bot.base_url, out=out.append)
    assert chat.send("/loc north") is None
    assert chat.send(f"/photo {tmp_path / 'missing.jpg'}") is None
    assert chat.send("/nonsense") is None
    assert any("/photo FILE" in line for line in out)
    assert "感谢关注" in chat.send("/subscribe station-7")


# What the terminal needs to sign as WeChat does for the served account.
SERVED = Settings(channel="sandbox", wechat_token=TOKEN, wechat_app_id=APP_ID)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # a real server: seconds each
def test_terminal_chat_survives_a_server_restart(demo_sessions, db_url, fake, tmp_path):
    """The server is killed and comes back while the rider types: the chat says it lost
    the connection, keeps trying, and the message is handled once when the server is back."""
    server = ServeProcess(db_url=db_url, api_base=fake.base_url, log_dir=tmp_path).start()
    out: list[str] = []
    rider = TerminalChat(SERVED, openid="rider-1", url=server.url, out=out.append)
    restart = threading.Timer(1.0, server.start)
    try:
        lat, lng = wgs84_to_gcj02(*FENGYUAN_1)
        assert "已收到位置" in rider.send(f"/loc {lat:.6f} {lng:.6f} 枫林路口")
        server.kill9()
        restart.start()
        assert "工单号 #1" in rider.send("路口积水很深，电动车过不去")
    finally:
        restart.cancel()
        if restart.is_alive():
            restart.join()  # a restart under way is stopped below too, never left running
        server.stop()
    lost = [line for line in out if line.startswith("! lost the connection")]
    assert len(lost) == 1 and "retrying" in lost[0]
    assert f"! reconnected to {server.url}" in out
    assert not any("Traceback" in line for line in out)


def test_terminal_chat_gives_up_on_a_server_that_stays_away_and_goes_on(monkeypatch):
    out: list[str] = []
    url = f"http://127.0.0.1:{free_port()}"
    chat = TerminalChat(
        Settings(channel="sandbox"),
        openid="rider-9",
        url=url,
        out=out.append,
        patience=2.0,
        pause=lambda seconds: None,
    )
    lines = iter(["路口积水", "/quit"])
    monkeypatch.setattr("builtins.input", lambda: next(lines))
    chat.run()  # returns: no traceback, no hang
    assert out[1].startswith(f"! cannot reach {url} (connection refused)")
    assert out[2].startswith("! lost the connection") and out[3] == (
        f"! {url} is still not answering; not sent, try again later"
    )
