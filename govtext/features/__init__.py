"""Stage 2, features: TF-IDF vectors (`vectorize`), dictionary counts and KWIC (`lexicon`), word vectors and
lexicon expansion (`wordvectors`)."""
