"""The Lingr API (:mod:`.api`; the world format: :mod:`.world`)."""
