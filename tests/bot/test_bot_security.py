import hashlib
import threading

import pytest

from bot import security
from bot.security import DecryptError, MessageCipher, ReplayGuard, sign, signature_valid

TOKEN = "gridtoken"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def _wechat_signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def test_signature_matches_wechat_algorithm():
    sig = _wechat_signature(TOKEN, "1700000000", "12345")
    assert signature_valid(TOKEN, sig, "1700000000", "12345")
    assert sign(TOKEN, "1700000000", "12345") == sig


def test_signature_with_extra_part_covers_ciphertext():
    sig = _wechat_signature(TOKEN, "1700000000", "12345", "CIPHER")
    assert signature_valid(TOKEN, sig, "1700000000", "12345", "CIPHER")
    assert not signature_valid(TOKEN, sig, "1700000000", "12345", "CIPHEr")


@pytest.mark.parametrize(
    "signature, timestamp, nonce",
    [
        ("0" * 40, "1700000000", "12345"),
        (_wechat_signature(TOKEN, "1700000000", "12345"), "1700000001", "12345"),
        (_wechat_signature(TOKEN, "1700000000", "12345"), "1700000000", "12346"),
        (_wechat_signature("other", "1700000000", "12345"), "1700000000", "12345"),
        ("", "1700000000", "12345"),
        (None, "1700000000", "12345"),
        ("签名", "1700000000", "12345"),
    ],
)
def test_forged_signatures_are_refused(signature, timestamp, nonce):
    assert not signature_valid(TOKEN, signature, timestamp, nonce)


def test_signature_compare_is_constant_time(monkeypatch):
    calls = []
    real = security.hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(security.hmac, "compare_digest", spy)
    signature_valid(TOKEN, "0" * 40, "1", "2")
    assert len(calls) == 1


class FakeClock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_replay_guard_accepts_fresh_and_refuses_duplicate():
    clock = FakeClock(1_700_000_000)
    guard = ReplayGuard(window_seconds=300, clock=clock)
    assert guard.accept("1700000000", "n1")
    assert not guard.accept("1700000000", "n1")
    assert guard.accept("1700000000", "n2")  # a WeChat retry has a new nonce
    assert guard.accept("1700000001", "n1")


@pytest.mark.parametrize("offset", [-301, 301, -10_000, 10_000])
def test_replay_guard_refuses_stale_and_future(offset):
    clock = FakeClock(1_700_000_000)
    guard = ReplayGuard(window_seconds=300, clock=clock)
    assert not guard.accept(str(1_700_000_000 + offset), "n")


@pytest.mark.parametrize("timestamp", ["", "abc", "1.5", None, "1e9"])
def test_replay_guard_refuses_non_integer_timestamp(timestamp):
    guard = ReplayGuard(clock=FakeClock(1_700_000_000))
    assert not guard.accept(timestamp, "n")


def test_replay_guard_forgets_pairs_outside_the_window():
    clock = FakeClock(1_700_000_000)
    guard = ReplayGuard(window_seconds=300, clock=clock)
    for i in range(100):
        assert guard.accept("1700000000", f"n{i}")
    assert len(guard) == 100
    clock.now += 301
    assert guard.accept(str(int(clock.now)), "fresh")
    assert len(guard) == 1
    # The old pair is both forgotten and, being stale, still refused.
    assert not guard.accept("1700000000", "n0")


def test_replay_guard_is_thread_safe():
    guard = ReplayGuard(clock=FakeClock(1_700_000_000))
    results = []

    def worker():
        results.append(guard.accept("1700000000", "same"))

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 1


def test_cipher_roundtrip_and_wechatpy_interop():
    from wechatpy.crypto import PrpCrypto

    cipher = MessageCipher(AES_KEY, "wxapp")
    xml = "<xml><Content><![CDATA[你好]]></Content></xml>"
    assert cipher.decrypt(cipher.encrypt(xml)) == xml
    # Same wire format as wechatpy, in both directions.
    prp = PrpCrypto(cipher._cipher.algorithm.key)
    assert prp.decrypt(cipher.encrypt(xml), "wxapp") == xml
    assert cipher.decrypt(prp.encrypt(xml, "wxapp").decode()) == xml


def test_cipher_refuses_other_app_and_garbage():
    ours = MessageCipher(AES_KEY, "wxours")
    theirs = MessageCipher(AES_KEY, "wxtheirs")
    with pytest.raises(DecryptError):
        ours.decrypt(theirs.encrypt("<xml/>"))
    for garbage in ["", "!!!", "YWJj", "A" * 44, "A" * 64]:
        with pytest.raises(DecryptError):
            ours.decrypt(garbage)


@pytest.mark.parametrize("key", ["short", "!" * 43, "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF"])
def test_cipher_refuses_bad_keys(key):
    with pytest.raises(ValueError):
        MessageCipher(key, "wx")
