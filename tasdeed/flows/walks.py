"""Every walk, once, as a table: balance, pay, complaint, follow a complaint, installments, the
rules topics, meter readings and the Ahsemha calculator. USSD and IVR enter at `language`;
chat enters a walk at its first step (`WALK_STARTS`) when Rasa recognises what the person wants.

Read a row as: the step shows `body` (and its options), expects an answer of kind `expects`;
a choice leads to `to`, or runs `call` which may lead to any of `leads`; a data answer runs
`take`. `yes`/`no` name the option that an explicit yes or no from the reviewed answer lists
stands for. `python -m tasdeed.flows.diagram` draws this table as a Mermaid diagram.
"""

from __future__ import annotations

from tasdeed.contract import COMPLAINT_CATEGORIES, READING_KINDS
from tasdeed.flows.calls import CALCULATOR, RESUME_DIGITS, TICKET_LENGTH, WalkCalls, rule_topics
from tasdeed.flows.screens import Expects
from tasdeed.flows.steps import Call, Data, Go, Step, says
from tasdeed.money import Money
from tasdeed.profile import Profile
from tasdeed.rules.decision import percent
from tasdeed.rules.settings import rule_settings
from tasdeed.text import DigitString, Months, Text, text_from_json

C = WalkCalls  # the table names core functions as C.<name>


def _money(profile: Profile, minor: int) -> Money:
    return Money(int(minor), profile.currency)


def _code_length(profile: Profile) -> dict[str, int]:
    return {"length": profile.payment_code.length}


# ---- bodies -----------------------------------------------------------------------------------


def _ask_code(profile: Profile, data: Data) -> tuple[Text, ...]:
    return (Text("ask.code", _code_length(profile)),)


def _ask_code_or_account(profile: Profile, data: Data) -> tuple[Text, ...]:
    return (
        Text(
            "ask.code_or_account",
            {"length": profile.payment_code.length, "account": profile.account_number.digits},
        ),
    )


# A flagged account's prepaid-meter warning (the profile's `rules.prepaid_conversion`, as the
# backend decides it for the account): one short line where what is owed is shown.
PREPAID_WARNING = Text("rules.eg.prepaid.warning")
# Lines a confirmation leaves out where they would push its options to another page (USSD):
# the payee, the amount, "no refund" and the options come first.
SPARE_ON_CONFIRM = frozenset({PREPAID_WARNING.key})


def _prepaid_warning(found: Data) -> tuple[Text, ...]:
    return (PREPAID_WARNING,) if found.get("prepaid_flagged") else ()


def _balance(profile: Profile, data: Data) -> tuple[Text, ...]:
    balance = data["balance"]
    due = _money(profile, balance["due_minor"])
    payee = Text("balance.payee", {"payee": balance["payee"], "area": balance["area"]})
    if not due.minor:
        return (payee, Text("refusal.nothing_due"))
    owed = Text("balance.due", {"amount": due, "months": Months(tuple(balance["months"]))})
    shown = (payee, owed, *_prepaid_warning(balance))
    return shown if "code" in data else (*shown, Text("balance.pay_with_code"))


def _quote(profile: Profile, data: Data) -> tuple[Text, ...]:
    """The confirmation: payee, bill months and amount, and that payments cannot be refunded.

    A flagged account's prepaid-meter warning is said here too (a call, a chat), but never at
    the cost of the options: a USSD confirmation is one 80-character page (UCS-2), which the
    payee, the amount, "no refund" and the options already nearly fill, so USSD leaves the
    warning out there (`SPARE_ON_CONFIRM`, ussd.service) and a USSD user reads it on the
    balance screen (menu 1), the screen that says what is owed. A receipt does not repeat it:
    paying a whole quote clears the arrears (and Egypt's profile takes no part payments).
    """
    quote = data["quote"]
    return (
        Text("quote.payee", {"payee": quote["payee"], "area": quote["area"]}),
        Text(
            "quote.bill",
            {
                "months": Months(tuple(quote["months"]), short=True),
                "amount": _money(profile, quote["amount_minor"]),
            },
        ),
        *_prepaid_warning(quote),
        Text("quote.no_refund"),
    )


def _ask_amount(profile: Profile, data: Data) -> tuple[Text, ...]:
    return (Text("ask.amount", {"due": _money(profile, data["quote"]["due_minor"])}),)


def _paid_recently(profile: Profile, data: Data) -> tuple[Text, ...]:
    receipt = DigitString(data.get("recent_receipt", ""))
    return (Text("pay.paid_recently", {"receipt": receipt}),)


def _paid_already(profile: Profile, data: Data) -> tuple[Text, ...]:
    """Nothing more can be paid (nothing due, and the profile takes no overpayment): what
    was paid, when, and its receipt, with no "pay again" that could only be refused."""
    recent = data.get("recent")
    if not recent:
        return _paid_recently(profile, data)
    paid = {
        "amount": _money(profile, recent["amount_minor"]),
        "date": recent["date"],
        "receipt": DigitString(data.get("recent_receipt", "")),
    }
    return (Text("pay.paid_already", paid),)


def _receipt(profile: Profile, data: Data) -> tuple[Text, ...]:
    receipt = data["receipt"]
    amount = _money(profile, receipt["amount_minor"])
    summary = Text("receipt.summary", {"amount": amount, "receipt": DigitString(receipt["number"])})
    return (summary, Text("receipt.sms_follows"))


def _ticket_standard(profile: Profile, ticket: Data) -> tuple[Text, ...]:
    """Under a guaranteed standard, the line saying what it promises (none otherwise)."""
    standard = ticket.get("standard")
    if not standard:
        return ()
    amount = _money(profile, standard["amount_minor"])
    return (Text("complaint.standard", {"max": standard["working_days"], "amount": amount}),)


def _ticket_filed(profile: Profile, data: Data) -> tuple[Text, ...]:
    ticket = data["ticket"]
    return (
        Text("complaint.filed", {"ticket": DigitString(ticket["number"])}),
        Text("complaint.due", {"date": ticket["due"]}),
        *_ticket_standard(profile, ticket),
    )


def _ticket_status(profile: Profile, data: Data) -> tuple[Text, ...]:
    ticket = data["ticket"]
    state = Text(f"complaint.state.{ticket['status']}")
    return (
        Text("complaint.status", {"ticket": DigitString(ticket["number"]), "status": state}),
        Text("complaint.due", {"date": ticket["due"]}),
        *_ticket_standard(profile, ticket),
    )


def _ask_months(profile: Profile, data: Data) -> tuple[Text, ...]:
    settings = profile.installments
    return (Text("ask.months", {"min": settings.min_months, "max": settings.max_months}),)


def _acknowledge(profile: Profile, data: Data) -> tuple[Text, ...]:
    due = _money(profile, data["due_minor"])
    return (Text("installments.acknowledge", {"amount": due}),)


def _plan(profile: Profile, data: Data) -> tuple[Text, ...]:
    plan = data["plan"]
    installment = _money(profile, plan["installment_minor"])
    return (
        Text("installments.plan", {"count": plan["months"], "installment": installment}),
        Text("installments.first_due", {"date": plan["first_due"]}),
    )


def _rule_answer(profile: Profile, data: Data) -> tuple[Text, ...]:
    return tuple(text_from_json(reason) for reason in data["answer"])


def _ask_reading(profile: Profile, data: Data) -> tuple[Text, ...]:
    kind = Text(f"reading.kind.{data['reading_kind']}")
    return (Text("reading.ask", {"kind": kind}),)


def _reading_saved(profile: Profile, data: Data) -> tuple[Text, ...]:
    reading = data["reading"]
    kind = Text(f"reading.kind.{reading['kind']}")
    return (
        Text("reading.saved", {"kind": kind, "value": DigitString(str(reading["value"]))}),
        Text("reading.consumption", {"consumption": reading["consumption"]}),
    )


def _consumption_step(name: str, take: Call, then: str) -> Step:
    """A calculator step asking one consumption figure: its prompt is its own name."""
    return Step(name, says(name), Expects.NUMBER, take=take, leads=(then,))


def _ask_pv(profile: Profile, data: Data) -> tuple[Text, ...]:
    """The installed solar capacity, with incentive 2's range from the profile."""
    settings = rule_settings(profile).ahsemha
    if settings is None:  # a utility without the incentive never reaches this step
        return (Text("refusal.topic_not_offered"),)
    limits = {
        "min": percent(settings.pv_capacity_min_pct),
        "max": percent(settings.pv_capacity_max_pct),
    }
    return (Text("calc.pv", limits),)


def _resume(profile: Profile, data: Data) -> tuple[Text, ...]:
    # Nothing about the payment (not even the code's last digits) before the proof.
    return (Text("resume.prove", {"count": RESUME_DIGITS}),)


def _handoff(profile: Profile, data: Data) -> tuple[Text, ...]:
    return (Text("flow.handoff", {"line": DigitString(profile.contact_line)}),)


def _ask_ticket(profile: Profile, data: Data) -> tuple[Text, ...]:
    return (Text("ask.ticket", {"length": TICKET_LENGTH}),)


# ---- options that depend on the profile or the quote ---------------------------------------------

MENU_ITEMS = ("balance", "pay", "complaint", "follow", "installments", "rules")
MENU_TARGETS = {
    "balance": "balance.code",
    "pay": "pay.code",
    "complaint": "complaint.category",
    "follow": "follow.ticket",
    "installments": "installments.code",
    "rules": "rules.menu",
    "language": "language",
}


def menu_items(profile: Profile) -> tuple[str, ...]:
    return MENU_ITEMS if rule_topics(profile) else MENU_ITEMS[:-1]


def _main_options(profile: Profile, data: Data) -> tuple[Go, ...]:
    # The last item switches language: a returning caller's language is remembered, so the
    # language menu is not the first screen any more.
    items = (*menu_items(profile), "language")
    return tuple(
        Go(str(i), Text(f"main.{item}"), to=MENU_TARGETS[item])
        for i, item in enumerate(items, start=1)
    )


def _category_options(profile: Profile, data: Data) -> tuple[Go, ...]:
    return tuple(
        Go(
            str(i),
            Text(f"complaint.category.{category}"),
            call=C.choose_category,
            leads=("complaint.code",),
        )
        for i, category in enumerate(COMPLAINT_CATEGORIES, start=1)
    )


def _topic_options(profile: Profile, data: Data) -> tuple[Go, ...]:
    return tuple(
        Go(
            str(i),
            Text(f"topic.{topic}"),
            call=C.choose_topic,
            leads=(CALCULATOR,) if topic == "calculator" else ("rules.code",),
        )
        for i, topic in enumerate(rule_topics(profile), start=1)
    )


def _reading_options(profile: Profile, data: Data) -> tuple[Go, ...]:
    return tuple(
        Go(
            str(i),
            Text(f"reading.kind.{kind}"),
            call=C.choose_reading_kind,
            leads=("reading.value",),
        )
        for i, kind in enumerate(READING_KINDS, start=1)
    )


def _other_amount_offered(profile: Profile, data: Data) -> bool:
    return profile.payments.allow_partial and not data.get("quote", {}).get("override", False)


QUOTED = ("pay.confirm", "pay.again", "pay.paid")
CONFIRMED = ("pay.receipt", "pay.unknown", "pay.again", "pay.paid", "pay.confirm")

# ---- the table ----------------------------------------------------------------------------------

STEPS: dict[str, Step] = {
    step.name: step
    for step in (
        Step(
            "language",
            says("lang.prompt"),
            options=(
                Go("1", Text("lang.arabic"), call=C.choose_language, leads=("main",)),
                Go("2", Text("lang.english"), call=C.choose_language, leads=("main",)),
            ),
        ),
        Step("main", says("main.title"), options=_main_options),
        # balance: code or account number → what is owed (→ pay it, with a code)
        Step(
            "balance.code",
            _ask_code_or_account,
            Expects.CODE,
            take=C.look_up_balance,
            leads=("balance.result", "balance.shown"),
        ),
        Step(
            "balance.result",
            _balance,
            options=(Go("1", Text("balance.pay_now"), call=C.quote_balance, leads=QUOTED),),
            yes="1",
        ),
        Step("balance.shown", _balance, final=True),
        # pay: code → local check → quote → explicit yes → receipt
        Step("pay.code", _ask_code, Expects.CODE, take=C.quote_code, leads=QUOTED),
        Step(
            "pay.confirm",
            _quote,
            options=(
                Go("1", Text("pay.confirm"), call=C.confirm_quote, leads=CONFIRMED),
                Go("2", Text("pay.cancel"), to="pay.cancelled"),
                Go("3", Text("pay.other_amount"), to="pay.amount", when=_other_amount_offered),
            ),
            yes="1",
            no="2",
        ),
        Step("pay.amount", _ask_amount, Expects.AMOUNT, take=C.quote_amount, leads=QUOTED),
        Step(
            "pay.again",
            _paid_recently,
            options=(
                Go("1", Text("pay.pay_again"), call=C.quote_again, leads=QUOTED),
                Go("2", Text("pay.cancel"), to="pay.cancelled"),
            ),
            yes="1",
            no="2",
        ),
        Step("pay.paid", _paid_already, final=True),
        Step("pay.receipt", _receipt, final=True),
        Step("pay.cancelled", says("flow.cancelled"), final=True),
        Step("pay.unknown", says("error.payment_outcome_unknown"), final=True),
        # a payment dropped mid-way: the code's last digits, then a fresh quote (or the
        # receipt of a confirm that was already sent); 00 starts over
        Step("resume", _resume, Expects.NUMBER, take=C.prove_resume, leads=CONFIRMED),
        # complaint: category → code or account → description → ticket
        Step("complaint.category", says("complaint.choose"), options=_category_options),
        Step(
            "complaint.code",
            _ask_code_or_account,
            Expects.CODE,
            take=C.check_complaint_account,
            leads=("complaint.description",),
        ),
        Step(
            "complaint.description",
            says("ask.description"),
            Expects.TEXT,
            take=C.file_complaint,
            leads=("complaint.done",),
        ),
        Step("complaint.done", _ticket_filed, final=True),
        Step(
            "follow.ticket",
            _ask_ticket,
            Expects.TICKET,
            take=C.follow_complaint,
            leads=("follow.result",),
        ),
        Step("follow.result", _ticket_status, final=True),
        # installments: code or account → months → (debt acknowledgment) → plan
        Step(
            "installments.code",
            _ask_code_or_account,
            Expects.CODE,
            take=C.check_installment_account,
            leads=("installments.months",),
        ),
        Step(
            "installments.months",
            _ask_months,
            Expects.NUMBER,
            take=C.choose_months,
            leads=("installments.ack", "installments.done"),
        ),
        Step(
            "installments.ack",
            _acknowledge,
            options=(
                Go(
                    "1",
                    Text("installments.agree"),
                    call=C.acknowledge_debt,
                    leads=("installments.done",),
                ),
                Go("2", Text("pay.cancel"), to="installments.cancelled"),
            ),
            yes="1",
            no="2",
        ),
        Step("installments.done", _plan, final=True),
        Step("installments.cancelled", says("flow.cancelled"), final=True),
        # rules: topic → code → the rule's answer for this account (or a meter reading; the
        # calculator needs no code)
        Step("rules.menu", says("topic.choose"), options=_topic_options),
        Step(
            "rules.code",
            _ask_code,
            Expects.CODE,
            take=C.answer_rule,
            leads=("rules.answer", "reading.kind"),
        ),
        Step("rules.answer", _rule_answer, final=True),
        Step("reading.kind", says("reading.choose"), options=_reading_options),
        Step(
            "reading.value",
            _ask_reading,
            Expects.NUMBER,
            take=C.submit_reading,
            leads=("reading.done",),
        ),
        Step("reading.done", _reading_saved, final=True),
        # the Ahsemha calculator (no account, before registering): electricity last year and
        # this year, water likewise, the solar capacity → the rule's answer for those figures
        _consumption_step(CALCULATOR, C.calc_electricity_before, "calc.electricity_now"),
        _consumption_step("calc.electricity_now", C.calc_electricity_now, "calc.water_before"),
        _consumption_step("calc.water_before", C.calc_water_before, "calc.water_now"),
        _consumption_step("calc.water_now", C.calc_water_now, "calc.pv"),
        Step("calc.pv", _ask_pv, Expects.NUMBER, take=C.estimate_ahsemha, leads=("rules.answer",)),
        # leaving, from any step of any walk
        Step("walk.cancelled", says("flow.cancelled"), final=True),
        Step("walk.handoff", _handoff, final=True),
        Step("walk.too_many_tries", says("flow.too_many_tries"), final=True),
        Step("walk.over_budget", says("flow.over_budget"), final=True),
    )
}

# Where chat enters a walk when Rasa recognises what the person wants, with what it presets.
WALK_STARTS: dict[str, tuple[str, dict[str, str]]] = {
    "balance": ("balance.code", {}),
    "pay": ("pay.code", {}),
    "complaint": ("complaint.category", {}),
    "outage": ("complaint.code", {"category": "outage"}),
    "billing_complaint": ("complaint.code", {"category": "billing"}),
    "follow": ("follow.ticket", {}),
    "installments": ("installments.code", {}),
    **{
        f"rules:{topic}": ("rules.code", {"topic": topic})
        for topic in ("prepaid", "block", "incentive", "compensation", "disconnection")
    },
    "reading": ("rules.code", {"topic": "reading"}),
    "calculator": (CALCULATOR, {"topic": "calculator"}),
}
LEAVING_STEPS = ("walk.cancelled", "walk.handoff", "walk.too_many_tries", "walk.over_budget")

# ---- the main menu by intent ------------------------------------------------------------------

# What a recognised intent stands for on the main menu (the IVR maps what a caller says at the
# main menu to the key of that item). The core knows intent names only as plain strings.
MENU_INTENTS: dict[str, str] = {
    "pay_bill": "pay",
    "check_balance": "balance",
    "file_complaint": "complaint",
    "report_outage": "complaint",
    "complaint_status": "follow",
    "installment_request": "installments",
    "incentive_inquiry": "rules",
    "incentive_calculator": "rules",
    "compensation_inquiry": "rules",
    "prepaid_inquiry": "rules",
}


def menu_choice_for(profile: Profile, item: str) -> str | None:
    """The key ("1".."6") of `item` on this profile's main menu; None when it has no such item."""
    items = menu_items(profile)
    return str(items.index(item) + 1) if item in items else None
