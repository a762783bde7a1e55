"""Stage 2, features: TF-IDF vectors (`vectorize`, with its arithmetic in `weighting`), dictionary counts
and KWIC (`lexicon`), word vectors and lexicon expansion (`wordvectors`)."""
