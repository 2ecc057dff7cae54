"""Operator tasks: demo centre, online backup and restore."""
