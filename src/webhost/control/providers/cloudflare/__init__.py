"""Cloudflare: the DNS records that give each deployment its stable hostnames."""
