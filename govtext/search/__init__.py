"""Stage 4, search: the similarity index (`similarity`), exact top-k over postings (`_topk`), metadata and
filters (`_metadata`), places and initiative names (`extract`)."""
