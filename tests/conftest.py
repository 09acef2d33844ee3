"""Shared pytest configuration: plugins with the database and local-site fixtures."""

pytest_plugins = ["tests.cli_fixtures", "tests.dbfixtures", "tests.site.plugin"]
