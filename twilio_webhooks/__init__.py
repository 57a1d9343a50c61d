"""What every Twilio webhook receiver shares (IVR and chat): checking X-Twilio-Signature.

Channels import this package; it imports neither channel.
"""
