package identity

import (
	"fmt"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"pinpoint/internal/config"
	"pinpoint/internal/pipeline"
)

// SectionName is the top-level config section that declares consumers.
const SectionName = "consumers"

// StaticConsumer is one consumer in the config file's `consumers:`
// section. Keys carry only hashes (from `pinpoint keys hash`), passwords
// only bcrypt hashes.
type StaticConsumer struct {
	ID           string         `yaml:"id"`
	Name         string         `yaml:"name"`
	Tenant       string         `yaml:"tenant"`
	Roles        []string       `yaml:"roles"`
	Metadata     map[string]any `yaml:"metadata"`
	PasswordHash string         `yaml:"password_hash"`
	// Suspended, when set, suspends the consumer with the reason given.
	Suspended string `yaml:"suspended"`
	// Subscriptions lists services the consumer is approved for.
	Subscriptions []string    `yaml:"subscriptions"`
	Keys          []StaticKey `yaml:"keys"`
}

// StaticKey is a config-declared key.
type StaticKey struct {
	ID         string    `yaml:"id"`
	Name       string    `yaml:"name"`
	Hash       string    `yaml:"hash"`
	Scopes     []string  `yaml:"scopes"`
	ExpiresAt  time.Time `yaml:"expires_at"`
	AllowedIPs []string  `yaml:"allowed_ips"`
	// Revoked, when set, revokes the key with this reason.
	Revoked string `yaml:"revoked"`
}

// Static is the parsed `consumers:` section.
type Static struct {
	consumers map[string]*Consumer
	keys      map[string]*Key
	subs      map[subKey]*Subscription
}

var (
	staticMu   sync.Mutex
	staticFor  *config.Config
	staticLast *Static
)

// StaticFor parses the `consumers:` section of cfg (nil or absent: none).
// The result for the most recent config is kept, so the layers of one
// config share one parse.
func StaticFor(cfg *config.Config) (*Static, error) {
	if cfg == nil {
		return &Static{}, nil
	}
	staticMu.Lock()
	defer staticMu.Unlock()
	if staticFor == cfg && staticLast != nil {
		return staticLast, nil
	}
	node, ok := cfg.Sections[SectionName]
	if !ok {
		return &Static{}, nil
	}
	s, err := ParseStatic(&node)
	if err != nil {
		return nil, err
	}
	staticFor, staticLast = cfg, s
	return s, nil
}

// ParseStatic decodes and validates a `consumers:` node.
func ParseStatic(node *yaml.Node) (*Static, error) {
	var list []StaticConsumer
	if err := config.DecodeNode(node, &list, SectionName); err != nil {
		return nil, err
	}
	s := &Static{consumers: map[string]*Consumer{}, keys: map[string]*Key{}, subs: map[subKey]*Subscription{}}
	var es config.Errors
	fail := func(n *yaml.Node, path, format string, args ...any) {
		es = append(es, config.NodeError(n, path, fmt.Sprintf(format, args...)))
	}
	for i, sc := range list {
		item := node
		if i < len(node.Content) {
			item = node.Content[i]
		}
		path := fmt.Sprintf("%s[%d]", SectionName, i)
		if !ValidName(sc.ID) {
			fail(item, path+".id", "consumer id %q: use 1–64 letters, digits, '.', '_', ':' or '-'", sc.ID)
			continue
		}
		if _, dup := s.consumers[sc.ID]; dup {
			fail(item, path+".id", "consumer %q is declared twice", sc.ID)
			continue
		}
		if sc.PasswordHash != "" && !ValidPasswordHash(sc.PasswordHash) {
			fail(item, path+".password_hash", "not a bcrypt hash (never put a plaintext password in the config)")
		}
		c := &Consumer{ID: sc.ID, Name: sc.Name, Tenant: sc.Tenant, Roles: sc.Roles, Metadata: sc.Metadata,
			Status: StatusActive, PasswordHash: sc.PasswordHash, HasPassword: sc.PasswordHash != "", Source: SourceConfig}
		if c.Name == "" {
			c.Name = c.ID
		}
		if sc.Suspended != "" {
			c.Status, c.SuspendedReason = StatusSuspended, sc.Suspended
		}
		normalizeConsumer(c)
		s.consumers[c.ID] = c
		for _, svc := range sc.Subscriptions {
			s.subs[subKey{c.ID, svc}] = &Subscription{ID: "config:" + c.ID + ":" + svc, ConsumerID: c.ID, Service: svc, Status: SubApproved, Source: SourceConfig}
		}
		for j, sk := range sc.Keys {
			kpath := fmt.Sprintf("%s.keys[%d]", path, j)
			if !ValidKeyID(sk.ID) {
				fail(item, kpath+".id", "key id %q: use 1–64 of a-z, 0-9 and '-'", sk.ID)
				continue
			}
			if _, dup := s.keys[sk.ID]; dup {
				fail(item, kpath+".id", "key %q is declared twice", sk.ID)
				continue
			}
			if !ValidKeyHash(sk.Hash) {
				fail(item, kpath+".hash", `want "sha256:<64 hex digits>" from 'pinpoint keys hash' (never the key itself)`)
				continue
			}
			scopes, err := checkScopes(sk.Scopes)
			if err != nil {
				fail(item, kpath+".scopes", "%v", err)
				continue
			}
			ips, err := ParsePrefixes(sk.AllowedIPs)
			if err != nil {
				fail(item, kpath+".allowed_ips", "%v", err)
				continue
			}
			k := &Key{ID: sk.ID, ConsumerID: c.ID, Name: sk.Name, Hash: sk.Hash, Scopes: scopes, ExpiresAt: sk.ExpiresAt, AllowedIPs: ips, Source: SourceConfig}
			if sk.Revoked != "" {
				// A config file has no revocation time; the Unix epoch marks
				// "revoked" and the reason says why.
				k.RevokedAt, k.RevokedBy, k.RevokedReason = time.Unix(1, 0).UTC(), "config", sk.Revoked
			}
			s.keys[k.ID] = k
		}
	}
	if len(es) > 0 {
		return nil, es
	}
	return s, nil
}

// Directory is what layers read: the live store snapshot overlaid with the
// config-declared consumers (config wins on the same id).
type Directory struct {
	Live   *Live
	Static *Static
}

// Consumer finds a consumer by id.
func (d *Directory) Consumer(id string) *Consumer {
	if c := d.Static.consumers[id]; c != nil {
		return c
	}
	return d.Live.Snapshot().Consumers[id]
}

// Key finds a key by its public id.
func (d *Directory) Key(id string) *Key {
	if k := d.Static.keys[id]; k != nil {
		return k
	}
	return d.Live.Snapshot().Keys[id]
}

// Subscription finds a consumer's subscription to a service.
func (d *Directory) Subscription(consumerID, service string) *Subscription {
	if s := d.Static.subs[subKey{consumerID, service}]; s != nil {
		return s
	}
	return d.Live.Snapshot().Subscription(consumerID, service)
}

// OpenDirectory returns the directory for a layer being built: the shared
// Live (started on first use) and the config's declared consumers. The
// layer must call Close when it is retired.
func OpenDirectory(env *pipeline.Env, cfg *config.Config) (*Directory, error) {
	live, err := SharedLive(env)
	if err != nil {
		return nil, fmt.Errorf("identity store: %w", err)
	}
	st, err := StaticFor(cfg)
	if err != nil {
		return nil, err
	}
	live.Acquire()
	return &Directory{Live: live, Static: st}, nil
}

// Close releases the directory's hold on the poller.
func (d *Directory) Close() error {
	d.Live.Release()
	return nil
}
