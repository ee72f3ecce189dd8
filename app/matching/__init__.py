"""The matching engine: normalise, index, resolve.

Pure Python. It imports neither the web framework nor the database, so it can
be tested and benchmarked on its own.
"""
