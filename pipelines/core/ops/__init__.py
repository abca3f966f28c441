"""Operations: where the folders are, one writer at a time, the live fetch, S3 mirrors, and
what an operator looks at (``inspect``).
"""
