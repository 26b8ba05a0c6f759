"""Notices a worker can act on at once (issue 14 §3): where (label, grid, GCJ-02
coordinates, a map link that navigates), how urgent and by when (local time), the photos.

The clock starts on Friday 2026-11-20 at 10:00 in Shanghai.
"""

from datetime import timedelta
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

from app.domain.coords import wgs84_to_gcj02
from app.jobs import JobContext, run_escalation
from tests.chatkit import FENGYUAN_1
from tests.images import jpeg, scene


def _map_link(notice: str) -> dict:
    (line,) = [x for x in notice.splitlines() if x.startswith("导航：")]
    url = urlparse(line.removeprefix("导航："))
    assert (url.scheme, url.netloc, url.path) == ("https", "uri.amap.com", "/marker")
    return {k: v[0] for k, v in parse_qs(url.query).items()}


def test_a_new_urgent_ticket_says_where_how_urgent_and_by_when(chat, photos):
    photos.send("rider-1", "m-1", jpeg(scene(1)))
    chat.text("rider-1", "路口积水很深，电动车过不去")
    chat.location("rider-1", FENGYUAN_1, "枫林路与东安路口")
    (notice,) = chat.notices_to("worker-1")
    lines = notice.splitlines()
    assert lines[0] == "【紧急】【新工单 #1】道路积水"
    assert lines[1] == "地点：枫林路与东安路口（枫苑一网格）"
    lat, lng = wgs84_to_gcj02(*FENGYUAN_1)
    assert lines[2] == f"坐标：{lat:.6f},{lng:.6f}（GCJ-02）"
    link = _map_link(notice)
    assert link["position"] == f"{lng:.6f},{lat:.6f}" and link["coordinate"] == "gaode"
    assert link["name"] == "枫林路与东安路口" and link["callnative"] == "1"
    assert "照片：1 张" in notice and "/media/" in notice
    assert "请于 10:15 前认领（15 分钟内）。" in notice  # local time, flooding: 15 minutes


def test_an_ordinary_ticket_is_not_marked_urgent(chat):
    chat.text("rider-1", "楼道里堆了旧沙发")
    chat.location("rider-1", FENGYUAN_1, "枫林路12号")
    (notice,) = chat.notices_to("worker-1")
    assert "紧急" not in notice and notice.startswith("【新工单 #1】")
    assert "前认领（" in notice


def test_a_ticket_located_by_its_photo_shows_the_same_place_block(chat, photos, clock):
    taken = (clock() - timedelta(minutes=5)).astimezone(ZoneInfo("Asia/Shanghai"))
    photos.send("rider-1", "m-1", jpeg(scene(2), gps=FENGYUAN_1, taken=taken.replace(tzinfo=None)))
    photos.run()
    (notice,) = chat.notices_to("worker-1")
    assert "照片定位" not in notice
    assert "地点：照片拍摄地点（枫苑一网格）" in notice and "（GCJ-02）" in notice
    assert _map_link(notice)["name"] == "照片拍摄地点"


def test_the_old_photo_warning_reaches_the_worker_when_the_photo_came_first(chat, photos, clock):
    taken = (clock() - timedelta(days=3)).astimezone(ZoneInfo("Asia/Shanghai"))
    photos.send("rider-1", "m-1", jpeg(scene(3), taken=taken.replace(tzinfo=None)))
    photos.run()  # checked before the ticket exists
    chat.text("rider-1", "路口积水很深")
    chat.location("rider-1", FENGYUAN_1, "枫林路口")
    (notice,) = chat.notices_to("worker-1")
    assert "不是近期拍摄" in notice and "拍摄于 2026-11-17" in notice


def test_a_reminder_at_the_deadline_never_says_zero_minutes_late(chat, clock):
    chat.text("rider-1", "路口积水很深")
    chat.location("rider-1", FENGYUAN_1, "枫林路口")
    clock.advance(minutes=15)
    run_escalation(JobContext(sessions=chat.sessions, settings=chat.settings, clock=clock))
    reminder = chat.notices_to("worker-1")[-1]
    assert "【催办 #1】" in reminder and "已超时 0 分钟" not in reminder
    assert "应于 10:15 前认领，期限已到" in reminder and "导航：" in reminder


def test_transfer_summon_and_escalation_notices_carry_the_photos(chat, photos, clock):
    photos.send("rider-1", "m-1", jpeg(scene(4)))
    chat.text("rider-1", "路口积水很深")
    chat.location("rider-1", FENGYUAN_1, "枫林路口")
    chat.text("lead-1", "转派 1 31019900100102")
    assert "/media/" in chat.notices_to("worker-2")[-1]
    chat.text("lead-1", "吹哨 1 排水")
    summons = chat.notices_to("dept-1")[-1]
    assert "/media/" in summons and "导航：" in summons and "前报到" in summons
    clock.advance(minutes=40)
    run_escalation(JobContext(sessions=chat.sessions, settings=chat.settings, clock=clock))
    escalated = chat.notices_to("lead-1")[-1]
    assert "督办" in escalated and "/media/" in escalated


def test_a_reopen_notice_does_not_ask_the_holder_to_claim_again(chat):
    chat.text("rider-1", "路口积水很深")
    chat.location("rider-1", FENGYUAN_1, "枫林路口")
    chat.text("worker-1", "办结 1 已排水")
    chat.text("rider-1", "不满意")
    reopened = chat.notices_to("worker-1")[-1]
    assert "不满意" in reopened and "认领" not in reopened
    assert "「办结 1 处理结果」" in reopened and "前办结" in reopened


def test_a_lead_outside_the_area_is_told_area_not_grid(chat):
    chat.text("rider-1", "路口积水很深")
    chat.location("rider-1", FENGYUAN_1, "枫林路口")
    assert "不在您负责的区域" in chat.text("lead-3", "认领 1")
    assert "不在您负责的网格" in chat.text("worker-2", "认领 1")


def test_transfer_by_grid_name_or_an_unambiguous_part_of_it(chat):
    chat.text("rider-1", "楼道里堆了旧沙发")
    chat.location("rider-1", FENGYUAN_1, "枫林路12号")
    assert "对应多个网格" in chat.text("worker-1", "转派 1 枫苑")
    assert "没有找到网格「东海」" in chat.text("worker-1", "转派 1 东海")
    assert "已转派至枫苑二网格" in chat.text("worker-1", "转派 1 枫苑二")
    assert chat.ticket(1).assignee.openid == "worker-2"
    assert "已转派至枫苑一网格" in chat.text("worker-2", "转派 1 枫苑一网格")


def test_grids_lists_where_a_staff_member_may_transfer(chat):
    listed = chat.text("worker-1", "网格列表")
    assert "枫苑二网格（31019900100102）" in listed and "「转派 工单号 网格名称」" in listed
    assert chat.text("worker-1", "grids") == listed
    lead = chat.text("lead-1", "网格列表")
    assert "枫苑一网格" in lead and "南园四网格" not in lead  # only the lead's community


def test_a_leads_to_do_list_is_the_areas_open_tickets_most_overdue_first(chat, clock):
    chat.text("rider-1", "楼道里堆了旧沙发")  # bulky waste: hours to claim
    chat.location("rider-1", FENGYUAN_1, "枫林路12号")
    clock.advance(minutes=5)
    chat.text("rider-2", "路口积水很深")  # flooding: 15 minutes to claim
    chat.location("rider-2", FENGYUAN_1, "枫林路口")
    clock.advance(minutes=30)
    todo = chat.text("lead-1", "待办").splitlines()
    assert todo[0] == "枫苑社区未办结的工单（2，最超时的在前）："
    assert todo[1].startswith("#2 【紧急】道路积水 待认领 认领已超时 15 分钟")
    assert (
        todo[2].startswith("#1 ") and "认领还剩 1 小时 25 分钟" in todo[2] and "（张伟）" in todo[2]
    )
    assert chat.text("lead-1", "我的工单") == "\n".join(todo)
    assert "没有未办结的工单" in chat.text("lead-3", "待办")


def test_a_send_back_to_judge_shows_the_lead_the_place_and_the_photos(chat, photos):
    photos.send("rider-1", "m-1", jpeg(scene(5)))
    chat.text("rider-1", "路口积水很深")
    chat.location("rider-1", FENGYUAN_1, "枫林路口")
    chat.text("worker-1", "退回 1 无效 现场无积水")
    request = chat.notices_to("lead-1")[-1]
    assert "【退回申请 #1】" in request and "导航：" in request and "/media/" in request
    assert "说明：现场无积水" in request
