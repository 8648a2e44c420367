package gateway

import "pinpoint/internal/ids"

var (
	newID   = ids.New
	validID = ids.Valid
)
