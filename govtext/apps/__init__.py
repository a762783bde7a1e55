"""Stage 6, apps: the command line (`cli`), the local page (`serve`) and charts (`plot`)."""
