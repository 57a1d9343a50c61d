"""Chat when its state store fails, on a real Redis behind a fault proxy: the person always
gets an answer in their language (never an HTTP 500), and a turn that was already answered
(a receipt) is still delivered when Redis dies before its replies could be kept. Rasa is a
stand-in here: what is under test is the gateway's chat service and Redis."""

from __future__ import annotations

from typing import Any

from chat.service import ChatService
from tasdeed.i18n import translate
from tasdeed.profile import load_profile
from tasdeed.state_store import RedisStore
from tests.processes import free_port
from tests.tcp_proxy import Fault, Mode, TcpProxy


class _Rasa:
    """Rasa's REST channel answering a confirmed payment; `during` runs while it answers."""

    def __init__(self, during: Any = None):
        self.during = during
        self.calls = 0

    async def send(self, sender: str, text: str) -> list[dict[str, Any]]:
        self.calls += 1
        if self.during is not None:
            self.during()
        return [{"text": "تم الدفع، رقم الإيصال EG261202ABCDEF12"}]


async def test_an_unreachable_redis_gets_an_answer_in_the_persons_language() -> None:
    rasa = _Rasa()
    store = RedisStore(f"redis://127.0.0.1:{free_port()}/0", prefix="test-chat-down:")
    service = ChatService(load_profile("eg"), rasa, store)  # type: ignore[arg-type]
    try:
        for text, language in (("نعم", "ar"), ("yes please", "en")):
            turn = await service.handle(
                channel="whatsapp", address="+201000000003", message_id="m" + language,
                text=text, images=False,
            )  # fmt: skip
            (reply,) = turn.replies
            # The catalogue's "service unavailable", in the person's language and dialect.
            assert reply.text == translate("error.billing_unavailable", language, "egyptian")
        assert rasa.calls == 0  # nothing was passed on, so nothing can have been paid
    finally:
        await store.close()


async def test_a_receipt_is_delivered_when_redis_dies_mid_turn() -> None:
    async with TcpProxy(upstream_port=6379) as proxy:

        def redis_dies() -> None:
            proxy.set(Fault(Mode.DROP))
            proxy.reset_live()

        rasa = _Rasa(during=redis_dies)
        store = RedisStore(f"redis://127.0.0.1:{proxy.port}/0", prefix="test-chat-dies:")
        service = ChatService(load_profile("eg"), rasa, store)  # type: ignore[arg-type]
        try:
            turn = await service.handle(
                channel="whatsapp", address="+201000000004", message_id="m1", text="نعم",
                images=False,
            )  # fmt: skip
        finally:
            await store.close()
    assert rasa.calls == 1
    assert [reply.text for reply in turn.replies] == ["تم الدفع، رقم الإيصال EG261202ABCDEF12"]
