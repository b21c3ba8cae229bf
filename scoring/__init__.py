"""Scoring: signals from stored data, the health score, its trend, stakeholder engagement,
expansion readiness, and the reasons behind every number.

Pure computation (normalisation, composite, bands, explanations) lives apart from the
SQL that builds signals (`scoring.signals`) and from storage (`scoring.service`).
"""
