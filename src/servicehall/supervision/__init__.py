"""Supervision: violations (违规) and accountability (责任追究); later complaints and inspections."""
