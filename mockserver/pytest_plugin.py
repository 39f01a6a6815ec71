"""chatmock's pytest plugin (entry point ``pytest11``); fixtures are added in this module."""
