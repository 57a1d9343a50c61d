"""Chat channel: WhatsApp and SMS over Twilio Messaging, and a web chat, relayed to Rasa.

The gateway receives every outside webhook, checks Twilio's signature, drops a message it
has already handled (Twilio retries), normalises the text with the core's normaliser (the
same function the training data went through) and passes it to Rasa's REST channel on an
internal address. Replies go back as TwiML (`MessagingResponse`), receipts also as an image
where the channel allows it (WhatsApp).
"""
