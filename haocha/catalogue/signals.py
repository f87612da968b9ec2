"""What case registration tells the layers above it (they connect in their AppConfig.ready)."""

from django.dispatch import Signal

# Sent inside the registering transaction with `cases`: the Case rows just created or updated, so
# a receiver's writes (the SMS invitation, 办完即评) commit or roll back with the cases.
cases_registered = Signal()
