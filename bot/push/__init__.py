"""Push sources: documents that arrive over a connection the service keeps open,
rather than by polling (:mod:`bot.feeds`). Each hands its documents to the same
:class:`~bot.intake.Intake` as the feeds.

:mod:`bot.push.dmdata`           DMDATA.jp API v2 WebSocket (earthquake early warnings)
:mod:`bot.push.dmdata_protocol`  its messages, as data
:mod:`bot.push.settings`         ``[push.dmdata]`` and ``DMDATA_API_KEY``
"""
