"""Rasa custom actions (rasa-sdk action server, Python 3.11, its own process).

Every action reaches the billing backend only through the core's BillingClient and words
every reply from the core's catalogues. Full e-payment codes never go into slots (the
action server's error handler echoes slots): they stay in this server's state store, keyed
by conversation (see actions/walk.py).

Run: `.venv/bin/python -m actions.server` (rasa-sdk's app on 127.0.0.1:5055 by default,
`ACTIONS_HOST`/`ACTIONS_PORT` to change; malformed calls get a short error that echoes
nothing of the request: the action server has no authentication of its own).
"""
