"""Staff duty: posts, A/B roles (AB岗), roster, leave and handover, attendance, away-from-post, training."""
