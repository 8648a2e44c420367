package ipfilter

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"strings"

	"pinpoint/internal/config"
)

// entry is one CIDR of a list and where it was written, so the trace can
// say which line matched.
type entry struct {
	prefix netip.Prefix
	// source is "allow[2]", "deny_file blocked.txt:17" or
	// "ip_lists.office[0]".
	source string
	// list is the named list the entry came from ("" for the route's own).
	list string
}

// list is a compiled allow or deny list.
type list struct {
	entries []entry
	v4, v6  table
}

func compile(entries []entry) *list {
	l := &list{entries: entries}
	var v4, v6 []item
	for i, e := range entries {
		first, last := prefixBounds(e.prefix)
		it := item{first: first, last: last, bits: e.prefix.Bits(), entry: int32(i)}
		if e.prefix.Addr().Is4() {
			v4 = append(v4, it)
		} else {
			v6 = append(v6, it)
		}
	}
	l.v4, l.v6 = buildTable(v4), buildTable(v6)
	return l
}

// match returns the most specific entry containing a, or nil.
func (l *list) match(a netip.Addr) *entry {
	if l == nil {
		return nil
	}
	t := &l.v6
	if a.Is4() {
		t = &l.v4
	}
	if i := t.lookup(addrU128(a)); i >= 0 {
		return &l.entries[i]
	}
	return nil
}

// parsePrefix parses a CIDR or a bare address; an IPv4-mapped IPv6 block
// becomes its IPv4 block because client addresses are unmapped.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "%") {
		// A zone names a local interface; it means nothing in a list.
		return netip.Prefix{}, fmt.Errorf("invalid CIDR %q: zones are not allowed", strings.TrimSpace(s))
	}
	p, err := config.ParsePrefix(s)
	if err != nil {
		return p, err
	}
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p, nil
}

// readListFile reads one CIDR or address per line; "#" starts a comment,
// blank lines are skipped. Errors name the file and line.
func readListFile(path, label, listName string) ([]entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", label, err)
	}
	defer f.Close()
	var out []entry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		p, err := parsePrefix(text)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %v", path, line, err)
		}
		out = append(out, entry{prefix: p, source: fmt.Sprintf("%s %s:%d", label, path, line), list: listName})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return out, nil
}
