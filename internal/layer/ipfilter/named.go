package ipfilter

import (
	"fmt"
	"path/filepath"
	"sync"

	"gopkg.in/yaml.v3"

	"pinpoint/internal/config"
	"pinpoint/internal/pipeline"
)

// SectionName is the top-level config section of named lists, shared by
// every route's ip layer:
//
//	ip_lists:
//	  office: {cidrs: [198.51.100.0/24], file: lists/office.txt}
const SectionName = "ip_lists"

// namedList is one entry of the ip_lists section.
type namedList struct {
	CIDRs []string `yaml:"cidrs"`
	File  string   `yaml:"file"`
}

// namedCache keeps the parsed ip_lists of the most recent config, so a
// large list file is read once per config load rather than once per route.
var namedCache struct {
	sync.Mutex
	cfg   *config.Config
	lists map[string][]entry
	err   error
}

func namedLists(b *pipeline.Build) (map[string][]entry, error) {
	if b.Global == nil {
		return nil, nil
	}
	namedCache.Lock()
	defer namedCache.Unlock()
	if namedCache.cfg == b.Global {
		return namedCache.lists, namedCache.err
	}
	lists, err := parseNamed(b.Global)
	namedCache.cfg, namedCache.lists, namedCache.err = b.Global, lists, err
	return lists, err
}

func parseNamed(cfg *config.Config) (map[string][]entry, error) {
	node, ok := cfg.Sections[SectionName]
	if !ok {
		return nil, nil
	}
	var raw map[string]namedList
	if err := config.DecodeNode(&node, &raw, SectionName); err != nil {
		return nil, err
	}
	out := make(map[string][]entry, len(raw))
	for name, nl := range raw {
		path := SectionName + "." + name
		var es []entry
		for i, s := range nl.CIDRs {
			p, err := parsePrefix(s)
			if err != nil {
				return nil, config.NodeError(&node, fmt.Sprintf("%s.cidrs[%d]", path, i), err.Error())
			}
			es = append(es, entry{prefix: p, source: fmt.Sprintf("%s[%d]", path, i), list: name})
		}
		if nl.File != "" {
			fe, err := readListFile(resolvePath(cfg, nl.File), path+".file", name)
			if err != nil {
				return nil, config.NodeError(&node, path+".file", err.Error())
			}
			es = append(es, fe...)
		}
		if len(es) == 0 {
			return nil, config.NodeError(&node, path, "list is empty: set cidrs or file")
		}
		out[name] = es
	}
	return out, nil
}

// resolvePath makes a list file path relative to the config file, so a
// config and its lists can move together.
func resolvePath(cfg *config.Config, p string) string {
	if filepath.IsAbs(p) || cfg == nil || cfg.File == "" {
		return p
	}
	return filepath.Join(filepath.Dir(cfg.File), p)
}

// keyNode finds a mapping key's node for error positions.
func keyNode(n *yaml.Node, key string) *yaml.Node {
	if n != nil && n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return n.Content[i+1]
			}
		}
	}
	return n
}
