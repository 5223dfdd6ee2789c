"""Canned responses: bilingual reply templates with known variables."""
