"""Outbound messages: bill notices, receipts, complaint updates, reminders and warnings.

The ledger's outbox (reached over HTTP through `tasdeed.billing_client`) is the record of
every message and its state; Redis Streams carry only the work between the relay, which
renders and queues, and the workers, which send through Twilio's Messaging API.
"""
