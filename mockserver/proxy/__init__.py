"""A validating proxy in front of a real server: drift reports, recording with redaction, a leak check."""
