"""The Rocket.Chat REST API v1 (:mod:`.api`; the world format: :mod:`.world`)."""
