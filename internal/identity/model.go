package identity

import (
	"net/netip"
	"time"
)

// Consumer statuses.
const (
	StatusActive    = "active"
	StatusSuspended = "suspended"
)

// Subscription statuses (APIPark-style approval workflow).
const (
	SubPending  = "pending"
	SubApproved = "approved"
	SubRejected = "rejected"
	SubRevoked  = "revoked"
)

// Sources of a record.
const (
	SourceStore  = "store"
	SourceConfig = "config"
)

// Consumer is a caller of the gateway: an application, a partner, a user.
type Consumer struct {
	ID       string         `json:"id"`
	Name     string         `json:"name"`
	Tenant   string         `json:"tenant,omitempty"`
	Roles    []string       `json:"roles"`
	Metadata map[string]any `json:"metadata"`
	Status   string         `json:"status"`
	// SuspendedReason is the administrator's reason, shown to the caller.
	SuspendedReason string    `json:"suspended_reason,omitempty"`
	SuspendedAt     time.Time `json:"suspended_at,omitzero"`
	// PasswordHash is the bcrypt hash for Basic auth; never serialized.
	PasswordHash string    `json:"-"`
	HasPassword  bool      `json:"has_password"`
	CreatedAt    time.Time `json:"created_at,omitzero"`
	UpdatedAt    time.Time `json:"updated_at,omitzero"`
	Source       string    `json:"source"`
}

// Suspended reports whether the consumer is suspended.
func (c *Consumer) Suspended() bool { return c.Status == StatusSuspended }

// Key is an API key's record. The secret itself is never stored: Hash is
// HashKeySecret of it.
type Key struct {
	ID         string         `json:"id"`
	ConsumerID string         `json:"consumer_id"`
	Name       string         `json:"name,omitempty"`
	Hash       string         `json:"-"`
	Scopes     []string       `json:"scopes"`
	ExpiresAt  time.Time      `json:"expires_at,omitzero"`
	AllowedIPs []netip.Prefix `json:"allowed_ips,omitempty"`
	RevokedAt  time.Time      `json:"revoked_at,omitzero"`
	RevokedBy  string         `json:"revoked_by,omitempty"`
	// RevokedReason is for operators; it is shown in the trace, not to
	// the caller.
	RevokedReason string `json:"revoked_reason,omitempty"`
	// ReplacedBy is the id of the key that replaced this one in a
	// rotation; ExpiresAt is then the end of the grace period.
	ReplacedBy string    `json:"replaced_by,omitempty"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
	CreatedAt  time.Time `json:"created_at,omitzero"`
	Source     string    `json:"source"`
}

// Revoked reports whether the key was revoked.
func (k *Key) Revoked() bool { return !k.RevokedAt.IsZero() }

// ExpiredAt reports whether the key is expired at now.
func (k *Key) ExpiredAt(now time.Time) bool {
	return !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt)
}

// AllowsIP reports whether the key may be used from addr. A key without an
// allowed list may be used from anywhere.
func (k *Key) AllowsIP(addr netip.Addr) bool {
	if len(k.AllowedIPs) == 0 {
		return true
	}
	addr = addr.Unmap()
	for _, p := range k.AllowedIPs {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Subscription is a consumer's access to a service.
type Subscription struct {
	ID         string    `json:"id"`
	ConsumerID string    `json:"consumer_id"`
	Service    string    `json:"service"`
	Status     string    `json:"status"`
	Reason     string    `json:"reason,omitempty"`
	AppliedAt  time.Time `json:"applied_at,omitzero"`
	DecidedAt  time.Time `json:"decided_at,omitzero"`
	DecidedBy  string    `json:"decided_by,omitempty"`
	Source     string    `json:"source"`
}

// Tenant is an isolation boundary: routes and consumers belong to one.
type Tenant struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// Role is a named set of permissions a consumer can hold; routes require
// roles by name.
type Role struct {
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	CreatedAt   time.Time `json:"created_at,omitzero"`
}
