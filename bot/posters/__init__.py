"""Posters a city prints: A4 PDFs (and PNG previews) with QR codes to sign up."""
