"""A ticket needs a location plus a photo or words: when its only photo fails the checks,
the rider is asked to describe it and the worker is not left with an empty report."""

from tests.chatkit import FENGYUAN_1
from tests.images import jpeg, scene

NOT_A_PHOTO = b"%PDF-1.4 not a photo at all"


def test_a_ticket_whose_only_photo_is_refused_asks_the_rider_for_words(chat, photos, clock):
    photos.send("rider-1", "m-1", NOT_A_PHOTO)
    assert "已受理" in chat.location("rider-1", FENGYUAN_1, "枫林路口")
    assert photos.run().refused == 1

    assert chat.notices_to("rider-1")[-1] == (
        "您上报的工单 #1 的照片无法识别为图片，网格员看不到现场情况。"
        "请用一句话描述问题（或重新拍照发送），会补充到工单 #1。"
    )
    new, empty = chat.notices_to("worker-1")
    assert "新工单 #1" in new
    assert empty == (
        "工单 #1（枫林路口）的照片无法识别为图片，上报人也没有文字描述，"
        "已请上报人补充描述或重新拍照，补充后会通知您。"
    )

    clock.advance(minutes=20)  # long after the usual follow-up window
    assert "已补充到工单 #1" in chat.text("rider-1", "路口积水很深，电动车过不去")
    ticket = chat.ticket(1)
    assert (ticket.category, ticket.description) == ("flooding", "路口积水很深，电动车过不去")
    correction = chat.notices_to("worker-1")[-1]
    assert "【工单 #1 更正】" in correction and "其他问题 → 道路积水" in correction

    clock.advance(minutes=20)  # once described, the ticket waits for nothing more
    assert "请发送位置" in chat.text("rider-1", "路边的垃圾很久没人清理了")


def test_a_withdrawn_report_whose_photo_is_refused_asks_for_no_words(chat, photos):
    photos.send("rider-1", "m-1", NOT_A_PHOTO)
    chat.location("rider-1", FENGYUAN_1, "枫林路口")
    assert "已撤回" in chat.text("rider-1", "取消 1")
    assert photos.run().refused == 1

    # words could not be added to it any more: the rider hears what any sender hears
    assert chat.notices_to("rider-1")[-1] == "您发送的文件无法识别为图片，请重新拍照发送。"
    assert not any("照片无法识别" in t for t in chat.notices_to("worker-1"))


def test_a_refused_photo_does_not_make_a_draft_a_report(chat, photos):
    photos.send("rider-1", "m-1", NOT_A_PHOTO)
    photos.run()
    assert "照片或一句话" in chat.location("rider-1", FENGYUAN_1)
    assert chat.tickets() == []
    assert "已受理" in chat.text("rider-1", "井盖没了")


def test_a_refused_photo_of_a_described_ticket_is_only_told_to_the_sender(chat, photos):
    chat.text("rider-1", "路口积水很深")
    photos.send("rider-1", "m-1", NOT_A_PHOTO)
    chat.location("rider-1", FENGYUAN_1)
    photos.run()
    # What any sender of a non-image hears; not the request for words ("或重新拍照发送"
    # is in that one too, so a substring check could not tell them apart).
    assert chat.notices_to("rider-1")[-1] == "您发送的文件无法识别为图片，请重新拍照发送。"
    assert len(chat.notices_to("worker-1")) == 1


def test_a_second_good_photo_keeps_the_ticket_shown(chat, photos):
    photos.send("rider-1", "m-1", NOT_A_PHOTO)
    photos.send("rider-1", "m-2", jpeg(scene(3)))
    chat.location("rider-1", FENGYUAN_1)
    photos.run()
    assert len(chat.notices_to("worker-1")) == 1
    assert chat.ticket(1).details_requested_at is None
