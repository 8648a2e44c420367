// Copyright 2022 Juan Pablo Tosso and the OWASP Coraza contributors
// SPDX-License-Identifier: Apache-2.0

package macro

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"unsafe"

	"github.com/corazawaf/coraza/v3/collection"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
	"github.com/corazawaf/coraza/v3/types/variables"
)

type Macro interface {
	Expand(tx plugintypes.TransactionState) string
	String() string
}

var errEmptyData = errors.New("empty data")

func NewMacro(data string) (Macro, error) {
	if len(data) == 0 {
		return nil, errEmptyData
	}

	macro := &macro{
		tokens: []macroToken{},
	}
	if err := macro.compile(data); err != nil {
		return nil, err
	}
	if len(macro.tokens) > 1 {
		macro.id = textID(data)
	}
	return macro, nil
}

// textIDs numbers the texts of multi-token macros, so that the macros of
// different rules with the same text share cached expansions.
var (
	textIDsMu sync.Mutex
	textIDs   = map[string]uint32{}
)

func textID(text string) uint32 {
	textIDsMu.Lock()
	defer textIDsMu.Unlock()
	id, ok := textIDs[text]
	if !ok {
		id = uint32(len(textIDs)) + 1
		textIDs[text] = id
	}
	return id
}

// ExpansionCache holds a transaction's recent expansions of multi-token
// macros. Rules expand the same text one after another (CRS's logdata,
// "Matched Data: %{TX.0} found within %{MATCHED_VAR_NAME}: ..."), and
// while the values it names are the same strings, so is the expansion.
type ExpansionCache struct {
	entries [expansionCacheSize]expansion
}

const (
	expansionCacheSize = 16
	maxCachedParts     = 8
)

type expansion struct {
	id     uint32 // of the macro's text
	n      int    // number of parts; 0 for an empty entry
	parts  [maxCachedParts]string
	result string // the parts joined
}

// Reset drops the cached expansions.
func (c *ExpansionCache) Reset() {
	*c = ExpansionCache{}
}

// expansionCacher is implemented by transactions that keep an
// ExpansionCache.
type expansionCacher interface {
	MacroExpansionCache() *ExpansionCache
}

// lookup returns the cached expansion of macro m from parts, its tokens'
// expansions.
func (c *ExpansionCache) lookup(m *macro, parts []string) (string, bool) {
	e := &c.entries[m.id%expansionCacheSize]
	if e.id != m.id || e.n != len(parts) {
		return "", false
	}
	for i, p := range parts {
		if m.tokens[i].variable == variables.Unknown {
			// The same text has the same text tokens.
			continue
		}
		// The same string (address and length) is the same content;
		// empty strings are all the same.
		if q := e.parts[i]; len(q) != len(p) || len(p) > 0 && unsafe.StringData(q) != unsafe.StringData(p) {
			return "", false
		}
	}
	return e.result, true
}

func (c *ExpansionCache) store(id uint32, parts []string, result string) {
	e := &c.entries[id%expansionCacheSize]
	e.id, e.n = id, len(parts)
	copy(e.parts[:], parts)
	e.result = result
}

type macroToken struct {
	text     string
	variable variables.RuleVariable
	key      string
}

// macro is used to create tokenized strings that can be
// "expanded" at high speed and concurrent-safe.
// A macro contains tokens for strings and expansions
// For example: some string %{tx.var} some string
// The previous example would create 3 tokens:
// - String token: some string
// - Variable token: Variable: TX, key: var
// - String token: some string
type macro struct {
	original string
	tokens   []macroToken
	// id numbers the text of a multi-token macro (see ExpansionCache).
	id uint32
}

// Expand the pre-compiled macro expression into a string
func (m *macro) Expand(tx plugintypes.TransactionState) string {
	if len(m.tokens) == 1 {
		return expandToken(tx, m.tokens[0])
	}
	// Expand the tokens first and size the result once: RULE.msg and
	// RULE.logdata are expanded for every rule evaluated.
	var parts [maxCachedParts]string
	ps := parts[:0]
	n := 0
	for _, token := range m.tokens {
		p := expandToken(tx, token)
		ps = append(ps, p)
		n += len(p)
	}
	var cache *ExpansionCache
	if c, ok := tx.(expansionCacher); ok && len(ps) <= maxCachedParts {
		cache = c.MacroExpansionCache()
		if r, ok := cache.lookup(m, ps); ok {
			return r
		}
	}
	res := strings.Builder{}
	res.Grow(n)
	for _, p := range ps {
		res.WriteString(p)
	}
	if cache != nil {
		cache.store(m.id, ps, res.String())
	}
	return res.String()
}

func expandToken(tx plugintypes.TransactionState, token macroToken) string {
	if token.variable == variables.Unknown {
		return token.text
	}
	switch col := tx.Collection(token.variable).(type) {
	case firstValuer:
		// The first value, as Get's below, without listing them all.
		if v, ok := col.FirstValue(token.key); ok {
			return v
		}
	case collection.Keyed:
		if c := col.Get(token.key); len(c) > 0 {
			return c[0]
		}
	case collection.Single:
		return col.Get()
	default:
		if c := col.FindAll(); len(c) > 0 {
			return c[0].Value()
		}
	}

	// If the variable is known (e.g. TX) but the key is not found, we return the original text
	tx.DebugLogger().Warn().Str("variable", token.variable.Name()).Str("key", token.key).Msg("key not found in collection, returning the original text")
	return token.text
}

// firstValuer is implemented by the keyed collections that can return a
// key's first value without allocating the list Get returns.
type firstValuer interface {
	FirstValue(key string) (string, bool)
}

// compile is used to parse the input and generate the corresponding token
// Example input: %{var.foo} and %{var.bar}
// expected result:
// [0] macroToken{text: "%{var.foo}", variable: &variables.Var, key: "foo"},
// [1] macroToken{text: " and ", variable: nil, key: ""}
// [2] macroToken{text: "%{var.bar}", variable: &variables.Var, key: "bar"}
func (m *macro) compile(input string) error {
	l := len(input)
	if l == 0 {
		return fmt.Errorf("empty macro")
	}

	m.original = input
	var currentToken strings.Builder
	isMacro := false

	for i := 0; i < l; i++ {
		c := input[i]

		if c == '%' && i+1 < l && input[i+1] == '{' {
			if currentToken.Len() > 0 {
				m.tokens = append(m.tokens, macroToken{
					text:     currentToken.String(),
					variable: variables.Unknown,
					key:      "",
				})
				currentToken.Reset()
			}
			isMacro = true
			i++ // Skip '{'
			continue
		}

		if isMacro {
			if c == '}' {
				isMacro = false
				if input[i-1] == '.' {
					return fmt.Errorf("empty variable name")
				}
				varName, key, _ := strings.Cut(currentToken.String(), ".")
				v, err := variables.Parse(varName)
				if err != nil {
					return fmt.Errorf("unknown variable %q", varName)
				}
				m.tokens = append(m.tokens, macroToken{
					text:     currentToken.String(),
					variable: v,
					key:      strings.ToLower(key),
				})
				currentToken.Reset()
				continue
			}

			if !isValidMacroChar(c) {
				return fmt.Errorf("malformed variable starting with %q", "%{"+currentToken.String())
			}

			currentToken.WriteByte(c)

			if i+1 == l {
				return errors.New("malformed variable: no closing braces")
			}
			continue
		}

		currentToken.WriteByte(c)
	}

	if currentToken.Len() > 0 {
		m.tokens = append(m.tokens, macroToken{
			text:     currentToken.String(),
			variable: variables.Unknown,
			key:      "",
		})
	}
	return nil
}

func isValidMacroChar(c byte) bool {
	return c == '[' || c == ']' || c == '.' || c == '_' || c == '-' || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
}

// String returns the original string
func (m *macro) String() string {
	return m.original
}

// IsExpandable return true if there are macro expanadable tokens
// TODO(jcchavezs): this is used only in a commented out section
func (m *macro) IsExpandable() bool {
	return len(m.tokens) > 1
}
