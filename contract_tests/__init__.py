"""chatmock's contract suite: schema-driven tests against the mock or a live server.

The library (imported by the tests and by ``chatmock test`` / ``chatmock validate``):

- ``config``: target, base URLs, APIs, write permission; credentials from the environment only
- ``preflight``: what a live run needs (credentials, a well-formed URL, a server that answers), checked first
- ``targets``: ``Target.call`` builds, sends, checks and records one request; ``Target.supporting`` marks
  the calls that only prepare a test; ``open_target``
- ``checks``: ``check_exchange`` (the checks of ``mockserver.core.conformance``) and ``ContractFailure``
  (endpoint, paths, observed type, curl line, and its cause)
- ``vault``: every secret of the run (from the environment, and as servers issue them) and the scrubber
  every report, the terminal and the JUnit XML pass through
- ``causes``: failures grouped by cause: one drift reported once, the tests it blocks skipped
- ``specs``: the per-endpoint request specs registry, ``Discovery``, ``RequestSpec``
- ``apis/<api>``: what the schemas cannot say (logins, discovery, the request specs, live credentials)
- ``skips``: when a test cannot run on this target, and why; which API a test belongs to
- ``ledger``: documented versus seen statuses and error codes, drifting endpoints; merged across xdist workers
- ``invariants``: message-order invariants; ``mutations``: the value no schema documents
- ``report``, ``html_report``, ``command``: the ``chatmock validate`` and ``chatmock test`` commands

``conftest.py`` wires it into pytest; the tests themselves are in ``contract_tests/tests/``.
"""
