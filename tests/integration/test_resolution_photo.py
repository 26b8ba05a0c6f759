"""The worker's after photo goes with 办结 to the riders asked to confirm."""

import re

import pytest

from tests.chatkit import FENGYUAN_1, Chat
from tests.images import jpeg, scene
from tests.photokit import Photos

LINK = re.compile(r"http://127\.0\.0\.1:8000/media/(\d+)\?exp=\d+&sig=[0-9a-f]{32}")


@pytest.fixture
def chat(demo_sessions, clock):
    chat = Chat(demo_sessions, clock)
    chat.text("rider-1", "路口积水很深")
    chat.location("rider-1", FENGYUAN_1)
    chat.text("worker-1", "认领 1")
    return chat


def test_a_photo_sent_just_before_done_is_linked_in_the_confirmation_request(chat, clock, tmp_path):
    photos = Photos(chat, tmp_path / "media")
    reply = photos.send("worker-1", "after-1", jpeg(scene(41)))
    assert "办结照片" in reply and "5 分钟内" in reply
    clock.advance(minutes=2)
    assert "已办结" in chat.text("worker-1", "办结 1 积水已排除")

    request = chat.notices_to("rider-1")[-1]
    assert "满意" in request and "办结照片" in request
    (photo_id,) = LINK.findall(request)
    photos.run()
    photo = photos.ticket_json(1)["photos"][-1]
    assert (photo["id"], photo["role"], photo["status"]) == (int(photo_id), "resolution", "stored")
    assert len(chat.tickets()) == 1  # the worker's photo made no report


def test_a_photo_right_after_done_is_sent_to_the_rider(chat, clock):
    chat.text("worker-1", "办结 1 积水已排除")
    clock.advance(minutes=1)
    assert "已将照片作为工单 #1 的办结照片" in chat.photo("worker-1", "after-2")
    told = chat.notices_to("rider-1")[-1]
    assert "办结照片" in told and LINK.search(told) and "满意" in told


def test_a_photo_long_after_done_or_with_nothing_to_do_is_a_plain_report(chat, clock):
    chat.text("worker-1", "办结 1 积水已排除")
    clock.advance(minutes=10)
    assert "请发送位置" in chat.photo("worker-1", "later")


def test_a_held_photo_that_is_too_old_is_not_attached(chat, clock):
    chat.photo("worker-1", "early")
    clock.advance(minutes=6)
    chat.text("worker-1", "办结 1 积水已排除")
    assert "办结照片" not in chat.notices_to("rider-1")[-1]
