"""The session cookie's signing and framing: itsdangerous's
``URLSafeTimedSerializer`` with Flask's settings, made cheaper per cookie
without changing what it checks or the format it writes.

* :class:`KeyCachingSigner` derives each key once and verifies a good cookie
  with itsdangerous's own parts, without the objects ``unsign`` builds;
* :class:`SHA1HMAC` copies an HMAC keyed once instead of keying one per
  signature;
* :class:`SessionSerializer` makes one signer per salt, and compresses only
  JSON of 64 bytes or more, with a small zlib state (see
  :meth:`SessionSerializer.dump_payload`).
"""

from __future__ import annotations

import hashlib
import hmac
import zlib
from typing import Any

from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import base64_decode, base64_encode, bytes_to_int, want_bytes
from itsdangerous.serializer import Serializer
from itsdangerous.signer import HMACAlgorithm

__all__ = ["SHA1HMAC", "KeyCachingSigner", "SessionSerializer", "sha1"]

#: The compressor's window and memory level: 8 KB and 64 KB of state in all
#: (zlib's defaults, a 32 KB window and memLevel 8, take 256 KB).
_ZLIB_WBITS = 13
_ZLIB_MEMLEVEL = 6
#: JSON shorter than this is not compressed (see SessionSerializer.dump_payload).
_COMPRESS_FROM = 64


def sha1(string: bytes = b"") -> Any:
    # Looked up when called, not at import: FIPS builds may lack SHA-1.
    return hashlib.sha1(string)


class KeyCachingSigner(TimestampSigner):
    """itsdangerous's ``TimestampSigner``, keeping each derived key: the
    derivation (an HMAC of the secret key and the salt) is the same for
    every cookie, so it runs once per key, not twice per request. The
    signatures are byte for byte the same."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._derived: dict[bytes, bytes] = {}
        if self.digest_method is sha1 and type(self.algorithm) is HMACAlgorithm:
            self.algorithm = SHA1HMAC(sha1)

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        key = self.secret_keys[-1] if secret_key is None else want_bytes(secret_key)
        derived = self._derived.get(key)
        if derived is None:
            derived = self._derived[key] = super().derive_key(key)
        return derived

    def verified(self, signed_value: bytes, max_age: int | None) -> bytes | None:
        """The value of *signed_value* if ``unsign(signed_value, max_age)``
        would return it, without the exception, datetime and bound-method
        objects it makes on the way; ``None`` if any check fails (``unsign``
        then says which). The same checks, with itsdangerous's own parts:
        :meth:`verify_signature` (any of :attr:`secret_keys`), the timestamp
        decodes, the age is in ``0..max_age``."""
        sep = self.sep
        value, found, sig = signed_value.rpartition(sep)
        if not found or not self.verify_signature(value, sig):
            return None
        payload, found, stamp = value.rpartition(sep)
        if not found:
            return None
        try:
            timestamp = bytes_to_int(base64_decode(stamp))
        except Exception:
            return None
        if max_age is not None:
            age = self.get_timestamp() - timestamp
            if age > max_age or age < 0:
                return None
        return payload


class SHA1HMAC(HMACAlgorithm):
    """itsdangerous's HMAC-SHA1 signature from a copy of an HMAC already
    keyed (the key's padding hashed once per key, not per signature): the
    same bytes."""

    def __init__(self, digest_method: Any = None) -> None:
        super().__init__(digest_method)
        self._keyed: dict[bytes, Any] = {}

    def get_signature(self, key: bytes, value: bytes) -> bytes:
        keyed = self._keyed.get(key)
        if keyed is None:
            if len(self._keyed) >= 16:  # only a signer's own few keys come here
                self._keyed.clear()
            keyed = self._keyed[key] = hmac.new(key, digestmod="sha1")
        mac = keyed.copy()
        mac.update(value)
        return mac.digest()


class SessionSerializer(URLSafeTimedSerializer):
    """The session's serializer: one signer per salt, made once (itsdangerous
    makes a signer for every ``dumps`` and ``loads``)."""

    default_signer = KeyCachingSigner

    def make_signer(self, salt: str | bytes | None = None) -> Any:
        signers: dict[Any, Any] = self.__dict__.setdefault("_signers", {})
        signer = signers.get(salt)
        if signer is None:
            signer = signers[salt] = super().make_signer(salt)
        return signer

    def loads(  # type: ignore[override]
        self,
        s: str | bytes,
        max_age: int | None = None,
        return_timestamp: bool = False,
        salt: str | bytes | None = None,
    ) -> Any:
        """itsdangerous's ``loads``; a cookie that passes every check is
        verified by :meth:`KeyCachingSigner.verified` (its one signer holds
        every key, so there is nothing else to try), any other goes through
        itsdangerous, which raises the error that says what is wrong."""
        if not return_timestamp and not self.fallback_signers:
            signer = self.make_signer(salt)
            if type(signer) is KeyCachingSigner:
                payload = signer.verified(want_bytes(s), max_age)
                if payload is not None:
                    return self.load_payload(payload)
        return super().loads(s, max_age, return_timestamp, salt)

    def dump_payload(self, obj: Any) -> bytes:
        """itsdangerous's URL-safe payload: the base64 of the JSON, or ``.``
        and the base64 of its zlib stream when that is shorter by more than
        a byte.

        Two choices of our own, both read by Flask as it reads its own
        cookies (any zlib reads the stream; an uncompressed payload is Flask's
        byte for byte):

        * JSON shorter than :data:`_COMPRESS_FROM` bytes is not compressed:
          zlib adds 8 bytes of framing, so JSON that short rarely gets
          shorter (a session like ``{"user_id": 42}`` or a CSRF token never
          does), and a cookie that small is nowhere near the 4 KB limit that
          compression is for.
        * Longer JSON is compressed with a small zlib state (an 8 KB window,
          memLevel 6: 64 KB) instead of zlib's default (256 KB, allocated,
          cleared and freed for every cookie written, which costs more than
          the rest of the signing and, where the allocator returns it to the
          system, 19 page faults a cookie). The stream is about as small
          (within 2% on the sessions tested), but not zlib's
          default's byte for byte, which was never part of the format (it
          differs between zlib builds).
        """
        json = Serializer.dump_payload(self, obj)
        if len(json) < _COMPRESS_FROM:
            return base64_encode(json)
        compressor = zlib.compressobj(-1, zlib.DEFLATED, _ZLIB_WBITS, _ZLIB_MEMLEVEL)
        compressed = compressor.compress(json) + compressor.flush()
        if len(compressed) < len(json) - 1:
            return b"." + base64_encode(compressed)
        return base64_encode(json)
