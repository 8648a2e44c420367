// Copyright 2022 Juan Pablo Tosso and the OWASP Coraza contributors
// SPDX-License-Identifier: Apache-2.0

package collections

import (
	"strings"

	"github.com/corazawaf/coraza/v3/internal/corazarules"
	"github.com/corazawaf/coraza/v3/types"
	"github.com/corazawaf/coraza/v3/types/variables"
)

// MatchBuffer is storage for listing a collection's data that the caller
// reuses from one listing to the next: rule evaluation lists ARGS,
// ARGS_NAMES or REQUEST_HEADERS for every rule, and FindAll allocates the
// whole listing afresh each time. A listing returned by FindAllInto stays
// valid until the next FindAllInto, Invalidate or Reset with the same
// buffer; listing the same unchanged collection again returns it as is,
// so a caller that changes it must Invalidate the buffer.
type MatchBuffer struct {
	data []corazarules.MatchData
	res  []types.MatchData
	// owner and version identify the listing held, so that listing an
	// unchanged collection again (rule after rule) returns it as is.
	owner   any
	version uint64
}

// Invalidate forgets which listing the buffer holds: the caller changed
// it (GetField compacts it in place when exceptions remove entries).
func (b *MatchBuffer) Invalidate() {
	b.owner = nil
}

// holds reports whether b holds owner's listing at version.
func (b *MatchBuffer) holds(owner any, version uint64) bool {
	return b.owner != nil && b.owner == owner && b.version == version
}

// start begins a listing of owner at version; a nil owner is not kept.
func (b *MatchBuffer) start(owner any, version uint64) {
	b.owner, b.version = owner, version
	b.data = b.data[:0]
}

// listing is the listing held, nil when empty, as FindAll.
func (b *MatchBuffer) listing() []types.MatchData {
	if len(b.data) == 0 {
		return nil
	}
	return b.res
}

// versioned collections count the changes to their data.
type versioned interface {
	dataVersion() uint64
}

func (c *Map) dataVersion() uint64                  { return c.version }
func (c *NamedCollectionNames) dataVersion() uint64 { return c.collection.version }

// BufferedFinder is implemented by the collections that can list their
// data into a MatchBuffer. The listing holds the same data, in the same
// kind of order, as FindAll.
type BufferedFinder interface {
	FindAllInto(b *MatchBuffer) []types.MatchData
}

// bufferAppender adds a collection's data to a buffer, as variable v.
type bufferAppender interface {
	appendAll(b *MatchBuffer, v variables.RuleVariable)
}

func (b *MatchBuffer) add(v variables.RuleVariable, key, value string) {
	b.data = append(b.data, corazarules.MatchData{Variable_: v, Key_: key, Value_: value})
}

// results points the listing at the data added since the last call;
// nil when there is none, as FindAll.
func (b *MatchBuffer) results() []types.MatchData {
	if len(b.data) == 0 {
		return nil
	}
	b.res = b.res[:0]
	for i := range b.data {
		b.res = append(b.res, &b.data[i])
	}
	return b.res
}

// Reset drops the buffer's references to listed data, keeping its
// capacity.
func (b *MatchBuffer) Reset() {
	clear(b.data[:cap(b.data)])
	clear(b.res[:cap(b.res)])
	b.data = b.data[:0]
	b.res = b.res[:0]
	b.owner = nil
}

// FindAllInto lists the map's data like FindAll, into b.
func (c *Map) FindAllInto(b *MatchBuffer) []types.MatchData {
	if b.holds(c, c.version) {
		return b.listing()
	}
	b.start(c, c.version)
	c.appendAll(b, c.variable)
	return b.results()
}

func (c *Map) appendAll(b *MatchBuffer, v variables.RuleVariable) {
	for _, data := range c.data {
		for _, d := range data {
			b.add(v, d.key, d.value)
		}
	}
}

// FindAllInto lists the names like FindAll, into b.
func (c *NamedCollectionNames) FindAllInto(b *MatchBuffer) []types.MatchData {
	if b.holds(c, c.collection.version) {
		return b.listing()
	}
	b.start(c, c.collection.version)
	c.appendAll(b, c.variable)
	return b.results()
}

func (c *NamedCollectionNames) appendAll(b *MatchBuffer, v variables.RuleVariable) {
	for _, data := range c.collection.data {
		for _, d := range data {
			b.add(v, d.key, d.key)
		}
	}
}

// FindAllInto lists the collections' data like FindAll, into b.
func (c *ConcatKeyed) FindAllInto(b *MatchBuffer) []types.MatchData {
	// The parts' versions only grow, so their sum changes with any part.
	var owner any = c
	version := uint64(0)
	for _, d := range c.data {
		v, ok := d.(versioned)
		if !ok {
			owner = nil
			break
		}
		version += v.dataVersion()
	}
	if b.holds(owner, version) {
		return b.listing()
	}
	b.start(owner, version)
	for _, d := range c.data {
		if a, ok := d.(bufferAppender); ok {
			a.appendAll(b, c.variable)
			continue
		}
		for _, m := range d.FindAll() {
			md := *m.(*corazarules.MatchData)
			md.Variable_ = c.variable
			b.data = append(b.data, md)
		}
	}
	return b.results()
}

// FindAllInto lists the value like FindAll, into b.
func (c *Single) FindAllInto(b *MatchBuffer) []types.MatchData {
	b.start(nil, 0)
	b.add(c.variable, "", c.data)
	return b.results()
}

// BufferedStringFinder is implemented by the keyed collections that can
// list one key's values into a MatchBuffer.
type BufferedStringFinder interface {
	FindStringInto(key string, b *MatchBuffer) []types.MatchData
}

// FindStringInto lists the values of a key (not empty) like FindString,
// into b.
func (c *Map) FindStringInto(key string, b *MatchBuffer) []types.MatchData {
	b.start(nil, 0)
	if len(c.data) == 0 {
		return nil
	}
	if !c.isCaseSensitive {
		key = strings.ToLower(key)
	}
	for _, d := range c.data[key] {
		b.add(c.variable, d.key, d.value)
	}
	return b.results()
}

var (
	_ BufferedStringFinder = (*Map)(nil)
	_ BufferedStringFinder = (*NamedCollection)(nil)

	_ BufferedFinder = (*Single)(nil)
	_ BufferedFinder = (*Map)(nil)
	_ BufferedFinder = (*NamedCollectionNames)(nil)
	_ BufferedFinder = (*ConcatKeyed)(nil)
)
