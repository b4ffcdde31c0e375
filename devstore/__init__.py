"""devstore: a faithful local stand-in for Shopify, reached by the app only over HTTP.

It imports nothing from the app. See `python -m devstore --help`.
"""
