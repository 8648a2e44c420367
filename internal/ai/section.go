package ai

import "pinpoint/internal/pipeline"

// The top-level "ai:" section belongs to this package.
func init() { pipeline.RegisterSection("ai") }
