"""Fakes of the third-party services WebHost drives, served over real HTTP for tests."""
