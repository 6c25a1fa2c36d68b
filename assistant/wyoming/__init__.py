"""A Wyoming server, so Home Assistant can use this assistant: wake word, speech to text, text to
speech, and intent recognition and handling by our plugins (``assistant wyoming``).

A thin front end over the same parts as the loop and the WebSocket server: the
models are :class:`~assistant.assembly.Resources`, loaded once; each connection
(:mod:`.connection`) holds only its own stream's state (a wake detector, a
recognizer); a sentence to handle is a turn of its device's conversation. The
protocol itself (events, framing, the server and client classes) is the
``wyoming`` package's; :mod:`.framing` only guards what it reads. ``info``
(:mod:`.info`) describes what is loaded; :mod:`.discovery` announces it over
zeroconf; :mod:`.server` runs it all.
"""
