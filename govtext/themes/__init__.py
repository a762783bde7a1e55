"""Stage 3, themes: the theme model (`classify`, with its arithmetic in `_linear`) and its evaluation
(`evaluation`)."""
