"""Hooks other apps listen to (conduct is a leaf: it imports no domain app, so it announces instead).

``finding_confirmed(finding, actor, categories)``: a supervisor confirmed a ``ConductFinding`` whose staff
member is known and whose highest severity reaches ``SERVICEHALL_CONDUCT_VIOLATION_MIN_SEVERITY``;
``categories`` are the rule categories of the finding (推诿, 冷漠, …). The supervision app records the
violation from here.

Unlike ``queueing.signals`` this is sent inside the confirming transaction, not on commit: the violation is
part of the same state change, and a listener that fails rolls the confirmation back with it. A listener
returns the record it created or found for the finding (a model instance) or None, and must be idempotent
per finding: it may be asked again for a finding it has already answered.
"""

from django.dispatch import Signal

finding_confirmed = Signal()
