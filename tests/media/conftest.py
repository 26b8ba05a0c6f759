"""Fixtures for the media tests."""

from tests.s3kit import s3_server, s3_url  # noqa: F401 - a local S3 server
