"""The record sync protocol (docs/sync-protocol.md): push the outbox, pull the scopes, listen."""
