"""Audit trail: append-only, hash-chained records of every state change, refusal and failed login."""
