"""chatmock's contract suite: schema-driven tests against the mock or a live server."""
