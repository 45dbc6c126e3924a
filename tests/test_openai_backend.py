"""The OpenAI-compatible backend against a real HTTP server on 127.0.0.1 with scripted replies."""
from __future__ import annotations

import logging
import time

import pytest

from index.settings import Settings
from openai_server import ScriptedOpenAIServer
from rag.generate import generate_answer, stream_answer
from rag.llm import BackendUnavailable, available_backends, default_backend, load_chat_model
from rag.schema import Answer, Citation
from rag.verify import verify_answer

PASSAGES = [
    "De persoonsgegevens die wij nodig hebben voor het administreren van licenties worden maximaal een jaar bewaard na beëindiging van de overeenkomst.",
    "De gegevens van bezoekers van onze website worden in beginsel vijf jaar bewaard.",
    "Sensus verkoopt uw persoonsgegevens niet aan derden.",
]
QUESTION = "How long do you keep my data?"
GOOD = ("Sensus keeps licence data for at most one year after the contract ends [1]. "
        "Data of website visitors is kept for five years [2].")
INVENTS_NUMBER = ("Sensus keeps licence data for 10 years after the contract ends [1]. "
                  "Data of website visitors is kept for five years [2].")


def citations() -> list[Citation]:
    return [Citation(n=i, text=t, source="policies/sensus.txt", start=0, end=len(t), section="Bewaartermijn",
                     score=1.0, language="nl", company="sensus") for i, t in enumerate(PASSAGES, 1)]


def fallback(status: str = "answered") -> Answer:
    return Answer(company="sensus", question=QUESTION, language="en", status=status,
                  answer="EXTRACTIVE ANSWER [1]", citations=citations(), backend="extractive",
                  timings_ms={"retrieve": 5})


@pytest.fixture()
def server():
    srv = ScriptedOpenAIServer(chunk_chars=5).start()
    yield srv
    srv.stop()


@pytest.fixture()
def model(server):
    settings = Settings(openai_base_url=server.base_url, openai_model="scripted-model",
                        openai_api_key="sk-test-key", backend=None)
    return load_chat_model("openai", settings)


def run_stream(model, language="en", question=QUESTION, fb=None):
    pieces, final = [], None
    for item in stream_answer(model, question, language, citations(), fb or fallback(), "openai"):
        if isinstance(item, Answer):
            final = item
        else:
            assert final is None, "text after the final Answer"
            pieces.append(item)
    return pieces, final


def test_invented_number_is_rejected_retried_and_falls_back(server, model, caplog):
    server.replies = [INVENTS_NUMBER, INVENTS_NUMBER]
    with caplog.at_level(logging.INFO, logger="rag.generate"):
        pieces, final = run_stream(model)
    assert final.backend == "extractive-fallback"
    assert final.answer == "EXTRACTIVE ANSWER [1]" == "".join(pieces)  # a normal answer, shown as such
    assert final.status == "answered"
    assert not final.notice  # why goes to the log, never to the screen
    assert "10" in caplog.text and "verification" in caplog.text
    assert final.citations == citations()
    assert len(server.requests) == 2  # the first try and one retry, no more
    retry_prompt = server.requests[1]["body"]["messages"][-1]["content"]
    assert "10" in retry_prompt  # the retry states the problem
    assert server.requests[1]["body"]["messages"][-2]["role"] == "assistant"
    assert not any("10" in p for p in pieces)  # the invented number was never shown


def test_retry_with_a_good_answer_is_accepted(server, model):
    server.replies = [INVENTS_NUMBER, GOOD]
    final = generate_answer(model, QUESTION, "en", citations(), fallback(), "openai")
    assert final.backend == "openai"
    assert final.answer == GOOD
    assert len(server.requests) == 2


def test_good_reply_is_streamed_in_pieces(server, model):
    server.chunk_delay = 0.02
    server.replies = [GOOD]
    started = time.perf_counter()
    arrivals = []
    pieces, final = [], None
    for item in stream_answer(model, QUESTION, "en", citations(), fallback(), "openai"):
        arrivals.append(time.perf_counter())
        if isinstance(item, Answer):
            final = item
        else:
            pieces.append(item)
    assert final.backend == "openai"
    assert final.answer == GOOD
    assert verify_answer(final.answer, "en", final.citations, question=QUESTION, company="sensus") == []
    assert len(pieces) == 2 and "".join(pieces) == final.answer
    # the first sentence reached us before the server had sent the rest
    assert arrivals[0] < server.sent_done_at[0]
    assert server.requests[0]["body"]["stream"] is True
    assert final.timings_ms["retrieve"] == 5 and final.timings_ms["first_words"] <= final.timings_ms["generate"]
    assert started < arrivals[0]


def test_request_carries_model_key_passages_and_language(server, model):
    server.replies = [GOOD]
    generate_answer(model, QUESTION, "fr", citations(), fallback(), "openai")
    req = server.requests[0]
    headers = {k.lower(): v for k, v in req["headers"].items()}
    assert headers["authorization"] == "Bearer sk-test-key"
    assert req["body"]["model"] == "scripted-model"
    prompt = "\n".join(m["content"] for m in req["body"]["messages"])
    for i, passage in enumerate(PASSAGES, 1):
        assert f"[{i}] {passage}" in prompt
    assert QUESTION in prompt
    assert "French" in prompt and "français" in prompt


def test_wrong_language_and_dangling_marker_keep_only_what_passed(server, model, caplog):
    dutch = "Sensus bewaart licentiegegevens maximaal een jaar na het einde van de overeenkomst [1]."
    server.replies = [dutch, GOOD.replace("[2]", "[7]")]
    with caplog.at_level(logging.INFO, logger="rag.generate"):
        pieces, final = run_stream(model)
    assert "[7]" in caplog.text and not final.notice
    # the Dutch reply showed nothing; of the retry only its valid first sentence was released, and stays
    assert pieces == [GOOD.split(" [1]. ")[0] + " [1]."]
    assert final.answer == "".join(pieces) and final.backend == "openai"
    assert not any("[7]" in p or "bewaart" in p for p in pieces)


def test_flipped_negation_is_not_shown(server, model):
    flipped = "Yes, Sensus sells your personal data to third parties [3]."
    server.replies = [flipped, flipped]
    pieces, final = run_stream(model, question="Do you sell my data?")
    assert final.backend == "extractive-fallback"
    assert pieces == ["EXTRACTIVE ANSWER [1]"]  # nothing of the model, the extractive answer instead


def test_late_failure_keeps_released_text_and_drops_the_rest(server, model):
    # first sentence is fine and gets released; the last one invents an e-mail address
    bad_end = GOOD + " Write to privacy@example.org for more [1]."
    server.replies = [bad_end, bad_end]
    pieces, final = run_stream(model)
    assert pieces and "privacy@example.org" not in "".join(pieces)
    assert final.answer == "".join(pieces)  # nothing shown is taken back, nothing failed is added
    assert "privacy@example.org" not in final.answer and len(server.requests) == 1  # no retry after release


def test_not_found_never_calls_the_model(server, model):
    fb = fallback(status="not_found")
    pieces, final = run_stream(model, fb=fb)
    assert final is fb and pieces == []
    assert server.requests == []


def test_server_error_falls_back_and_logs_why(server, model, caplog):
    server.replies = [(500, "boom"), (500, "boom"), (500, "boom")]
    with caplog.at_level(logging.INFO, logger="rag.generate"):
        final = generate_answer(model, QUESTION, "en", citations(), fallback(), "openai")
    assert final.backend == "extractive-fallback" and final.answer == "EXTRACTIVE ANSWER [1]"
    assert "openai generator failed" in caplog.text and not final.notice


def test_available_and_default_backends(server, tmp_path):
    missing = str(tmp_path / "none.gguf")
    s = Settings(openai_base_url=server.base_url, local_model=missing, backend=None)
    assert available_backends(s) == ["extractive", "openai"]
    assert default_backend(s) == "openai"
    s = Settings(openai_base_url=None, local_model=missing, backend=None)
    assert available_backends(s) == ["extractive"]
    assert default_backend(s) == "extractive"
    with pytest.raises(BackendUnavailable):
        load_chat_model("openai", s)
    with pytest.raises(BackendUnavailable):
        load_chat_model("local", s)
    assert default_backend(Settings(backend="local")) == "local"


def test_unmarked_sentences_get_the_marker_their_facts_pin_down(server, model):
    # a reply without markers: each sentence's period occurs in exactly one passage
    server.replies = ["Licence data is kept for one year. Data of website visitors is kept for five years."]
    final = generate_answer(model, QUESTION, "en", citations(), fallback(), "openai")
    assert final.backend == "openai"
    assert final.answer == ("Licence data is kept for one year [1]. "
                            "Data of website visitors is kept for five years [2].")
    # without any fact to pin a passage down, nothing is attributed and the answer is refused
    server.replies = ["Sensus keeps your data carefully.", "Sensus keeps your data carefully."]
    assert generate_answer(model, QUESTION, "en", citations(), fallback(), "openai").backend == "extractive-fallback"


# --- the lead: the verified direct answer the extractive step found is shown first ---------------

LEAD = "Periods mentioned: at most 1 year [1] and 5 years [2]."
EXPLANATION = ("Licence data is kept for at most one year after the contract ends [1]. "
               "Messages sent through the website form are kept for five years [2].")


def fallback_with_lead() -> Answer:
    fb = fallback()
    fb.answer = LEAD  # the extractive answer opens with its lead
    fb.lead = LEAD
    return fb


def test_the_lead_comes_first_and_the_model_only_explains(server, model):
    server.chunk_delay = 0.05
    server.replies = [EXPLANATION]
    arrivals, pieces, final = [], [], None
    for item in stream_answer(model, QUESTION, "en", citations(), fallback_with_lead(), "openai"):
        arrivals.append(time.perf_counter())
        if isinstance(item, Answer):
            final = item
        else:
            pieces.append(item)
    assert pieces[0] == LEAD
    assert arrivals[0] < server.sent_done_at[0]  # shown before the model had finished, not after
    assert final.backend == "openai"
    assert final.answer == f"{LEAD} {EXPLANATION}" == "".join(pieces)
    assert final.timings_ms["first_words"] <= final.timings_ms["first_model_words"] <= final.timings_ms["generate"]
    prompt = server.requests[0]["body"]["messages"][-1]["content"]
    assert "1 or 2 short sentences" in prompt and LEAD not in prompt  # told about it, a small model copies it


def test_a_repeated_lead_is_not_shown_twice(server, model):
    server.replies = [f"{LEAD} {EXPLANATION}"]
    pieces, final = run_stream(model, fb=fallback_with_lead())
    assert final.answer == f"{LEAD} {EXPLANATION}" == "".join(pieces)
    assert final.answer.count("Periods mentioned") == 1


def test_after_the_lead_a_bad_explanation_still_falls_back(server, model):
    wrong = "Licence data is kept for 10 years [1]."
    server.replies = [wrong, wrong]
    pieces, final = run_stream(model, fb=fallback_with_lead())
    assert pieces == [LEAD]  # the lead is true by construction; nothing of the model was shown
    assert final.backend == "extractive-fallback" and LEAD in final.answer


def test_the_lead_alone_is_no_plain_answer(server, model, caplog):
    server.replies = [LEAD, LEAD]  # the model only repeats what the reader already sees
    with caplog.at_level(logging.INFO, logger="rag.generate"):
        pieces, final = run_stream(model, fb=fallback_with_lead())
    assert final.backend == "extractive-fallback" and pieces == [LEAD] == [final.answer]
    assert "only repeats the short answer" in caplog.text
    assert len(server.requests) == 1  # after a lead no retry: the reader already has the direct answer


def test_warm_up_reads_only_the_fixed_system_prompt_and_never_raises(server, model):
    from rag.generate import build_messages, warm_up

    server.replies = ["ok"]
    warm_up(model)
    body = server.requests[0]["body"]
    assert [m["role"] for m in body["messages"]] == ["system"]
    # the very prefix every question starts with, so a prompt cache can reuse it
    assert body["messages"][0]["content"] == build_messages(QUESTION, "fr", citations())[0].content
    assert body.get("max_tokens", body.get("max_completion_tokens")) == 1
    server.replies = [(500, "boom")] * 3
    warm_up(model)  # logged, not raised: the first question reports a broken server


def test_after_a_lead_the_model_reads_only_the_best_passages(server, model):
    extra = Citation(n=4, text="Boekhoudgegevens worden zeven jaar bewaard.", source="policies/sensus.txt", start=0,
                     end=43, section="Bewaartermijn", score=0.5, language="nl", company="sensus")
    fb = fallback_with_lead()
    fb.citations = citations() + [extra]
    server.replies = [EXPLANATION]
    final = generate_answer(model, QUESTION, "en", fb.citations, fb, "openai")
    prompt = server.requests[0]["body"]["messages"][-1]["content"]
    assert "[3] " in prompt and extra.text not in prompt
    # a passage the lead rests on is always shown, so the model can explain that fact too
    fb.lead = fb.lead.replace(".", ", 7 years [4].")
    generate_answer(model, QUESTION, "en", fb.citations, fb, "openai")
    assert extra.text in server.requests[-1]["body"]["messages"][-1]["content"]
    assert final.backend == "openai" and final.citations == fb.citations  # every quote still shown
    assert final.answer.startswith(LEAD)


def test_after_a_no_lead_a_yes_sentence_is_a_contradiction(server, model, caplog):
    fb = fallback()
    fb.lead = "No: the policy rules this out [3]."
    fb.verdict = "no"
    fb.answer = fb.lead
    contradiction = "Yes, Sensus sells your personal data when it sells its business [1]."
    server.replies = [contradiction, contradiction]
    with caplog.at_level(logging.INFO, logger="rag.generate"):
        pieces, final = run_stream(model, question="Do you sell my data?", fb=fb)
    assert pieces == [fb.lead] == [final.answer] and final.backend == "extractive-fallback" and final.verdict == "no"
    assert "says yes, but the passages do not say yes" in caplog.text


def test_without_a_verdict_the_model_may_not_invent_one(server, model):
    fb = fallback()  # no verdict: the evidence does not decide
    assert fb.verdict is None
    invented = "Yes, Sensus sells your personal data to partners [1]."
    server.replies = [invented, invented]
    pieces, final = run_stream(model, question="Do you sell my data?", fb=fb)
    assert not any(p.startswith("Yes") for p in pieces)
    assert final.backend == "extractive-fallback" and final.verdict is None
    assert not final.answer.startswith("Yes")


def test_a_reworded_repeat_of_the_lead_a_bare_verdict_and_an_agreeing_opener_are_dropped(server, model):
    fb = fallback()
    fb.lead = "Non : la politique l'exclut [3]."
    fb.answer = fb.lead
    fb.language = "fr"
    server.replies = ["Non: la politique l’exclut [3]. Non [3]. Non, Sensus ne vend pas vos données personnelles à des tiers [3]."]
    pieces, final = run_stream(model, language="fr", question="Vendez-vous mes données ?", fb=fb)
    assert final.backend == "openai", final.notice
    assert final.answer == "Non : la politique l'exclut [3]. Sensus ne vend pas vos données personnelles à des tiers [3]."


def test_sentences_without_words_are_refused(server, model, caplog):
    server.replies = ["Sensus keeps licence data for at most one year [1]. [2]. [3].",
                      "Sensus keeps licence data for at most one year [1]. [2]. [3]."]
    with caplog.at_level(logging.INFO, logger="rag.generate"):
        pieces, final = run_stream(model)
    assert "not a full sentence" in caplog.text
    assert "[2]" not in final.answer and final.answer == "".join(pieces)
