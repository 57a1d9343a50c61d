"""USSD channel: aggregator callbacks in, the core's flows rendered as handset screens out.

One module per aggregator wire format (`africastalking`, `hubtel`) turning requests into one
event model (`events`); `service` holds the hop logic (replays, paging, resume) and `pages`
fits screens to a USSD page.
"""
