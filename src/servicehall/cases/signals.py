"""Hooks other apps listen to; sent on commit, so a listener never sees a rolled-back change.

``case_completed(case)``: a case was completed (办结). The 好差评 app (``feedback``) issues the case's
rating token from here, for 网上"一事一评".
"""

from django.dispatch import Signal

case_completed = Signal()
