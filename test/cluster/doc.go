// Package cluster holds end-to-end tests that run several pinpoint
// processes from the built binary against shared local services.
package cluster
