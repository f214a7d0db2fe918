"""Tests of a provisioned box, run by molecule's testinfra verifier (see conftest.py)."""
