"""Request authentication for the WeChat webhook: signatures, replay window, AES envelope.

The envelope is wechatpy's (`wechatpy.crypto.PrpCrypto`, the same for WeCom with the
CorpID as the receive id). wechatpy compares signatures with `!=`, never looks at the
timestamp, does not check the PKCS#7 padding it strips and fails on bad base64 or a short
plaintext with whatever exception comes up, so these checks live here: a ciphertext is
validated before and after wechatpy's AES, and every refusal is a DecryptError.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import heapq
import hmac
import secrets
import struct
import threading
import time
from collections.abc import Callable

from wechatpy.crypto import PrpCrypto
from wechatpy.crypto.pkcs7 import PKCS7Encoder

_BLOCK = PKCS7Encoder.block_size  # WeChat pads to 32 bytes, not to the AES block size of 16.


def sign(*parts: str) -> str:
    """WeChat's signature: SHA-1 hex of the sorted, concatenated parts."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def signature_valid(token: str, signature: str, timestamp: str, nonce: str, *extra: str) -> bool:
    """True when `signature` is WeChat's signature over token, timestamp, nonce and extras.

    Compared in constant time; a missing (None/empty) signature is never valid.
    """
    if not signature or not isinstance(signature, str):
        return False
    expected = sign(token, timestamp, nonce, *extra)
    return hmac.compare_digest(expected.encode(), signature.lower().encode())


class ReplayGuard:
    """Refuses stale timestamps and (timestamp, nonce) pairs already seen inside the window.

    WeChat retries a message with a fresh timestamp and nonce, so retries pass this guard;
    deduplicating retries is the inbox's job (MsgId), not this one's. Pairs are forgotten
    once their timestamp leaves the window, which bounds memory by the request rate.
    """

    def __init__(self, window_seconds: int = 300, clock: Callable[[], float] = time.time):
        self.window = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: set[tuple[int, str]] = set()
        self._expiry: list[tuple[int, str]] = []  # min-heap ordered by timestamp

    def fresh(self, timestamp: str) -> bool:
        """Whether `timestamp` (WeChat's, in seconds) is an integer inside the window."""
        try:
            ts = int(timestamp)
        except (TypeError, ValueError):
            return False
        return abs(self._clock() - ts) <= self.window

    def accept(self, timestamp: str, nonce: str) -> bool:
        if not self.fresh(timestamp):
            return False
        now = self._clock()
        key = (int(timestamp), nonce)
        with self._lock:
            self._forget_before(now - self.window)
            if key in self._seen:
                return False
            self._seen.add(key)
            heapq.heappush(self._expiry, key)
            return True

    def __len__(self) -> int:
        with self._lock:
            return len(self._seen)

    def _forget_before(self, cutoff: float) -> None:
        while self._expiry and self._expiry[0][0] < cutoff:
            self._seen.discard(heapq.heappop(self._expiry))


class DecryptError(ValueError):
    """The ciphertext is not a message for this account (bad base64, padding or app id)."""


class MessageCipher:
    """WeChat's message encryption (wechatpy's PrpCrypto): AES-256-CBC, IV = key[:16],
    PKCS#7 to 32 bytes. Plaintext layout: 16 random bytes, 4-byte big-endian length, the
    XML, the app id (the CorpID for WeCom)."""

    def __init__(self, aes_key: str, app_id: str, prp: type[PrpCrypto] = PrpCrypto):
        """`prp` is wechatpy's envelope class: `wechatpy.enterprise.crypto.PrpCrypto` for
        WeCom, whose receive id is the CorpID."""
        if len(aes_key) != 43:
            raise ValueError("EncodingAESKey must be 43 characters")
        try:
            key = base64.b64decode(aes_key + "=", validate=True)
        except binascii.Error as exc:
            raise ValueError("EncodingAESKey is not base64") from exc
        if len(key) != 32:
            raise ValueError("EncodingAESKey must decode to 32 bytes")
        self._prp = prp(key)
        self._cipher = self._prp.cipher.cipher  # the `cryptography` Cipher wechatpy built
        self.app_id = app_id
        self._app_id = app_id.encode()

    def encrypt(self, xml: str) -> str:
        # wechatpy's layout and padding; its 16-character prefix (which WeChat discards)
        # comes from `random.sample`: a secrets-drawn one costs less and is unpredictable.
        body = xml.encode()
        plain = secrets.token_hex(8).encode() + struct.pack(">I", len(body)) + body + self._app_id
        return base64.b64encode(self._prp.cipher.encrypt(PKCS7Encoder.encode(plain))).decode()

    def decrypt(self, encrypted: str) -> str:
        """The XML inside `encrypted`; DecryptError unless it is well formed and ours."""
        try:
            data = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise DecryptError("ciphertext is not base64") from exc
        if not data or len(data) % 16:
            raise DecryptError("ciphertext length is not a multiple of the block size")
        plain = self._prp.cipher.decrypt(data)
        pad = plain[-1]
        if not 1 <= pad <= _BLOCK or plain[-pad:] != bytes([pad]) * pad:
            raise DecryptError("bad padding")
        content = plain[16:-pad]
        if len(content) < 4:
            raise DecryptError("plaintext too short")
        (length,) = struct.unpack(">I", content[:4])
        if length > len(content) - 4:
            raise DecryptError("length field exceeds plaintext")
        app_id = content[4 + length :]
        if not hmac.compare_digest(app_id, self._app_id):
            raise DecryptError("message is for another app id")
        try:
            return content[4 : 4 + length].decode()
        except UnicodeDecodeError as exc:
            raise DecryptError("plaintext is not UTF-8") from exc
