"""The ground: errors, files, records and rendering, fingerprints, run layout, Inspect naming.

Every package of the project may import this one; it imports none of them.
"""
