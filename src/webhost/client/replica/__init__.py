"""The local replica: records, the outbox of local writes, scopes and the clock, in SQLite."""
