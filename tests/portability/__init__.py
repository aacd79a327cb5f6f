"""Portability and hardening tests, generic over every layer case (tests/cases)."""
