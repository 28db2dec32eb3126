"""Read models for pages that show several domains at once (the web layer: above every domain package)."""
