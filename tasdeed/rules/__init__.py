"""Utility rules from the source articles (shared/RULES.md), as pure functions.

No I/O, no database, no clock: callers pass the facts, the time (`now`, timezone-aware) and
the profile's rule settings (`settings.rule_settings(profile)`; every figure is data in
`tasdeed/profiles/<id>.toml`). Each decision carries its reasons as catalogue `Text`s
(`tasdeed/locale/*/LC_MESSAGES/rules.po`) that name the rule and the figures used, so a
channel can say or show why.

Modules: `kuwait` (transaction block, installment schedules and missed installments, Ahsemha
eligibility, savings and discounts, and the calculator's estimate from a person's own
figures), `saudi` (the eight guaranteed service standards), `disconnection` (the protected
times and cases, and the compensation when one is broken), `egypt` (prepaid meter
conversion), `calendar` (working days).

Interpretation choices where the articles are vague:
- Kuwait block: "debt exceeds 500 KD" is strictly greater (500.000 is not blocked); "3
  consecutive months" is a run of at least 3 missed installments. An installment is missed
  when its month ends without everything due so far having been paid (payments settle the
  oldest installment first), and the run is counted back from the latest month that ended.
- Ahsemha: "more than 12 months metered" is strictly more; "reading at most 7 days before
  registering" allows 7; exclusion at 2 consecutive or 3 total unpaid months; selling the
  property less than 12 months after registering excludes, at 12 months it does not.
- Ahsemha incentive 2 ("when the saving is not less than the installed-capacity percentage,
  which ranges from 1 % to 10 %, a discount of at most 30 %"): the discount grows with the
  installed capacity c, `pv_discount_per_capacity_pct` (default 3) × c, capped at 30 %, so
  1 % of capacity earns 3 % and 10 % earns the article's maximum 30 %. It is granted only
  when 1 ≤ c ≤ 10 and the electricity saving is at least c. It adds to incentive 1 (40 + 30
  is the article's 70 % electricity cap), and the sum is capped at 70 %; water at 50 %.
  Savings are percentages from 0 to 100; anything else is a ValueError. A saving is the share
  consumed less than the same period a year before (stored readings: the latest month against
  the same month last year; the calculator: the year a person states against the one before),
  to a tenth of a percent rounded down, so 19.96 % does not reach the 20 % of incentive 1.
- Saudi standards: a limit in hours or days is met when the event took no longer than it
  (reconnection at exactly 2 h, an outage of exactly 6 h: no compensation). Working days are
  counted after the local start date up to the local end date, skipping the weekend (Friday
  and Saturday by default) and the holidays the caller passes. The outage-count standard
  pays once per calendar year, on the first outages that made the count exceed 2. Outages
  count whether planned or not. Open events count once `now` is past their deadline.
- Disconnection: "after 12 noon" is strictly after 12:00:00 local time. Only the four named
  protected cases of seven are checked (the article does not name the other three).
- Percentages that are not whole numbers are passed as a nested `rules.decimal` Text
  (whole part and fraction digits), so "١٩٫٩" follows the profile's digits on screens.
"""
