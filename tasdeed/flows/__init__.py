"""The menus and the payment walk, defined once and rendered by every keypad channel.

`screens` holds what a screen is (catalogue keys, options, what input it expects);
`engine` holds what happens on each input. Channels (USSD, IVR) turn screens into text
pages or TwiML and feed people's input back; they never decide anything themselves.
"""
