"""The contract suite's test modules (their wiring: ``contract_tests/conftest.py``)."""
