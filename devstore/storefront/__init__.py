"""The online store: theme pages rendered with Liquid, the app's theme extension, the app proxy."""
