// Package verdict holds the one type every layer returns (Verdict), the one
// catalog of denial codes, and the one renderer that turns a denial into a
// response. Layers decide; only this package writes denial responses, so the
// format can never differ between layers.
package verdict
