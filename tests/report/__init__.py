"""Tests of the report page. A package, so that its conftest.py is imported as report.conftest
and does not replace tests/conftest.py as the ``conftest`` module other tests import from."""
