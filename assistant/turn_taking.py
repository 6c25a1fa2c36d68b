"""When is a spoken command over? From the silence after it, and from what was said.

A fixed trailing silence (``vad.end_silence_ms``, 700 ms, as Home Assistant
uses) is what a user waits through before anything else can happen. Most of
it is not needed: "what time is it" cannot go on, so a short pause ends it,
while "set a timer for five" may still get its unit, and speech that matches
no template gets the whole wait. So after a short silence the command heard so
far is recognised (speculatively: speech may resume) and judged against the
templates (:class:`~assistant.intents.fuzzy.Completion`):

- ``CLOSED``: a whole command no template could take further; it ends once
  ``closed_ms`` of silence have passed;
- ``OPEN``: a whole command a template could continue with something that
  matters ("a large latte" + "with soy milk"); it ends after ``open_ms``, when
  the command stands at least ``open_min_snr_db`` above the noise floor: in
  noise the weak ends of words pass for silence, pauses seem longer, and
  orders were cut before their "with ..." (coffee-dev in kitchen noise at 6 dB);
- ``PARTIAL`` (half a command: "set a timer for five") and ``NONE`` (no
  template begins like this): the endpointer's own silence applies, as people
  pause longest in the middle of what they say.

A streaming recognizer (vosk) has its transcript at once but its last word
often only after the pause began ("음악 꺼", then "음악 꺼 줘"), so each
change of its partial result in the pause is judged again.

If speech resumes, the judgement and the speculative transcript are dropped.
If the command ends with no new speech, that transcript is the final one: the
same audio is never decoded twice. In noise (below ``open_min_snr_db``) the
weak parts of words are not voiced ("skim" voiced, "milk" only above the
floor), so there any sound after what the speculation read counts as speech
that may have gone on, and the whole command is read again when it ends
(coffee-dev at 6 dB peak SNR: 52 → 56 of 62 orders right; clean speech never
pays for it).

In noise (below ``open_min_snr_db``) the speculation waits longer,
``noisy_speculate_ms``: there the weak end of the last word ("milk") passes
for silence, so a reading taken 50 ms into the "pause" lost it and was kept as
the final transcript; and there nothing but a closed command in stillness ends
before ``vad.end_silence_ms``, so the later reading costs no time. It also
saves the decodes of readings dropped when the "pause" was a weak sound.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from assistant.asr.base import Transcription
from assistant.intents.fuzzy import Completion


@dataclass(frozen=True)
class TurnTaking:
    judge: Callable[[Transcription], Completion]
    """How complete the transcript is: the intent engine's :meth:`~assistant.intents.IntentEngine.completion`."""
    speculate_ms: int = 50
    """Trailing silence after which the command so far is recognised in the background."""
    noisy_speculate_ms: int = 100
    """The same for a command less than ``open_min_snr_db`` above the noise floor (see the module doc)."""
    closed_ms: int = 150
    """Trailing silence that ends a command no template could continue."""
    open_ms: int = 300
    """Trailing silence that ends a whole command a template could continue."""
    open_min_snr_db: float = 30.0
    """``open_ms`` applies only to a command this far above the noise floor (see the module doc)."""

    def speculate_now(self, silence_ms: int, snr_db: Callable[[], float]) -> bool:
        """Whether ``silence_ms`` of trailing silence is long enough to recognise the command so far.

        ``snr_db`` (a percentile over the command's frames) is asked only once the shorter of the two waits
        has passed, not for every chunk of speech."""
        if silence_ms < min(self.speculate_ms, self.noisy_speculate_ms):
            return False
        return silence_ms >= (self.speculate_ms if snr_db() >= self.open_min_snr_db else self.noisy_speculate_ms)

    def silence_ms(self, heard: Transcription, snr_db: float) -> int | None:
        """The silence that ends a command heard as ``heard`` at ``snr_db``; None: the endpointer's own."""
        if not heard.text:
            return None
        completion = self.judge(heard)
        if completion is Completion.CLOSED:
            return self.closed_ms
        if completion is Completion.OPEN and snr_db >= self.open_min_snr_db:
            return self.open_ms
        return None
