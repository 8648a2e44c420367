// Copyright 2022 Juan Pablo Tosso and the OWASP Coraza contributors
// SPDX-License-Identifier: Apache-2.0

package collections

// IndexZeroSlots sets the first value of a fixed list of keys of a Map,
// as SetIndex(key, 0, value) does, without looking the key up each time:
// rule evaluation sets RULE's id, msg, rev, logdata and severity for every
// rule. It keeps pointers to the stored values and trusts them while the
// map has not changed otherwise (its version counter says so).
type IndexZeroSlots struct {
	m       *Map
	keys    []string
	slots   []*keyValue
	version uint64
}

// NewIndexZeroSlots returns slots for keys of m; keys must be as SetIndex
// would store them (lower case unless m is case sensitive).
func NewIndexZeroSlots(m *Map, keys ...string) *IndexZeroSlots {
	return &IndexZeroSlots{m: m, keys: keys, slots: make([]*keyValue, len(keys))}
}

// Set is SetIndex(keys[i], 0, value).
func (s *IndexZeroSlots) Set(i int, value string) {
	if p := s.slots[i]; p != nil && s.version == s.m.version {
		*p = keyValue{key: s.keys[i], value: value}
		s.m.version++
		s.version = s.m.version
		return
	}
	s.m.SetIndex(s.keys[i], 0, value)
	for j, k := range s.keys {
		s.slots[j] = nil
		if values := s.m.data[k]; len(values) > 0 {
			s.slots[j] = &values[0]
		}
	}
	s.version = s.m.version
}
