"""The browser tests: a package, so that their Playwright (conftest.py) stops after the last of them."""
