package identity

import "pinpoint/internal/pipeline"

// The top-level "consumers:" section belongs to this package.
func init() { pipeline.RegisterSection(SectionName) }
