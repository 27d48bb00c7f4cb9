"""The local edge: stable per-deployment URLs routed to whichever plane serves them now.

A deployment's API and sync URLs are ``<edge>/d/<slug>`` (the slug is its tenant's 16 hex
digits). The edge strips that prefix and passes the request (HTTP or a WebSocket upgrade) to the
plane that holds the deployment today, so moving a deployment changes nothing in its apps.
"""
