package identity

import (
	"time"

	"pinpoint/internal/verdict"
)

// SuspendedDenial is the consumer_suspended denial for c, shared by the
// consumer layer and the authn layer (which refuses suspended consumers
// itself on routes without a consumer layer).
func SuspendedDenial(c *Consumer) verdict.Verdict {
	detail := "this consumer is suspended"
	if !c.SuspendedAt.IsZero() {
		detail += " since " + c.SuspendedAt.UTC().Format(time.RFC3339)
	}
	if c.SuspendedReason != "" {
		detail += ": " + c.SuspendedReason
	}
	return verdict.Denied("consumer_suspended", "consumer:"+c.ID, detail).
		WithHint("Contact the API's operator about the reason given; the suspension is lifted by an administrator.").
		With("consumer", c.ID)
}
