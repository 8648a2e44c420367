// Package consumer is the layer that checks the state of an authenticated
// caller: a suspended consumer (403 consumer_suspended with the admin's
// reason), a consumer of another tenant than the route's (403
// tenant_mismatch), and, where the route asks for it, an approved
// subscription to the route's service (403 subscription_required,
// subscription_pending, subscription_rejected, subscription_revoked).
// It reads the same live identity snapshot as authn, so an admin's
// suspension or approval applies to the next request.
package consumer
