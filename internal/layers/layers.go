package layers

import (
	_ "pinpoint/internal/calllog"       // call-log tables.
	_ "pinpoint/internal/layer/request" // size, content type, JSON.
)
