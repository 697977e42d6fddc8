"""Browser tests: headless Chromium at ward-tablet size against a real server."""
