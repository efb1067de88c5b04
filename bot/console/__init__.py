"""The operators' web console: one screen for a room of people during an emergency.

It runs on a listener of its own (``[console]``, 127.0.0.1:8081 by default) inside
``bousai run``, or alone with ``bousai web`` against the same database. Plain HTML
from Jinja2 templates, htmx (vendored in ``static/``, 0BSD) for the parts that
refresh every two seconds, no front-end build and no outside requests.

    app.py        the Starlette app: sessions, the page wrapper, errors, sign-in
    auth.py       session, roles, CSRF
    settings.py   [console] and BOUSAI_CONSOLE_SECRET
    pages.py      Now, Alert, Map, Feeds and channels, Subscribers (read-only)
    actions.py    issue, approve, reject, update, lift, cancel (through the lifecycle)
    (bot/store/console.py: what the pages show, in a few grouped queries each)
    svgmap.py     the wards as inline SVG
    i18n.py       the console's words in Japanese and English
"""
