"""Hooks other apps listen to; sent on commit, so a listener never sees a rolled-back change.

``service_finished(visit, ticket, window, clerk)``: a service ended at a window. The 好差评 issue
(``feedback``) issues the rating token from here; the citizen screen already shows the prompt.
"""

from django.dispatch import Signal

service_finished = Signal()
