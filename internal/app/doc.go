// Package app assembles a running gateway from a config: the store, the
// trace writer, the gateway, the admin API, signal handling and config
// reload. `pinpoint serve` and `pinpoint demo` both start one. Feature
// packages (metrics, alerts, retention) join through OnStart hooks.
package app
