// Package browser holds end-to-end tests that drive a real browser
// (Debian's chromium, headless, through the playwright-core npm package)
// against a pinpoint gateway started in-process, to check what only a
// browser can show: that its CORS checks let an allowed page read a
// cross-origin response and keep it from a page that is not allowed, and
// that the refusal is recorded so an operator can explain it.
//
// Setup: npm ci --prefix test/browser and apt-get install chromium
// (scripts/test.sh does both). Without them the test skips, or fails
// when CI is set.
package browser
