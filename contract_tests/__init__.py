"""chatmock's contract suite: schema-driven tests against the mock or a live server.

The library (imported by the tests and by ``chatmock test`` / ``chatmock validate``):

- ``config``: target, base URLs, APIs, write permission; credentials from the environment only
- ``targets``: ``Target.call`` builds, sends, checks and records one request; ``open_target``
- ``checks``: ``check_exchange`` (the checks of ``mockserver.core.conformance``) and ``ContractFailure``
- ``specs``: the per-endpoint request specs registry, ``Discovery``, ``RequestSpec``
- ``apis/<api>``: what the schemas cannot say (logins, discovery, the request specs)
- ``skips``: when a test cannot run on this target, and why
- ``ledger``: documented versus seen statuses and error codes
- ``invariants``, ``mutations``: message-order invariants; broken variants of a valid instance
- ``report``, ``html_report``, ``command``: the ``chatmock validate`` and ``chatmock test`` commands

``conftest.py`` wires it into pytest; the tests themselves are in ``contract_tests/tests/``.
"""
