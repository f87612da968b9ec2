"""An external 12345 platform (the city's own hotline system) that verifies and dispatches the 差评 work orders.

A region chooses (HotlinePlatform.mode): the built-in 12345 workbench, or an external platform. With an
external one, each 差评's order is made here as usual but marked with the platform (WorkOrder.platform) and
pushed to it through the outbox (push.py); the platform's signed callbacks (callbacks.py) drive the order
through the ordinary state machine — the steps its operators, the departments and its call-back team take
(machine.OnPlatform.THERE) — applied once each, in the platform's order, whatever order they arrive in. A
reconciliation round asks the platform about orders without news and re-pushes those it never acknowledged.
The wire format is protocol.py (docs/interface.md); the stand-in platform for tests and demos is standin.py.
"""
