// Package demo is what `pinpoint demo` runs: an embedded example config, a
// built-in upstream, and the list of ready-to-paste requests — one that
// succeeds and one for each denial the gateway can produce — each with the
// code it must produce, so a test can run every printed command.
package demo
