package ipfilter

import "pinpoint/internal/pipeline"

// The top-level "ip_lists:" section belongs to this package.
func init() { pipeline.RegisterSection(SectionName) }
