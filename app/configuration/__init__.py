"""The configuration engine: documents and packs (read, validate, test, install, version,
publish), and low-code entities built from `entity` documents."""
