"""Rasa custom actions (rasa-sdk action server, Python 3.11, its own process).

Every action reaches the billing backend only through the core's BillingClient and words
every reply from the core's catalogues. Full e-payment codes never go into slots (the
action server's error handler echoes slots): they stay in this server's state store, keyed
by conversation, and the slot holds the masked code.

Run: `.venv/bin/python -m rasa_sdk --actions actions --port 5055` (bound to 127.0.0.1 by
the Procfile's environment: the action server has no authentication of its own).
"""
