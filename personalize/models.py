"""Profiles, facts and recommendations: the models arrive with the profiles issue."""
