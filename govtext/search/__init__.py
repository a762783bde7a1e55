"""Stage 4, search: the similarity index (`similarity`; building in `_build`, the exact cosine stage in `_topk`,
passages in `_passages`, reprint grouping in `_duplicates`, save/load in `_store`), metadata and
filters (`_metadata`), places and initiative names (`extract`)."""
