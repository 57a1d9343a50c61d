"""Tasdeed core: flows, the payment contract's client side, Arabic text and money, profiles.

The core knows nothing of Twilio, USSD or Rasa; channel adapters render what it decides.
"""
