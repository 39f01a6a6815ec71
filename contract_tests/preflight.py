"""Before a live run: everything it needs, checked before any test, each problem one line.

A live run that cannot reach its server, lacks credentials or has a malformed base URL would
otherwise fail (or skip) every test with the same traceback; :func:`live_problem` names what is
missing instead (``chatmock: --target live --api lingr needs CHATMOCK_LINGR_USER and
CHATMOCK_LINGR_PASSWORD``) and the suite's ``conftest.py`` stops with exit code 2.
"""

from __future__ import annotations

import errno
import re

import httpx

from contract_tests.apis import support
from contract_tests.config import SuiteConfig
from contract_tests.vault import VAULT

EXIT_PREFLIGHT = 2
REACH_TIMEOUT = 10.0
_ERRNO = re.compile(r"^\[Errno (\d+)\]\s*")


def missing_credentials(config: SuiteConfig) -> str | None:
    """``--api lingr needs CHATMOCK_LINGR_USER and CHATMOCK_LINGR_PASSWORD`` for every selected API lacking them."""
    missing = []
    for api in config.apis:
        needs = support(api).missing_live_credentials(config.environ)
        if needs:
            missing.append(f"--api {api} needs {needs}")
    return "; ".join(missing) or None


def _reason(error: httpx.TransportError) -> str:
    if isinstance(error, httpx.TimeoutException):
        return f"no answer within {REACH_TIMEOUT:g} s"
    cause = error.__cause__ or error.__context__
    number = getattr(cause, "errno", None)
    text = str(error) or type(error).__name__
    found = _ERRNO.match(text)
    if found:
        number = int(found.group(1))
        text = text[found.end() :]
    if number == errno.ECONNREFUSED:
        return "connection refused"
    return text.split("\n")[0].lower()


def unreachable(config: SuiteConfig, client: httpx.Client | None = None) -> str | None:
    """``cannot reach http://...: connection refused`` for the first selected API whose server
    does not answer (any HTTP answer, an error status too, counts as reachable)."""
    own = client is None
    http = client or httpx.Client(timeout=REACH_TIMEOUT, follow_redirects=False, trust_env=False)
    try:
        for api in config.apis:
            url = config.base_urls[api]
            try:
                http.get(url + "/")
            except httpx.UnsupportedProtocol:
                return f"cannot reach {url} ({api}): not an http:// or https:// URL"
            except httpx.TransportError as error:
                return f"cannot reach {url} ({api}): {_reason(error)}"
    finally:
        if own:
            http.close()
    return None


def live_problem(config: SuiteConfig) -> str | None:
    """What stops this live run, in one line, or None."""
    problem = missing_credentials(config)
    if problem:
        return f"--target live {problem}"
    return unreachable(config)


def message(problem: str) -> str:
    return VAULT.scrub(f"chatmock: {problem}")
