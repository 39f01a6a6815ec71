"""The Gitter REST v1 and Streaming API (:mod:`.api`; the world format: :mod:`.world`)."""
