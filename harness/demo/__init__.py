"""The embedded demo: a synthetic clinical world and the offline study that runs on it."""
