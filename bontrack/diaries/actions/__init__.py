"""Every change to diaries, questionnaires, consultation notes and eligibility decisions.

One module per use case; one durable transaction per action with its audit rows inside. The
actor is a staff member (checked against the patient's clinic) or the patient themself through
the portal.
"""
