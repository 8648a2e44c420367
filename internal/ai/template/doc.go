// Package template turns prompt templates into chat requests. A template
// is a list of messages whose text holds {{variables}}, a model and
// parameters; a request supplies the variables as a JSON object.
//
// Values are data, never structure: the messages are built as Go values
// and encoded as JSON afterwards, and a value is only ever placed inside a
// message's text. A value cannot add a message, change a role or close a
// string, and placeholders inside values are not expanded again.
package template
