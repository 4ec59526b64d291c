"""Browser end-to-end tests of `suture serve`: Playwright driving Debian's Chromium."""
