"""What counts as a secret, by name: one vocabulary for the journal, the proxy's redaction and
the suite's reports. A header, parameter or JSON field whose name matches :data:`SECRET_NAME`
has its value replaced wherever the mock shows it."""

from __future__ import annotations

import re

# exact names that are secrets in one of the four APIs (Lingr's ``session``, Rocket.Chat's
# ``resume``), then any name that contains a secret-like word (``X-Api-Key``,
# ``Proxy-Authorization``, ``refresh_token``, ``client_secret``, ``session_id`` ...)
SECRET_NAME = re.compile(
    r"^(?:password|pass|passwd|session|resume|authtoken|secret|cookie|set-cookie)$"
    r"|^(?!public).*(?:token|secret|passw|api[-_]?key|app[-_]?key|authoriz|cookie|credential|session[-_]?id)",
    re.IGNORECASE,
)


def is_secret_name(name: object) -> bool:
    return bool(SECRET_NAME.match(str(name)))
