// Package pipeline defines what a layer is (Layer, Request), how layers are
// registered, and the one list that fixes their order. The gateway builds a
// pipeline per route from config and runs it; layers only decide.
package pipeline
