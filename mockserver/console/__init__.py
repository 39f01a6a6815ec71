"""The console: one page served by the mock itself at ``/__chatmock/`` (no build step, no CDN:
``static/index.html``, ``app.js`` and ``app.css`` ship in the package).

- **Rooms**: each API's rooms, members and messages as a transcript, read through the API
  itself with its users' credentials (:mod:`mockserver.console.rooms`); a room follows the
  journal's server-sent events (``/__chatmock/console/events``, driven by a hub: nothing
  polls) and reloads its newest page when that API answered a write.
- **Talk**: send (or edit, where the API can) a message as a user, through the same path as an
  API call (journaled; long polls, streams and subscribers receive it).
- **Traffic**: the journal, live, filtered by API, endpoint, status, user, violations, faults;
  an exchange expands to its redacted record and a curl line (secrets as ``${SECRET}``).
- **Control**: reset, seed, clock, strict mode, fault rules, the endpoint catalogue.

Paging: the traffic list asks for 100 exchanges at a time by number (``before=<seq>``; the
journal finds a number at once and reads back from it), keeps at most 1,000 rows in the page
and loads older ones on demand; a room shows its newest 50 messages and loads older pages by
the API's own cursor. So neither a journal of 100,000 exchanges nor a room of 100,000
messages is ever sent whole. With no page open the mock does nothing for the console: the
journal calls its watcher only while an event stream is open.
"""
