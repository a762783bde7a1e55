"""Stage 5, runs: the chunked, resumable, parallel batch engine (`batch`, with what each command writes in
`_rows` and the output formats in `_storage`) and its Dask helpers (`dask`); what `govtext index` reads (`index_input`)."""
