"""Machinery outside the domain flow: memory hand-back, Arrow helpers, BLAS threads."""
