// Package request is the "request" layer: per-route checks of the request
// itself before any policy looks at it — maximum body size (413
// body_too_large), accepted content types (415 unsupported_media_type) and a
// well-formed JSON body when the route declares one (400 malformed_body,
// naming the line and column of the error).
//
//	request:
//	  max_body: 1MB                      # bytes, or with KB/MB/GB
//	  content_types: [application/json]  # media types accepted with a body
//	  json: true                         # the body must be well-formed JSON
//
// Bodies stream to the upstream untouched unless something must read them:
// a body is buffered (up to max_body) only for the JSON check, or when its
// length is unknown (chunked) and a limit must be enforced.
package request
