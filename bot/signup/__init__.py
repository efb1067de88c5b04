"""Sign-up from the chat apps: Telegram and LINE users choose language, area and
alert kinds with buttons; the conversation itself (:mod:`bot.signup.common`) is the
same on every platform, and each platform module only turns updates into calls
and :class:`~bot.signup.common.Reply` objects into messages."""
