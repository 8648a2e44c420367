// Copyright 2022 Juan Pablo Tosso and the OWASP Coraza contributors
// SPDX-License-Identifier: Apache-2.0

package corazawaf

import "unsafe"

// transformationTable memoizes transformation results within a phase, keyed
// by transformationKey. It is an open-addressing hash table specialised for
// that key: looked up for every (rule, variable) pair, a generic Go map
// spent most of its time hashing the key struct. Probing reads only the
// compact tags array; an entry is read when its tag matches.
type transformationTable struct {
	// tags[i] is 0 for an empty slot, else a tag of the key's hash.
	tags    []uint32
	entries []transformationEntry
	// used lists the filled slots, so that reset touches only those.
	used []int32
}

// transformationEntry is one cached step. Its key's value pointer keeps the
// input string alive, so the address cannot be reused for other content
// while the entry exists.
type transformationEntry struct {
	key transformationKey
	val transformationValue
}

func (k *transformationKey) hash() uint64 {
	h := uint64(uintptr(unsafe.Pointer(k.value)))
	h ^= uint64(k.length)*0x9E3779B97F4A7C15 ^ uint64(k.transformationsID)*0x165667B19E3779F9
	h ^= h >> 31
	h *= 0xD6E8FEB86659FD93
	h ^= h >> 32
	return h
}

// tagOf is the nonzero tag stored for hash h.
func tagOf(h uint64) uint32 { return uint32(h>>32) | 1 }

// get returns the value stored for k.
func (t *transformationTable) get(k transformationKey) (*transformationValue, bool) {
	if len(t.tags) == 0 {
		return nil, false
	}
	h := k.hash()
	tag := tagOf(h)
	mask := uint64(len(t.tags) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch t.tags[i] {
		case 0:
			return nil, false
		case tag:
			if e := &t.entries[i]; e.key == k {
				return &e.val, true
			}
		}
	}
}

// set stores v for k, replacing any previous value.
func (t *transformationTable) set(k transformationKey, v transformationValue) {
	if 2*(len(t.used)+1) > len(t.tags) {
		t.grow()
	}
	h := k.hash()
	tag := tagOf(h)
	mask := uint64(len(t.tags) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch t.tags[i] {
		case 0:
			t.tags[i] = tag
			t.entries[i] = transformationEntry{key: k, val: v}
			t.used = append(t.used, int32(i))
			return
		case tag:
			if e := &t.entries[i]; e.key == k {
				e.val = v
				return
			}
		}
	}
}

func (t *transformationTable) grow() {
	oldTags, oldEntries := t.tags, t.entries
	n := max(2*len(oldTags), 256)
	t.tags = make([]uint32, n)
	t.entries = make([]transformationEntry, n)
	t.used = t.used[:0]
	for i, tag := range oldTags {
		if tag != 0 {
			t.set(oldEntries[i].key, oldEntries[i].val)
		}
	}
}

// reset empties the table, keeping its capacity and dropping references to
// the cached values.
func (t *transformationTable) reset() {
	for _, i := range t.used {
		t.tags[i] = 0
		t.entries[i] = transformationEntry{}
	}
	t.used = t.used[:0]
}
