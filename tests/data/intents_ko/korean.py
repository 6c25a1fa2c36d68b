"""A tiny Korean skill: the only vosk model reachable in tests is Korean, so the streaming path is tested in Korean."""

from assistant.intents import Plugin

plugin = Plugin(description="Korean music and weather")


@plugin.intent("PlayMusic", "음악 틀어 줘")
def play(req):
    return "음악을 틀게요."


@plugin.intent("StopMusic", "음악 꺼 줘")
def stop(req):
    return "음악을 끌게요."


@plugin.intent("GetWeather", "[내일] 날씨 어때")
def weather(req):
    return "맑아요."
