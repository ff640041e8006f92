"""The website chat widget: the visitor's socket, the loader script and uploads."""
