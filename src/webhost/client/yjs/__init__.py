"""Yjs documents through pycrdt, synced with the data plane over y-websocket."""
