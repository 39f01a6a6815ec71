"""Rocket.Chat's realtime API: DDP over WebSocket on ``/websocket``, on the REST API's world.

Modules: :mod:`.frames` (DDP framing and Meteor errors), :mod:`.session` (one connection),
:mod:`.login`, :mod:`.methods`, :mod:`.streams` (subscriptions and what each event becomes),
:mod:`.feed` (the ordered event log, fanned out through the hub), :mod:`.ejson` (DDP's dates),
:mod:`.schemas` (``schemas/rocketchat/realtime``), :mod:`.endpoint` (the mixin the REST module
inherits). Nothing here imports the REST module (:mod:`.host` says what DDP uses of it).
"""
