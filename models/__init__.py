"""The model bundled with govtext (installed as the ``govtext.models`` package)."""
