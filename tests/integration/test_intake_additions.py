"""Words after filing: urgency follows the final words, the worker hears additions once
per interval, and the rider can take an addition back (取消)."""

from datetime import timedelta

from tests.chatkit import FENGYUAN_1


def test_words_after_filing_reclassify_the_ticket_and_correct_the_worker(chat, clock):
    # 10:00 in Shanghai, a Friday.
    chat.photo("rider-1")
    assert "其他问题" in chat.location("rider-1", FENGYUAN_1, "枫林路口")
    filed = chat.ticket(1)
    # 4 working hours: 15:00 after the lunch break
    assert filed.claim_due_at - filed.created_at == timedelta(hours=5)
    clock.advance(minutes=1)

    reply = chat.text("rider-1", "井盖没了，有个大洞，很危险")
    assert reply.startswith(
        "已补充到工单 #1，问题类别为「井盖问题」，情况紧急，已提醒网格员尽快处理。"
    )

    ticket = chat.ticket(1)
    assert (ticket.category, ticket.severe) == ("manhole_cover", True)
    assert ticket.claim_due_at - ticket.created_at == timedelta(minutes=10)
    assert ticket.resolve_due_at - ticket.created_at == timedelta(minutes=60)
    new, correction = chat.notices_to("worker-1")
    assert "其他问题" in new
    assert correction.startswith("【紧急】【工单 #1 更正】枫林路口")
    assert "上报人补充了：描述「井盖没了，有个大洞，很危险」" in correction
    assert "类别：其他问题 → 井盖问题；紧急程度：一般 → 紧急（情况严重，期限缩短）" in correction
    assert "请于 10:10 前认领（9 分钟内），11:00 前办结。" in correction
    assert "认领 1" in correction


def test_words_that_make_a_ticket_severe_shorten_its_deadlines(chat, clock):
    chat.text("rider-1", "路口积水")
    chat.location("rider-1", FENGYUAN_1, "枫林路口")
    clock.advance(minutes=2)
    chat.text("rider-1", "积水越来越深，电动车无法通行")
    ticket = chat.ticket(1)
    assert (ticket.category, ticket.severe) == ("flooding", True)
    assert ticket.claim_due_at - ticket.created_at == timedelta(minutes=10)
    correction = chat.notices_to("worker-1")[-1]
    assert "类别：道路积水；紧急程度：紧急（情况严重，期限缩短）" in correction
    assert "请于 10:10 前认领（8 分钟内）" in correction


def test_the_worker_hears_additions_once_per_interval(chat, clock):
    chat.text("rider-1", "路口积水很深")
    chat.location("rider-1", FENGYUAN_1, "枫林路口")
    clock.advance(minutes=1)
    chat.photo("rider-1", "media-2")
    assert chat.notices_due("worker-1")[-1] == (
        "工单 #1（道路积水，枫林路口）上报人补充了：1 张照片"
    )
    clock.advance(minutes=1)
    assert "已补充到工单 #1" in chat.text("rider-1", "水有半米深")
    clock.advance(minutes=1)
    assert "已补充到工单 #1" in chat.photo("rider-1", "media-3")
    assert len(chat.notices_due("worker-1")) == 2  # the new ticket and the first photo
    clock.advance(minutes=3)  # five minutes after the first addition's notice
    *_, gathered = chat.notices_due("worker-1")
    assert gathered == (
        "工单 #1（道路积水，枫林路口）上报人补充了：\n· 描述「水有半米深」\n· 1 张照片"
    )
    assert len(chat.notices_to("worker-1")) == 3


def test_cancel_right_after_an_addition_takes_it_back(chat, clock):
    chat.text("rider-1", "路口积水很深")
    chat.location("rider-1", FENGYUAN_1, "枫林路口")
    clock.advance(minutes=1)
    chat.text("rider-1", "旁边的奶茶店门口")
    assert chat.ticket(1).description == "路口积水很深；旁边的奶茶店门口"
    reply = chat.text("rider-1", "取消")
    assert reply == "已撤回刚才补充到工单 #1 的描述「旁边的奶茶店门口」。"
    ticket = chat.ticket(1)
    assert ticket.description == "路口积水很深"
    assert [e.action for e in ticket.events] == ["create", "add_info", "remove_info"]
    assert chat.notices_to("worker-1")[-1] == (
        "工单 #1（枫林路口）上报人撤回了刚才补充的描述「旁边的奶茶店门口」。"
    )
    assert "没有正在填写的上报" in chat.text("rider-1", "取消")  # one step back only


def test_taking_back_an_addition_the_worker_has_not_heard_of_tells_nobody(chat, clock):
    chat.text("rider-1", "路口积水很深")
    chat.location("rider-1", FENGYUAN_1, "枫林路口")
    clock.advance(minutes=1)
    chat.photo("rider-1", "media-2")  # told at once
    clock.advance(minutes=1)
    chat.photo("rider-1", "media-3")  # waits for the interval
    assert "已撤回刚才补充到工单 #1 的1 张照片" in chat.text("rider-1", "取消")
    assert len(chat.ticket(1).photos) == 1
    clock.advance(minutes=10)
    assert len(chat.notices_to("worker-1")) == 2  # nothing about the photo taken back


def test_taking_back_the_words_that_classified_a_ticket_corrects_it_again(chat, clock):
    chat.photo("rider-1")
    chat.location("rider-1", FENGYUAN_1, "枫林路口")
    clock.advance(minutes=1)
    chat.text("rider-1", "井盖没了，很危险")
    clock.advance(minutes=1)
    chat.text("rider-1", "取消")
    ticket = chat.ticket(1)
    assert (ticket.category, ticket.severe, ticket.description) == ("other", False, "")
    assert ticket.claim_due_at - ticket.created_at == timedelta(hours=5)
    correction = chat.notices_to("worker-1")[-1]
    assert "上报人撤回了补充的描述「井盖没了，很危险」" in correction
    assert "类别：井盖问题 → 其他问题；紧急程度：紧急 → 一般（期限恢复）" in correction


def test_cancel_long_after_an_addition_takes_nothing_back(chat, clock):
    chat.text("rider-1", "路口积水很深")
    chat.location("rider-1", FENGYUAN_1)
    chat.text("rider-1", "水有半米深")
    clock.advance(minutes=6)
    assert "没有正在填写的上报" in chat.text("rider-1", "取消")
    assert chat.ticket(1).description == "路口积水很深；水有半米深"
