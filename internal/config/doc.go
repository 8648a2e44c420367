// Package config loads pinpoint's YAML configuration: strict decoding (an
// unknown field, a wrong type or a dangling reference is an error naming the
// path and line), ${ENV} expansion for secrets, and validation. Layer
// sections stay as YAML nodes here; each layer decodes and validates its own.
package config
