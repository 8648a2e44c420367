package identity

import "context"

// Snapshot is an immutable copy of every identity record, swapped whole on
// refresh so that request-time reads take no lock.
type Snapshot struct {
	Version   int64
	Consumers map[string]*Consumer
	Keys      map[string]*Key
	subs      map[subKey]*Subscription
}

type subKey struct{ consumer, service string }

func emptySnapshot() *Snapshot {
	return &Snapshot{Consumers: map[string]*Consumer{}, Keys: map[string]*Key{}, subs: map[subKey]*Subscription{}}
}

// Subscription returns the consumer's subscription to service, or nil.
func (s *Snapshot) Subscription(consumerID, service string) *Subscription {
	return s.subs[subKey{consumerID, service}]
}

// LoadSnapshot reads every record. The version is read first: a write that
// lands while loading makes the stored version newer than the recorded
// one, so the next poll loads again rather than missing it.
func (r *Repo) LoadSnapshot(ctx context.Context) (*Snapshot, error) {
	v, err := r.Version(ctx)
	if err != nil {
		return nil, err
	}
	s := emptySnapshot()
	s.Version = v
	cs, err := r.ListConsumers(ctx, "")
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		s.Consumers[c.ID] = c
	}
	ks, err := r.ListKeys(ctx, "")
	if err != nil {
		return nil, err
	}
	for _, k := range ks {
		s.Keys[k.ID] = k
	}
	subs, err := r.ListSubscriptions(ctx, SubscriptionFilter{})
	if err != nil {
		return nil, err
	}
	for _, sub := range subs {
		s.subs[subKey{sub.ConsumerID, sub.Service}] = sub
	}
	return s, nil
}
