"""Remote microphones: a WebSocket streaming server, an HTTP API and a web page.

``app`` builds the Starlette application and runs it on uvicorn;
``connection`` handles ``/v1/stream`` (client messages in ``protocol``, the
server's own messages in ``messages``); each stream
runs the ordinary pipeline (``stream``) fed through a bounded queue
(``audio_in``) by the server's few shared ``feeders`` (a recording's stream by
a thread of its own); ``presence`` makes a connection its device's
outlet between streams; ``hub`` passes every stream's turn events, and every
device's status (timers, alarms), to the connections that watch them (the
page's device view); ``api`` holds the HTTP endpoints, and ``static/`` the page
(plain ES modules). Importing this
package stays light: clients (the satellite) use ``protocol`` and ``messages`` without pulling
in the server.
"""
