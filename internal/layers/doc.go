// Package layers links every layer and handler package into the binary.
// Adding a layer is one package plus one import line here; the order in
// which layers run is fixed by pipeline.Order, not by this list.
package layers
