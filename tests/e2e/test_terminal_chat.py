"""`gridbot chat`: a newcomer plays rider and worker in a terminal against the sandbox."""

from PIL import Image

from app.domain.coords import wgs84_to_gcj02
from app.terminal import TerminalChat
from tests.chatkit import FENGYUAN_1
from tests.e2e.conftest import wait_for


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


def test_terminal_chat_explains_itself_and_survives_typos(gridbot, tmp_path):
    bot = gridbot("safe", channel="sandbox")
    out = []
    chat = TerminalChat(bot.settings, openid="rider-2", url=bot.base_url, out=out.append)
    assert chat.send("/loc north") is None
    assert chat.send(f"/photo {tmp_path / 'missing.jpg'}") is None
    assert chat.send("/nonsense") is None
    assert any("/photo FILE" in line for line in out)
    assert "感谢关注" in chat.send("/subscribe station-7")
