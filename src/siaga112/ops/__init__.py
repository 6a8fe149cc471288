"""Operations: answers while the database misbehaves, readiness, slow clients."""
