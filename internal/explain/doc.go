// Package explain turns a call-log record into the short story that
// `pinpoint explain` prints: the request, each layer's outcome in order,
// the deciding rule with its evidence, and the fix.
package explain
