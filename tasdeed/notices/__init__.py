"""What Tasdeed's outbound messages say, what each costs in SMS segments, and when bulk ones
may go out. Sending them is `messaging/`'s job; the ledger's outbox records them."""
