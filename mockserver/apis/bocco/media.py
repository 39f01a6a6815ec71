"""Media files of BOCCO messages: stored uploads and generated audio.

A message's ``audio`` / ``image`` fields hold download URLs of the form
``<base>/1/messages/<id>.<ext>`` [public: api-docs reference]. Uploaded parts are stored as
they came. Text and image messages carry a synthesized-speech URL in ``audio`` in every doc
example; the mock answers it with a small generated WAV (a short tone whose pitch and length
depend on the message) [inferred: the docs show ``.../60.wav`` for a text message].
"""

from __future__ import annotations

import io
import math
import re
import wave
from dataclasses import dataclass

SPEECH_EXT = "wav"
SPEECH_TYPE = "audio/wav"
_EXT = re.compile(r"^[a-z0-9]+$")
_BY_TYPE = {
    "audio/ogg": "ogg",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "audio/aac": "aac",
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "image/webp": "webp",
}
_BY_EXT = {ext: content_type for content_type, ext in _BY_TYPE.items()} | {"wav": SPEECH_TYPE, "jpeg": "image/jpeg"}


@dataclass(frozen=True)
class Blob:
    """One stored file: what ``<id>.<ext>`` downloads."""

    ext: str
    content_type: str
    content: bytes


def extension(filename: str, content_type: str) -> str:
    """The extension a stored upload is served under: the file name's, else the content type's, else ``bin``."""
    _, dot, suffix = filename.rpartition(".")
    if dot and _EXT.match(suffix.lower()):
        return suffix.lower()
    return _BY_TYPE.get(content_type.split(";", maxsplit=1)[0].strip().lower(), "bin")


def content_type_of(ext: str, given: str = "") -> str:
    given = given.split(";", maxsplit=1)[0].strip().lower()
    if given and given != "application/octet-stream":
        return given
    return _BY_EXT.get(ext, "application/octet-stream")


def tone(seed: int, seconds: float = 0.25, rate: int = 8000) -> bytes:
    """A small mono 16-bit WAV: a sine tone whose pitch follows ``seed`` (deterministic)."""
    frequency = 330 + (seed % 12) * 40
    frames = int(seconds * rate)
    samples = bytearray()
    for index in range(frames):
        value = int(8000 * math.sin(2 * math.pi * frequency * index / rate))
        samples += value.to_bytes(2, "little", signed=True)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(samples))
    return buffer.getvalue()


def speech(message_id: int, text: str) -> Blob:
    """The synthesized-speech stand-in of a message: longer text, longer tone (at most 1 s)."""
    seconds = min(1.0, 0.2 + 0.02 * len(text))
    return Blob(SPEECH_EXT, SPEECH_TYPE, tone(message_id, seconds))
