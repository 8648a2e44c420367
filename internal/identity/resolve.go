package identity

import (
	"fmt"
	"sort"

	"pinpoint/internal/config"
	"pinpoint/internal/pipeline"
)

func init() { pipeline.ConsumerResolver = resolveConsumer }

// resolveConsumer builds the identity a dry run uses for `--as CONSUMER`:
// the consumer's tenant, roles and metadata, and the union of the scopes of
// its usable keys (not revoked, not expired), since scopes live on keys.
func resolveConsumer(env *pipeline.Env, cfg *config.Config, id string) (*pipeline.Identity, error) {
	dir, err := OpenDirectory(env, cfg)
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	c := dir.Consumer(id)
	if c == nil {
		return nil, fmt.Errorf("no consumer %q (pinpoint consumers list shows them)", id)
	}
	now := env.Now()
	set := map[string]bool{}
	collect := func(keys map[string]*Key) {
		for _, k := range keys {
			if k.ConsumerID == id && !k.Revoked() && !k.ExpiredAt(now) {
				for _, s := range k.Scopes {
					set[s] = true
				}
			}
		}
	}
	collect(dir.Static.keys)
	collect(dir.Live.Snapshot().Keys)
	scopes := make([]string, 0, len(set))
	for s := range set {
		scopes = append(scopes, s)
	}
	sort.Strings(scopes)
	return &pipeline.Identity{ConsumerID: c.ID, ConsumerName: c.Name, Tenant: c.Tenant, Method: "simulated",
		Subject: c.ID, Roles: c.Roles, Metadata: c.Metadata, Scopes: scopes}, nil
}
