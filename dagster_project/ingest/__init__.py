"""Raw loaders: one asset per contract entity, landing files as they are in `raw`."""
