"""A value no schema documents: the suite puts it where a parameter has a pattern, an enum or a
non-string type, and the request must be refused (``test_malformed_parameter_rejected``)."""

UNDOCUMENTED = "chatmock-undocumented-value"
