"""What case registration tells the layers above it (they connect in their AppConfig.ready)."""

from django.dispatch import Signal

# Sent inside the registering transaction with `cases`: the Case rows just created or updated, so
# a receiver's writes (the SMS invitation, 办完即评) commit or roll back with the cases.
cases_registered = Signal()

# Sent inside the registering transaction before stored cases are rewritten, with `changes`: a list of
# (the stored Case, the fields the record gives it). A receiver answers {case_no: DomainError} for the
# rewrites it refuses (evaluations: what a rating rests on is frozen once the case is rated).
cases_rewriting = Signal()
