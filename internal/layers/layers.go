package layers

import (
	_ "pinpoint/internal/calllog" // call-log tables.
)
