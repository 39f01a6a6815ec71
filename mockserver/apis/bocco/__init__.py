"""The BOCCO API, alpha (:mod:`.api`; the world format: :mod:`.world`)."""
