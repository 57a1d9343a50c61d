"""IVR channel: Twilio Voice webhooks in, the core's flows spoken as TwiML out.

`voice` turns screens into sentences and TwiML (amounts in words, codes digit by digit);
`calls` holds the call logic (replays, silences, failures, agent transfer); `routes` checks
every request's Twilio signature before anything else.
"""
