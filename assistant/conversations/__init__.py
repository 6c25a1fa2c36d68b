"""Conversations belong to devices, not to connections: one owner per process (:class:`Conversations`).

- :class:`Conversations`: the bounded, expiring registry, keyed by device id; routes commands naming an area.
- :class:`Conversation`: one device: area, outlets, plugin state, timers, the pending question, alarms.
- :class:`Outlet` / :class:`Remote`: what a pipeline or a connection offers a device while it lives.
"""

from assistant.conversations.conversation import Conversation, TooManyAnnouncements
from assistant.conversations.device import BadDevice, Outlet, Remote, area_name, device_id
from assistant.conversations.registry import Conversations, TooManyDevices, Watcher

__all__ = ["BadDevice", "Conversation", "Conversations", "Outlet", "Remote", "TooManyAnnouncements", "TooManyDevices", "Watcher", "area_name", "device_id"]
